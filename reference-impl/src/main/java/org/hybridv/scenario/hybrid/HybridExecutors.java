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
                new Observation(facts.get("result"), text, facts), checks(step.expect(), g), notes);
    }

    static Map<String, String> facts(KernelStep g) {
        Map<String, String> f = new LinkedHashMap<>();
        KernelResult r = g.result();
        f.put("result", word(r));
        f.put("stage", g.post().kernel().stage().name());
        f.put("exits", Integer.toString(g.exits().total()));
        f.put("faults", Integer.toString(g.faults().size()));
        f.put("pfExits", Integer.toString(pfExits(g)));
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

    /** The facts the expectation names, in the format's order, compared as values with the step's. */
    private static List<Check> checks(HybridStep.KernelExpect e, KernelStep g) {
        List<Check> out = new ArrayList<>();
        if (e == null) {
            return out;
        }
        KernelResult r = g.result();
        equal(out, "result", e.result() == null ? null : e.result().toString(), word(r));
        equal(out, "stage", e.stage(), g.post().kernel().stage());
        number(out, "exits", e.exits(), (long) g.exits().total(), Long::toString);
        number(out, "faults", e.faults(), (long) g.faults().size(), Long::toString);
        number(out, "pfExits", e.pfExits(), (long) pfExits(g), Long::toString);
        Observed.Fault fault = r instanceof KernelResult.Killed k && k.why() instanceof Observed.Fault x ? x : null;
        number(out, "pid", e.pid(), r instanceof KernelResult.Created c ? Long.valueOf(c.pid())
                : r instanceof KernelResult.Killed k ? Long.valueOf(k.pid()) : null, Long::toString);
        number(out, "vector", e.vector(), fault == null ? null : (long) fault.vector(), Long::toString);
        number(out, "errorCode", e.errorCode(), fault == null ? null : fault.errorCode() & 0xFFFF_FFFFL, Render::hex);
        number(out, "value", e.value(), r instanceof KernelResult.Read v ? v.value() : null, Render::hex);
        number(out, "cr2", e.cr2(), fault == null ? null : fault.cr2(), Render::hex);
        number(out, "root", e.root(), r instanceof KernelResult.Switched sw ? sw.root() : null, Render::hex);
        VcpuOutcome.HypercallRefused x = r instanceof KernelResult.SwitchRefused ? switchRefusal(g) : null;
        boolean refused = r instanceof KernelResult.SwitchRefused;
        equal(out, "errno", e.errno(), !refused ? "absent" : x == null ? "none" : x.errno().name());
        equal(out, "rule", e.rule(), !refused ? "absent" : x == null ? "none" : x.rule());
        return out;
    }

    private static void equal(List<Check> out, String what, Object expected, Object observed) {
        if (expected != null) {
            out.add(Check.equal(what, expected, observed));
        }
    }

    /** A number when expected; an observed null is a fact the outcome does not have ("absent"). */
    private static void number(List<Check> out, String what, Number expected, Long observed,
            java.util.function.LongFunction<String> render) {
        if (expected != null) {
            out.add(observed == null ? new Check(what, render.apply(expected.longValue()), "absent", false)
                    : Check.value(what, expected.longValue(), observed, render));
        }
    }

    private static int pfExits(KernelStep g) {
        return g.trace().stream().filter(e -> e.observed().isPageFault()).mapToInt(e -> e.exits().total()).sum();
    }

    static StepResult checkHybrid(MachineState s, HybridStep.CheckHybrid step) {
        HybridState st = s.get(HybridModule.HYBRID);
        Map<String, String> facts = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (String i : HybridStep.HybridInvariants.NAMES) {
            HybridInvariants.Violation v = st.violations().stream().filter(x -> x.invariant().equals(i)).findFirst()
                    .orElse(null);
            facts.put(i, v == null ? "holds" : "violated");
            text.append(text.length() == 0 ? "" : "; ").append(v == null ? i + " holds" : v.toString());
        }
        text.append(" (over ").append(st.steps()).append(" kernel step(s))");
        List<Check> checks = new ArrayList<>();
        for (int i = 0; step.expect() != null && i < 8; i++) {
            String name = HybridStep.HybridInvariants.NAMES.get(i);
            equal(checks, name, step.expect().all().get(i), InvariantState.of(facts.get(name).equals("holds")));
        }
        return new StepResult(s, new Observation(st.violations().isEmpty() ? "holds" : "violated", text.toString(),
                facts), checks);
    }
}
