package org.hybridv.scenario.hybrid;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.NativePlatform;
import org.hybridv.guest.XenPlatform;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.xen.Facts;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.scenario.xen.XenStep.InvariantState;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.VcpuOutcome;

/**
 * Runs the hybrid steps: {@code post = Lockstep.step(pre, op)} through the reference, every invariant checked, then
 * the guest's result as facts compared with the step's expectations. Nothing here decides a kernel question.
 */
final class HybridExecutors {
    private HybridExecutors() {}

    static StepResult kernel(MachineState s, HybridStep.Kernel step) {
        HybridState st = s.get(HybridModule.HYBRID);
        Lockstep before = st.lockstep();
        if (st.shared()) {
            // One machine, one owner: the hypervisor section's state is the machine the kernel's vCPU runs on.
            XenPlatform p = (XenPlatform) before.guest().platform();
            before = new Lockstep(new GuestSystem(before.guest().kernel(), new XenPlatform(s.get(XenModule.XEN)
                    .machine(), p.vcpu())), before.twin(), before.diverged());
        }
        Lockstep.LockstepStep l = before.step(step.operation());
        List<HybridInvariants.Violation> found = HybridInvariants.check(l);
        KernelStep g = l.guest();
        Map<String, String> facts = Facts.of(seen(g));
        // On bare metal the guest is its own twin: there is no second result to show.
        boolean onBareMetal = g.post().platform() instanceof NativePlatform;
        String text = render(g) + (onBareMetal ? "" : "; natively " + l.twin().result());
        List<String> notes = new ArrayList<>();
        for (HybridInvariants.Violation v : found) {
            notes.add(v.invariant() + " violated by this step: " + v.violation());
        }
        Lockstep next = l.post();
        MachineState after = s.with(HybridModule.HYBRID, st.after(next, found));
        if (st.shared()) {
            after = after.with(XenModule.XEN, after.get(XenModule.XEN).withMachine(((XenPlatform) g.post()
                    .platform()).machine()));
        }
        return new StepResult(after,
                new Observation(facts.get("result"), text, facts), step.expect() == null ? List.of() : Facts.compare(step.expect(), seen(g)), notes);
    }

    /** The step's facts as an expectation that names them all (those its result has). */
    static HybridStep.KernelExpect seen(KernelStep g) {
        KernelResult r = g.result();
        HybridStep.KernelExpect facts = HybridStep.KernelExpect.of(r); // what the result itself carries
        VcpuOutcome.HypercallRefused refusal = r instanceof KernelResult.SwitchRefused ? switchRefusal(g) : null;
        boolean refused = r instanceof KernelResult.SwitchRefused;
        return new HybridStep.KernelExpect(facts.result(), g.post().kernel().stage(), g.exits().total(),
                g.faults().size(), g.trace().stream().filter(e -> e.observed().isPageFault())
                        .mapToInt(e -> e.exits().total()).sum(), facts.pid(), facts.vector(), facts.errorCode(),
                facts.value(), facts.cr2(), facts.root(), !refused ? null : refusal == null ? "none"
                        : refusal.errno().name(), !refused ? null : refusal == null ? "none" : refusal.rule(),
                facts.jiffies(), facts.clock());
    }

    /** The hypervisor's refusal of the step's (last) SWITCH_MMU, if it refused one. */
    static VcpuOutcome.HypercallRefused switchRefusal(KernelStep g) {
        VcpuOutcome.HypercallRefused last = null;
        for (Executed e : g.trace()) {
            if (e.isHypercall(Hypercalls.HYPERVISOR_SWITCH_MMU) && e.hv().isPresent()
                    && e.hv().get().outcome() instanceof VcpuOutcome.HypercallRefused x) {
                last = x;
            }
        }
        return last;
    }

    static String word(KernelResult r) {
        String n = r.getClass().getSimpleName();
        return Character.toLowerCase(n.charAt(0)) + n.substring(1);
    }

    private static String render(KernelStep g) {
        StringBuilder b = new StringBuilder(g.result().toString());
        VcpuOutcome.HypercallRefused x = g.result() instanceof KernelResult.SwitchRefused ? switchRefusal(g) : null;
        if (x != null) {
            b.append(" (-").append(x.errno()).append(", ").append(x.rule()).append(": ").append(x.reason())
                    .append(")");
        }
        b.append(", stage ").append(g.post().kernel().stage());
        if (!g.faults().isEmpty()) {
            b.append(", received ").append(g.faults());
        }
        b.append(" [").append(g.exits()).append("]");
        return b.toString();
    }

    static StepResult checkHybrid(MachineState s, HybridStep.CheckHybrid step) {
        HybridState st = s.get(HybridModule.HYBRID);
        StringBuilder text = new StringBuilder();
        InvariantState[] seen = new InvariantState[HybridStep.HybridInvariants.NAMES.size()];
        for (int n = 0; n < seen.length; n++) {
            String i = HybridStep.HybridInvariants.NAMES.get(n);
            HybridInvariants.Violation v = st.violations().stream().filter(x -> x.invariant().equals(i)).findFirst()
                    .orElse(null);
            seen[n] = InvariantState.of(v == null);
            text.append(text.length() == 0 ? "" : "; ").append(v == null ? i + " holds" : v.toString());
        }
        text.append(" (over ").append(st.steps()).append(" kernel step(s))");
        HybridStep.HybridInvariants facts = new HybridStep.HybridInvariants(seen[0], seen[1], seen[2], seen[3],
                seen[4], seen[5], seen[6], seen[7]);
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), facts);
        return new StepResult(s, new Observation(st.violations().isEmpty() ? "holds" : "violated", text.toString(),
                Facts.of(facts)), checks);
    }
}
