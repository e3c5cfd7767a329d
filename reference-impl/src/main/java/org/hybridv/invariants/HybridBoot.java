package org.hybridv.invariants;

import java.util.EnumSet;
import java.util.Set;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.NativePlatform;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.CpuidLeaves;
import org.hybridv.xen.HypercallPage;

/**
 * I8 Hybrid boot, over one kernel operation from {@code pre}:
 * <ol>
 * <li><b>I8-transition</b> — the boot stage only moves along {@link BootStage#next()} (possibly several edges in one
 * {@code Boot}); no other operation moves it, except SWITCH_MMU, along its one edge;</li>
 * <li><b>I8-hypercall</b> — no VMCALL before the hypercall page is installed (the hypervisor's own flag), unless
 * the operation is a deliberately forced SWITCH_MMU;</li>
 * <li><b>I8-detect</b> — the hypervisor is "detected" iff CPUID 0x40000000 returned the Xen signature;</li>
 * <li><b>I8-native</b> — on bare metal the kernel never issues VMCALL or writes the hypercall MSR, and never gets
 * past {@link BootStage#NATIVE} (what it does is exactly what a native kernel does; I3 compares the rest).</li>
 * </ol>
 */
public final class HybridBoot {
    private HybridBoot() {}

    public static InvariantResult check(GuestSystem pre, KernelStep step) {
        BootStage from = pre.kernel().stage();
        BootStage to = step.post().kernel().stage();
        GuestOp op = step.op();
        boolean forced = op instanceof GuestOp.SwitchMmu s && s.force();
        Set<BootStage> reachable = op instanceof GuestOp.Boot ? reachable(from)
                : op instanceof GuestOp.SwitchMmu ? (from.next().isEmpty() || forced ? EnumSet.of(BootStage.DIRECT)
                        : from.next()) : EnumSet.noneOf(BootStage.class);
        if (to != from && !(reachable.contains(to) && (!forced || from == BootStage.HYPERCALL_PAGE_INSTALLED))) {
            return new InvariantResult.Violated("I8-transition", op + " moved the boot stage " + from + " → " + to);
        }
        boolean signature = false;
        boolean askedCpuid = false;
        for (Executed e : step.trace()) {
            GuestInstruction i = e.instruction();
            if (i instanceof GuestInstruction.Vmcall && !forced) {
                if (e.pre() instanceof NativePlatform) {
                    return new InvariantResult.Violated("I8-native", op + ": VMCALL on bare metal");
                }
                XenPlatform x = (XenPlatform) e.pre();
                if (!x.machine().domain(x.vcpu().domain()).hypercallPageInstalled()) {
                    return new InvariantResult.Violated("I8-hypercall", op + ": " + e.regs()
                            + " before the hypercall page was installed");
                }
            }
            if (i instanceof GuestInstruction.Wrmsr w && w.msr() == HypercallPage.MSR
                    && e.pre() instanceof NativePlatform) {
                return new InvariantResult.Violated("I8-native", op + ": WRMSR to the hypercall MSR on bare metal");
            }
            if (i instanceof GuestInstruction.Cpuid c && c.leaf() == CpuidLeaves.BASE) {
                askedCpuid = true;
                signature = e.observed() instanceof Observed.Cpuid r && r.ebx() == CpuidLeaves.SIGNATURE_EBX
                        && r.ecx() == CpuidLeaves.SIGNATURE_ECX && r.edx() == CpuidLeaves.SIGNATURE_EDX;
            }
        }
        if (askedCpuid && from == BootStage.LONG) {
            boolean detected = to != BootStage.NATIVE && to != BootStage.LONG;
            if (detected != signature) {
                return new InvariantResult.Violated("I8-detect", "CPUID 0x40000000 " + (signature ? "returned"
                        : "did not return") + " the Xen signature, yet the kernel went to " + to);
            }
        }
        if (step.post().platform() instanceof NativePlatform && to.compareTo(BootStage.NATIVE) > 0) {
            return new InvariantResult.Violated("I8-native", "on bare metal the kernel reached " + to);
        }
        return InvariantResult.HOLDS;
    }

    private static Set<BootStage> reachable(BootStage from) {
        Set<BootStage> out = EnumSet.noneOf(BootStage.class);
        java.util.ArrayDeque<BootStage> todo = new java.util.ArrayDeque<>(from.next());
        while (!todo.isEmpty()) {
            BootStage s = todo.pop();
            if (out.add(s)) {
                todo.addAll(s.next());
            }
        }
        return out;
    }
}
