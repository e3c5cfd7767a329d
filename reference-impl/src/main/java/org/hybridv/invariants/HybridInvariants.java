package org.hybridv.invariants;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.Executed;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.xen.XenMachine;

/**
 * Every invariant after one lockstep step of the hybrid kernel: I3, I4, I5 and I8 on the guest (I8 on the twin
 * too), and the hypervisor's I1, I2 and I6 on the machine after the step, I7 on every instruction the guest executed.
 */
public final class HybridInvariants {
    private HybridInvariants() {}

    /** A violated invariant: its name (I1 … I8) and the violation. */
    public record Violation(String invariant, InvariantResult.Violated violation) {
        @Override
        public String toString() {
            return invariant + " " + violation;
        }
    }

    /** The violations after {@code s}, in invariant order; empty when everything holds. */
    public static List<Violation> check(Lockstep.LockstepStep s) {
        List<Violation> out = new ArrayList<>();
        KernelStep g = s.guest();
        if (g.post().platform() instanceof XenPlatform x) {
            XenMachine m = x.machine();
            add(out, "I1", Isolation.check(m));
            add(out, "I2", TranslationIntegrity.check(m));
        }
        add(out, "I3", NativeEquivalence.check(s));
        add(out, "I4", PageFaultDelivery.check(s));
        add(out, "I5", SafeSwitch.check(g));
        if (g.post().platform() instanceof XenPlatform x) {
            add(out, "I6", TlbCoherence.check(x.machine()));
        }
        for (Executed e : g.trace()) {
            if (e.pre() instanceof XenPlatform before && e.hv().isPresent()) {
                InvariantResult r = ExitCorrectness.check(before.machine(), before.vcpu(), e.instruction(),
                        e.hv().get());
                if (!r.holds()) {
                    add(out, "I7", r);
                    break;
                }
            }
        }
        add(out, "I8", HybridBoot.check(s.pre().guest(), g));
        add(out, "I8", HybridBoot.check(s.pre().twin(), s.twin()));
        return out;
    }

    private static void add(List<Violation> out, String name, InvariantResult r) {
        if (r instanceof InvariantResult.Violated v) {
            out.add(new Violation(name, v));
        }
    }
}
