package org.hybridv.explore;

import java.util.List;
import java.util.function.LongPredicate;
import org.hybridv.check.Verdict;

/**
 * What the explorer searches: initial states, a finite alphabet of actions, which actions a state enables, and the
 * successor under an action (the reference's own transition function) with the invariants checked on it.
 * Implementations must be pure: the same state and action give the same transition, from any thread.
 *
 * @param <S> a state (an immutable value)
 */
public interface TransitionSystem<S> {
    /** The initial states, in a fixed order. */
    List<S> initialStates();

    /** The size of the action alphabet; actions are 0 … actionCount() - 1. */
    int actionCount();

    /** A short, stable name of action {@code a} (coverage, reports). */
    String actionName(int a);

    /** Whether {@code s} enables action {@code a}. */
    boolean enabled(S s, int a);

    /** The fingerprint of {@code s}: a 64-bit hash of its canonical encoding, never 0. */
    long fingerprint(S s);

    /** The state invariants on an initial state ({@link Verdict#HOLDS} if they hold). */
    Checked checkInitial(S s);

    /**
     * The successor of {@code s} under {@code a} (enabled), with the transition's invariants checked and the state
     * invariants checked on the successor unless {@code known} holds for its fingerprint (a state already explored
     * was checked when it was first found).
     *
     * @param depth the successor's depth (the 1-based step of a verdict)
     */
    Transition<S> step(S s, int a, int depth, LongPredicate known);

    /** A verdict and how many invariant checks it took. */
    record Checked(Verdict verdict, int checks) {}

    /**
     * A successor: the state, its fingerprint, the verdict of the invariants, how many were checked, and the
     * transition's footprint for the partial-order reduction ({@link Footprint}; null: unknown, dependent with every
     * transition).
     */
    record Transition<S>(S state, long fingerprint, Verdict verdict, int checks, Footprint footprint) {
        /** A successor with no footprint: dependent with every transition. */
        public Transition(S state, long fingerprint, Verdict verdict, int checks) {
            this(state, fingerprint, verdict, checks, null);
        }
    }
}
