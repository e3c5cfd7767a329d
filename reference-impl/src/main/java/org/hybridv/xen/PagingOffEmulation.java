package org.hybridv.xen;

import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.VmExits;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.Hex;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.Processor;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * Booting with paging off under VMX without "unrestricted guest": a vCPU (any MMU mode) whose guest CR0.PG = 0 is
 * never entered — VM entry would fail, IA32_VMX_CR0_FIXED0 fixes PE = PG = 1 (SDM 26.3.1.1) — and the hypervisor
 * emulates the instructions the boot path issues, as Xen does: {@code vmx_realmode} emulates a real-mode guest
 * without unrestricted guest, and protected mode without paging runs on a 1:1 shadow ({@code vmx_update_guest_cr},
 * BOOT-1). The model counts one VM exit per emulated instruction and records, in the vCPU's VMCS, the exit
 * the instruction causes when intercepted (CR access, WRMSR, CPUID, VMCALL, HLT; qualification 0: the emulator has the
 * instruction itself). The VMCS guest state stays the source of truth for CR0, CR3, CR4 and EFER.
 *
 * <ul>
 * <li>MOV to CR0 / CR3 / CR4 and WRMSR IA32_EFER: the x86 layer's instruction ({@link Processor#movToCr0},
 * {@link Processor#movToCr3}, {@link Processor#movToCr4}, {@link Processor#writeEfer}) on the guest's own view of its
 * CPU (guest CR3, CR0.WP of the read shadow), with its SDM guards (e.g. SDM 9.8.5: setting PG with EFER.LME = 1 and
 * CR4.PAE = 0 is #GP); a fault becomes an injected #GP(0), nothing changed. Setting PG with EFER.LME = 0 selects
 * 32-bit or PAE paging: not modelled.</li>
 * <li>CPUID → {@link CpuidLeaves}; WRMSR 0x40000000 → the hypercall page ({@link Hypervisor#wrmsr}); VMCALL → the
 * hypercall dispatcher ({@link Hypervisor#vmcall}); HLT → blocked.</li>
 * <li>Any other instruction (a memory access with paging off above all: the kernel's early tables are put in memory
 * by the domain builder, like Linux's statically built {@code early_top_pgt}) → {@code NotModelled}, not entered.</li>
 * </ul>
 *
 * Per MMU mode, where the CR3 and CR0 go ({@link #movToCr3}, {@link #turnPagingOn}): shadow mode keeps the guest's
 * CR3 in {@link ShadowState} and the hardware CR3 on the shadow root; direct mode validates the root when paging goes
 * on (MX-3); HAP loads CR3 as is. CR0.WP stays forced in shadow and direct modes (MISC-1), the guest's value in the
 * read shadow. No VM-entry control "IA-32e mode guest" is modelled ({@code VmEntries}), so none is set when LMA
 * becomes 1: the next VM entry takes IA-32e mode from the guest state.
 */
public final class PagingOffEmulation {
    private PagingOffEmulation() {}

    /** One instruction of vCPU {@code id}, whose guest CR0.PG = 0. */
    public static HvStep step(XenMachine pre, VcpuId id, GuestInstruction insn, Hypercall regs) {
        Vcpu v = pre.vcpu(id);
        if (v.blocked()) {
            return new HvStep(new VcpuOutcome.Blocked(), pre, 0);
        }
        ExitReason reason = exitReason(insn);
        if (reason == null) {
            return new HvStep(new VcpuOutcome.NotModelled(null, insn + " with CR0.PG = 0: only the boot path"
                    + " (MOV to CR0/CR3/CR4, WRMSR, CPUID, VMCALL, HLT) is emulated"), pre, 0);
        }
        XenMachine m = rootOperation(pre);
        Vcpu cur = m.vcpu(id);
        m = m.withVcpu(cur.withVmcs(cur.vmcs().withExitInformation(ExitInformation.of(reason, 0))));
        HvStep s;
        if (insn instanceof GuestInstruction.MovToCr mov) {
            s = movToCr(m, id, mov);
        } else if (insn instanceof GuestInstruction.Wrmsr w) {
            s = w.msr() == Efer.MSR_INDEX ? writeEfer(m, id, w.value()) : Hypervisor.wrmsr(m, id, w);
        } else if (insn instanceof GuestInstruction.Cpuid c) {
            s = new HvStep(CpuidLeaves.cpuid(m.domain(id.domain()).identity(), c.leaf()), m);
        } else if (insn instanceof GuestInstruction.Vmcall) {
            s = Hypervisor.vmcall(m, id, regs);
        } else {
            s = new HvStep(new VcpuOutcome.Blocked(), m.withVcpu(m.vcpu(id).withBlocked(true)));
        }
        return new HvStep(s.outcome(), s.machine(), 1);
    }

    /** The exit an emulated instruction stands for, or null if it is not emulated. */
    static ExitReason exitReason(GuestInstruction insn) {
        if (insn instanceof GuestInstruction.MovToCr mov && (mov.cr() == 0 || mov.cr() == 3 || mov.cr() == 4)) {
            return ExitReason.CR_ACCESS;
        }
        if (insn instanceof GuestInstruction.Wrmsr) {
            return ExitReason.MSR_WRITE;
        }
        if (insn instanceof GuestInstruction.Cpuid) {
            return ExitReason.CPUID;
        }
        if (insn instanceof GuestInstruction.Vmcall) {
            return ExitReason.VMCALL;
        }
        if (insn instanceof GuestInstruction.Hlt) {
            return ExitReason.HLT;
        }
        return null;
    }

    /** A vCPU running in non-root operation is preempted first (an external-interrupt exit: the timer). */
    static XenMachine rootOperation(XenMachine m) {
        if (m.current().isPresent() && m.processor().mode() == VmxMode.NON_ROOT) {
            VmxProcessor out = VmExits.exit(m.processor(), ExitInformation.of(ExitReason.EXTERNAL_INTERRUPT, 0));
            return m.withCurrent(m.current().get(), out);
        }
        return m;
    }

    /**
     * The CPU state the guest believes it has: the VMCS guest state with CR0.WP from the read shadow where WP is
     * host-owned, and in shadow mode the guest's own CR3 ({@link ShadowPaging#guestCpu}).
     */
    static CpuState guestView(Vcpu v) {
        if (v.shadow().active()) {
            return ShadowPaging.guestCpu(v);
        }
        CpuState hw = v.vmcs().guest().cpu();
        long mask = v.vmcs().controls().cr0GuestHostMask();
        if ((mask & (1L << Cr0.WP_BIT)) == 0) {
            return hw;
        }
        return hw.withCr0(hw.cr0().withWp(((v.vmcs().controls().cr0ReadShadow() >>> Cr0.WP_BIT) & 1) != 0));
    }

    /** The guest's view as an x86 machine: machine memory, the processor's TLB, the vCPU's VPID as tag. */
    static X86Machine x86(XenMachine m, Vcpu v) {
        X86Machine p = m.processor().machine();
        return new X86Machine(p.memory(), guestView(v), p.tlb(), new TlbTag(v.vpid(), TlbTag.NO_EPT));
    }

    /**
     * Writes the guest's new view {@code g} back into the VMCS (and the TLB the instruction left): CR0 with WP forced
     * where WP is host-owned (MISC-1) and the guest's CR0 in the read shadow; in shadow mode the guest's CR3 into
     * {@link ShadowState} and the hardware CR3 kept on the shadow root.
     */
    static XenMachine commit(XenMachine m, VcpuId id, CpuState g, X86Machine after) {
        Vcpu v = m.vcpu(id);
        Vmcs vmcs = v.vmcs();
        long mask = vmcs.controls().cr0GuestHostMask();
        boolean wpOwned = (mask & (1L << Cr0.WP_BIT)) != 0;
        CpuState hw = g.withCr0(wpOwned ? g.cr0().withWp(true) : g.cr0()).withCr2(vmcs.guest().cpu().cr2());
        ShadowState sh = v.shadow();
        if (sh.active()) {
            sh = sh.withGuestCr3(g.cr3().bits());
            hw = hw.withCr3(Cr3.ofFrame(sh.root()));
        }
        Vmcs nu = vmcs.withGuest(new GuestState(hw, vmcs.guest().rip()))
                .withControls(vmcs.controls().withCr0Ownership(mask, g.cr0().bits() & mask));
        XenMachine out = m.withProcessor(m.processor().withMachine(m.processor().machine().withTlb(after.tlb())));
        return out.withVcpu(v.withVmcs(nu).withShadow(sh));
    }

    static HvStep gp(XenMachine m, String rule, String why) {
        return Hypervisor.inject(m, ExitReason.CR_ACCESS, GeneralProtection.VECTOR, 0, true, 0, rule, why);
    }

    /** MOV to CR0 / CR3 / CR4 with paging off. */
    static HvStep movToCr(XenMachine m, VcpuId id, GuestInstruction.MovToCr mov) {
        Vcpu v = m.vcpu(id);
        X86Machine x = x86(m, v);
        if (mov.cr() == 3) {
            return movToCr3(m, id, x, mov.value());
        }
        if (mov.cr() == 4) {
            InstructionStep s = Processor.movToCr4(x, Cr4.ofBits(mov.value()));
            if (!(s.outcome() instanceof InstructionOutcome.Retired)) {
                return gp(m, "SDM MOV CR4", "MOV to CR4 " + Hex.of(mov.value()) + " faults: " + s.outcome());
            }
            return resumed(commit(m, id, s.machine().cpu(), s.machine()), mov.value(), "SDM MOV CR4");
        }
        Cr0 cr0 = Cr0.ofBits(mov.value());
        if (cr0.pg() && !x.cpu().efer().lme() && cr0.pe()) {
            return new HvStep(new VcpuOutcome.NotModelled(ExitReason.CR_ACCESS, "MOV to CR0 " + Hex.of(mov.value())
                    + " sets PG with EFER.LME = 0: 32-bit and PAE paging are not modelled"), m);
        }
        InstructionStep s = Processor.movToCr0(x, cr0);
        if (!(s.outcome() instanceof InstructionOutcome.Retired)) {
            return gp(m, "SDM 9.8.5", "MOV to CR0 " + Hex.of(mov.value()) + " faults: " + s.outcome());
        }
        if (cr0.pg()) {
            return turnPagingOn(m, id, s.machine());
        }
        return resumed(commit(m, id, s.machine().cpu(), s.machine()), mov.value(), "SDM MOV CR0");
    }

    /**
     * MOV to CR3 with paging off: the x86 guards (CPL, reserved bits) apply; the value is only recorded, as Xen's
     * {@code hvm_set_cr3} does while paging is disabled — in shadow mode in {@link ShadowState#guestCr3()}
     * ({@link ShadowPaging#movToCr3} keeps it there too), in direct and HAP modes in the guest CR3. Nothing is
     * validated until paging goes on.
     */
    static HvStep movToCr3(XenMachine m, VcpuId id, X86Machine x, long value) {
        InstructionStep s = Processor.movToCr3(x, value);
        if (!(s.outcome() instanceof InstructionOutcome.Retired)) {
            return gp(m, "SDM MOV CR3", "MOV to CR3 " + Hex.of(value) + " faults: " + s.outcome());
        }
        return resumed(commit(m, id, s.machine().cpu(), s.machine()), value, "SDM MOV CR3");
    }

    /**
     * MOV to CR0 setting PG (IA-32e mode now active, SDM 9.8.5), per MMU mode:
     * <ul>
     * <li>shadow: the hardware CR0 gets PE = PG = 1 with WP forced, the hardware CR3 stays the shadow root; the
     * guest's root gfn must be RAM (Xen {@code sh_update_cr3}: {@code bad_cr3} crashes the domain; here a
     * {@code GuestError}, nothing changed); the shadows are dropped ({@link ShadowPaging#dropAll}) so the tree is
     * built from the new tables on demand;</li>
     * <li>direct: the guest CR3 must name an L4 of the domain that validates, taken as its {@code guest_table}
     * exactly like MOV to CR3 in direct mode ({@link DirectPaging#newBaseptr}, MX-3); a refusal → #GP(0) injected,
     * nothing changed;</li>
     * <li>HAP: the guest's CR3 is used as is (the EPT confines it, HAP-1).</li>
     * </ul>
     */
    static HvStep turnPagingOn(XenMachine m, VcpuId id, X86Machine after) {
        Domain d = m.domain(id.domain());
        CpuState g = after.cpu();
        long value = g.cr0().bits();
        if (d.mode() == MmuMode.SHADOW) {
            long gpa = g.cr3().pml4Base();
            if (d.machineFrame(gpa >>> 12) < 0) {
                return new HvStep(new VcpuOutcome.GuestError(ExitReason.CR_ACCESS, gpa, "SH-1", "paging on with CR3 "
                        + Hex.of(g.cr3().bits()) + ": the root's gfn is not in d" + d.id() + "'s p2m (Xen: bad_cr3)"),
                        m);
            }
            XenMachine c = ShadowPaging.dropAll(commit(m, id, g, after), d.id());
            return resumed(c, value, "SH-4");
        }
        if (d.mode() == MmuMode.DIRECT) {
            MmuResult r = DirectPaging.newBaseptr(m.paging(), id, g.cr3().pml4Frame());
            if (r instanceof MmuResult.Refused x) {
                return gp(m, x.rule(), "paging on with CR3 " + Hex.of(g.cr3().bits()) + " refused: " + x);
            }
            MmuResult.Success ok = (MmuResult.Success) r;
            XenMachine c = commit(m.withPaging(ok.state()), id, g, after);
            return resumed(TlbDiscipline.apply(c, ok.effects()), value, "MX-3");
        }
        return resumed(commit(m, id, g, after), value, "HAP-5");
    }

    /** WRMSR IA32_EFER with paging off (SDM 9.8.5: LME may change only while CR0.PG = 0). */
    static HvStep writeEfer(XenMachine m, VcpuId id, long value) {
        X86Machine x = x86(m, m.vcpu(id));
        InstructionStep s = Processor.writeEfer(x, Efer.ofBits(value));
        if (!(s.outcome() instanceof InstructionOutcome.Retired)) {
            return Hypervisor.inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0, "SDM 9.8.5",
                    "WRMSR IA32_EFER " + Hex.of(value) + " faults: " + s.outcome());
        }
        XenMachine c = commit(m, id, s.machine().cpu(), s.machine());
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "SDM 9.8.5"), c);
    }

    static HvStep resumed(XenMachine m, long value, String rule) {
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.CR_ACCESS, value, rule), m, 1);
    }
}
