package org.hybridv.explore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import org.hybridv.check.Verdict;
import org.hybridv.xen.Faults;

/**
 * A transition system built from a configuration's world ({@link HypervisorSystem}, {@link HybridSystem}), with what
 * an exploration needs besides the search: its symmetry reduction and how a finding becomes a scenario.
 *
 * @param <S> a state
 */
public interface ExploredSystem<S> extends TransitionSystem<S> {
    /** The symmetry reduction in use, if any. */
    default Optional<Symmetry> symmetry() {
        return Optional.empty();
    }

    /** The property whose scenarios the counterexamples are ({@code origin.property}). */
    String property();

    /**
     * The scenario body ({@code machine} and {@code steps}) of the run of {@code actions} from the initial state
     * that ends in {@code violation}, written by the property's own scenario function.
     */
    ObjectNode scenario(List<Integer> actions, Faults faults, Verdict.Violated violation);

    /**
     * {@link #scenario(List, Faults, Verdict.Violated)} from initial state number {@code initial} of
     * {@link #initialStates()} (a system with one initial state ignores it).
     */
    default ObjectNode scenario(int initial, List<Integer> actions, Faults faults, Verdict.Violated violation) {
        return scenario(actions, faults, violation);
    }

    /** The system of {@code config}'s world with {@code faults}; {@code symmetry}: whether its declaration is used. */
    static ExploredSystem<?> of(ExploreConfig config, Faults faults, boolean symmetry) {
        return config.hybrid() ? new HybridSystem(config, faults) : new HypervisorSystem(config, faults, symmetry);
    }
}
