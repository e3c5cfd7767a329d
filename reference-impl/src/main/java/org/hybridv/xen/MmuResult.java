package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.hybridv.x86.Checks;

/**
 * The outcome of a direct-paging operation or hypercall: {@link Success} with the post-state and the TLB obligations
 * for the caller, or {@link Refused} with the errno Xen returns and the rule that refused. A refusal carries no state:
 * the caller keeps the pre-state, so a refused operation changes nothing by construction.
 */
public sealed interface MmuResult permits MmuResult.Success, MmuResult.Refused {

    /** The operation happened; {@code effects} are in the order they arose. */
    record Success(DirectPagingState state, List<Effect> effects) implements MmuResult {
        public Success {
            Checks.notNull("state", state);
            effects = List.copyOf(effects);
        }
    }

    /**
     * The operation was refused; the hypercall returns {@code -errno}. {@code rule} is the rule ID of
     * docs/rules/xen.md (e.g. {@code L1-3}) that refused, {@code reason} says which frame, entry and value.
     */
    record Refused(Errno errno, String rule, String reason) implements MmuResult {
        public Refused {
            Checks.notNull("errno", errno);
            Checks.notNull("rule", rule);
            Checks.notNull("reason", reason);
        }

        /** This refusal with {@code where} (e.g. "L2 0x12[7]") prefixed to the reason: the path a validation took. */
        public Refused at(String where) {
            return new Refused(errno, rule, where + ": " + reason);
        }

        @Override
        public String toString() {
            return "Refused[-" + errno + " (" + rule + "): " + reason + "]";
        }
    }

    static Success ok(DirectPagingState state) {
        return new Success(state, List.of());
    }

    static Success ok(DirectPagingState state, Effect effect) {
        return new Success(state, List.of(effect));
    }

    static Refused refuse(Errno errno, String rule, String reason) {
        return new Refused(errno, rule, reason);
    }

    /** Whether the operation happened. */
    default boolean succeeded() {
        return this instanceof Success;
    }

    /** What the hypercall returns: 0 or -errno. */
    default int returnValue() {
        return this instanceof Refused r ? -r.errno().value() : 0;
    }

    /** The post-state if the operation happened, otherwise {@code pre} (a refusal changes nothing). */
    default DirectPagingState stateOr(DirectPagingState pre) {
        return this instanceof Success s ? s.state() : pre;
    }

    /** Sequencing: a refusal stops the chain; otherwise {@code next} runs on the new state and effects accumulate. */
    default MmuResult then(Function<DirectPagingState, MmuResult> next) {
        if (this instanceof Refused) {
            return this;
        }
        Success first = (Success) this;
        MmuResult second = next.apply(first.state());
        if (second instanceof Refused || first.effects().isEmpty()) {
            return second;
        }
        Success s = (Success) second;
        List<Effect> all = new ArrayList<>(first.effects());
        all.addAll(s.effects());
        return new Success(s.state(), all);
    }

    /** Sequencing with a step that cannot be refused. */
    default MmuResult map(Function<DirectPagingState, DirectPagingState> next) {
        if (this instanceof Success s) {
            return new Success(next.apply(s.state()), s.effects());
        }
        return this;
    }

    /** Sequencing that adds an effect on success. */
    default MmuResult with(Effect effect) {
        if (this instanceof Success s) {
            List<Effect> all = new ArrayList<>(s.effects());
            all.add(effect);
            return new Success(s.state(), all);
        }
        return this;
    }
}
