package org.hybridv.guest;

import java.util.List;
import org.hybridv.x86.Checks;

/**
 * One kernel operation: the system after it, its result, and every instruction it executed with what the guest
 * observed and the exits each cost.
 */
public record KernelStep(GuestOp op, GuestSystem post, KernelResult result, List<Executed> trace) {
    public KernelStep {
        Checks.notNull("op", op);
        Checks.notNull("post", post);
        Checks.notNull("result", result);
        trace = List.copyOf(trace);
    }

    /** The VM exits of the whole operation, by reason. */
    public ExitCount exits() {
        ExitCount c = ExitCount.NONE;
        for (Executed e : trace) {
            c = c.plus(e.exits());
        }
        return c;
    }

    /** The exceptions the guest received during the operation, in order. */
    public List<Observed> faults() {
        return trace.stream().map(Executed::observed).filter(o -> o instanceof Observed.Fault).toList();
    }
}
