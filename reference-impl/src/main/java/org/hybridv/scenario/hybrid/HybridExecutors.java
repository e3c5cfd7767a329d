package org.hybridv.scenario.hybrid;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.NativePlatform;
import org.hybridv.guest.XenPlatform;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.VcpuOutcome;

/**
 * Runs the hybrid steps: {@code post = Lockstep.step(pre, op)} through the reference, every invariant checked, then
 * the guest's result as facts compared with the step's expectations. Nothing here decides a kernel question.
 */
final class HybridExecutors {
    private HybridExecutors() {}

    static StepResult kernel(MachineState s, KernelStepSpec.KernelOp step) {
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
        Map<String, String> facts = facts(g);
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
                new Observation(facts.get("result"), text, facts), checks(step.expect(), facts), notes);
    }

    static Map<String, String> facts(KernelStep g) {
        Map<String, String> f = new LinkedHashMap<>();
        KernelResult r = g.result();
        f.put("result", word(r));
        f.put("stage", g.post().kernel().stage().name());
        f.put("exits", Integer.toString(g.exits().total()));
        f.put("faults", Integer.toString(g.faults().size()));
        f.put("pfExits", Integer.toString(g.trace().stream().filter(e -> e.observed().isPageFault())
                .mapToInt(e -> e.exits().total()).sum()));
        if (r instanceof KernelResult.Created c) {
            f.put("pid", Integer.toString(c.pid()));
        } else if (r instanceof KernelResult.Read v) {
            f.put("value", Render.hex(v.value()));
        } else if (r instanceof KernelResult.Killed k) {
            f.put("pid", Integer.toString(k.pid()));
            if (k.why() instanceof Observed.Fault x) {
                f.put("vector", Integer.toString(x.vector()));
                f.put("errorCode", Render.hex(x.errorCode() & 0xFFFF_FFFFL));
                f.put("cr2", Render.hex(x.cr2()));
            }
        } else if (r instanceof KernelResult.Switched sw) {
            f.put("root", Render.hex(sw.root()));
        } else if (r instanceof KernelResult.SwitchRefused) {
            VcpuOutcome.HypercallRefused x = switchRefusal(g);
            f.put("errno", x == null ? "none" : x.errno().name());
            f.put("rule", x == null ? "none" : x.rule());
        }
        return f;
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

    private static List<Check> checks(Map<String, String> expect, Map<String, String> facts) {
        List<Check> out = new ArrayList<>();
        for (Map.Entry<String, String> e : expect.entrySet()) {
            out.add(Check.of(e.getKey(), e.getValue(), facts.getOrDefault(e.getKey(), "absent")));
        }
        return out;
    }

    static StepResult checkHybrid(MachineState s, KernelStepSpec.CheckHybrid step) {
        HybridState st = s.get(HybridModule.HYBRID);
        Map<String, String> facts = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (String i : HybridDecoders.INVARIANTS) {
            HybridInvariants.Violation v = st.violations().stream().filter(x -> x.invariant().equals(i)).findFirst()
                    .orElse(null);
            facts.put(i, v == null ? "holds" : "violated");
            text.append(text.length() == 0 ? "" : "; ").append(v == null ? i + " holds" : v.toString());
        }
        text.append(" (over ").append(st.steps()).append(" kernel step(s))");
        List<Check> checks = new ArrayList<>();
        for (Map.Entry<String, String> e : step.expect().entrySet()) {
            checks.add(Check.of(e.getKey(), e.getValue(), facts.get(e.getKey())));
        }
        return new StepResult(s, new Observation(st.violations().isEmpty() ? "holds" : "violated", text.toString(),
                facts), checks);
    }
}
