package org.hybridv.xen;

import org.hybridv.vmx.CrAccessExits;
import org.hybridv.vmx.EntryOutcome;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmEntries;
import org.hybridv.vmx.VmExits;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.Hex;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Processor;
import org.hybridv.x86.X86Machine;

/**
 * Running vCPUs: {@code post = run(pre, vcpu, instruction)} enters the vCPU if needed (VMLAUNCH, later VMRESUME),
 * executes one guest instruction in non-root operation ({@link NonRoot#execute}), and if it exits, handles the exit
 * ({@code post = handle(pre, exit)}) in root operation, ready to resume the guest. One handler per exit reason the VMX
 * layer produces.
 *
 * <p>The hypervisor learns what the guest did from the exit information and, like Xen's emulator decoding the
 * faulting instruction, from the instruction itself (the value a faulting store writes, the source of a MOV to CR3).
 */
public final class Hypervisor {
    private Hypervisor() {}

    /** {@link #run(XenMachine, VcpuId, GuestInstruction, Hypercall)} with no hypercall registers. */
    public static HvStep run(XenMachine pre, VcpuId id, GuestInstruction insn) {
        return run(pre, id, insn, Hypercall.of(0));
    }

    /** VMCALL with RAX = {@code call.number()} and the arguments in RDI, RSI, RDX, R10, R8. */
    public static HvStep hypercall(XenMachine pre, VcpuId id, Hypercall call) {
        return run(pre, id, new GuestInstruction.Vmcall(), call);
    }

    /**
     * One instruction of vCPU {@code id}, on the pCPU it is placed on ({@link Vcpu#pcpu}), which becomes the active
     * one. If another vCPU is running in non-root operation on that pCPU, it is first preempted (an
     * external-interrupt exit: the timer; the handler does nothing). Then the vCPU's VMCS becomes current (VMPTRLD),
     * the processor enters it (VMLAUNCH the first time, VMRESUME after), and the instruction executes.
     *
     * A vCPU of a shadow-mode domain runs on its shadow tables (the hardware CR3 is its shadow root); a #PF exit that
     * fills the shadow re-runs the access ({@link VcpuOutcome.ShadowFilled}), so the outcome is what the guest
     * observes. A vCPU with paging off (any mode) is not entered: its boot instructions are emulated
     * ({@link PagingOffEmulation}). While a hypercall placed on that pCPU waits for flush acknowledgements (its own or
     * another vCPU's) nothing runs: the outcome is {@link VcpuOutcome.InHypercall}, no VM exit, no change (Xen rule
     * IPI-5).
     *
     * @param regs the general-purpose registers a VMCALL passes (number and arguments)
     */
    public static HvStep run(XenMachine pre, VcpuId id, GuestInstruction insn, Hypercall regs) {
        java.util.Optional<VcpuId> busy = FlushIpis.occupying(pre, pre.vcpu(id).pcpu());
        if (busy.isPresent()) {
            // IPI-5: the hypervisor spins there for a hypercall's flush acknowledgements; no guest instruction runs
            HypercallInFlight h = pre.tlbFlush().inFlight(busy.get()).orElseThrow();
            return new HvStep(new VcpuOutcome.InHypercall(busy.get(), h.call(), h.awaiting()), pre, 0);
        }
        pre = pre.withActive(pre.vcpu(id).pcpu()); // the vCPU runs on its pCPU (Xen v->processor)
        pre = EventDelivery.atVmEntry(pre, id); // EVT-9: an event upcall is injected at the VM entry
        pre = X2ApicEmulation.atVmEntry(pre, id); // EMU-5, EMU-6: the emulated APIC timer's interrupt, PV EOI
        HvStep step = runOnce(pre, id, insn, regs);
        int exits = step.vmExits();
        for (int i = 0; i < MAX_SHADOW_FILLS && step.outcome() instanceof VcpuOutcome.ShadowFilled; i++) {
            step = runOnce(step.machine(), id, insn, regs);
            exits += step.vmExits();
        }
        return new HvStep(step.outcome(), step.machine(), exits);
    }

    // ---- scheduling: placing vCPUs on pCPUs ---------------------------------------------------------------------

    /**
     * Migrates vCPU {@code id} to pCPU {@code pcpu} (Xen's scheduler moving {@code v->processor}; the toolstack's
     * {@code vcpu_set_affinity} or load balancing): nothing happens if it is already there. Otherwise, on its old
     * pCPU it is first taken out of non-root operation if it runs there (an external-interrupt exit, as in
     * {@link #run}) and its VMCS is cleared there ({@link #vmclearOnDeparture}, MIG-1); then it is placed on
     * {@code pcpu} and its VPID is invalidated there ({@link #flushVpidOnArrival}, MIG-2). The machine's active pCPU
     * is unchanged. The vCPU does not run: its next {@link #run} enters it on {@code pcpu} (VMPTRLD, VMLAUNCH). A vCPU
     * whose hypercall waits for flush acknowledgements is not moved (Xen rule IPI-5: it is inside the hypervisor,
     * which is not preempted there).
     *
     * @throws IllegalArgumentException for an unknown vCPU or pCPU (API misuse)
     */
    public static XenMachine schedule(XenMachine pre, VcpuId id, int pcpu) {
        Vcpu v = pre.vcpu(id);
        if (pcpu < 0 || pcpu >= pre.pcpuCount()) {
            throw new IllegalArgumentException("no pCPU " + pcpu + " (the machine has " + pre.pcpuCount() + ")");
        }
        if (v.pcpu() == pcpu || pre.tlbFlush().inFlight(id).isPresent()) {
            // IPI-5: a vCPU inside a hypercall that waits for flush acknowledgements is not descheduled
            return pre;
        }
        XenMachine m = vmclearOnDeparture(pre, id);
        m = m.withVcpu(m.vcpu(id).withPcpu(pcpu));
        m = flushVpidOnArrival(m, id, pcpu);
        return m.withActive(pre.active());
    }

    /**
     * MIG-1 (Intel SDM Vol. 3C §24.1 and §24.11.1): before vCPU {@code id} is moved off its pCPU, its VMCS is made
     * inactive there with VMCLEAR. "A logical processor [...] that has made a VMCS active should use VMCLEAR to make
     * it inactive before another logical processor makes it active" (the processor may keep VMCS data in its own
     * storage, §24.11.1); VMCLEAR writes that data back and sets the launch state to clear (§24.1), so the next entry,
     * on the new pCPU, must be VMLAUNCH. If the VMCS is current on the old pCPU, that pCPU is left with no current VMCS
     * (VMCLEAR of the current VMCS invalidates the current-VMCS pointer) — after the vCPU, if it ran, is taken out of
     * non-root operation (an external-interrupt exit: the hypervisor runs on that pCPU to move it). Seeded fault
     * {@link Fault#MIGRATION_WITHOUT_VMCLEAR}: the VMCS is only dropped as the old pCPU's current one (VMPTRLD of
     * another), not VMCLEARed: its launch state stays launched.
     */
    static XenMachine vmclearOnDeparture(XenMachine pre, VcpuId id) {
        int from = pre.vcpu(id).pcpu();
        XenMachine m = pre.withActive(from);
        if (m.isCurrent(id)) {
            if (m.processor().mode() == VmxMode.NON_ROOT) {
                VmxProcessor out = VmExits.exit(m.processor(), ExitInformation.of(ExitReason.EXTERNAL_INTERRUPT, 0));
                m = m.withCurrent(id, out);
            }
            m = saveGuestRegisters(m, from); // CTX-1: the pCPU is left with no vCPU
            Pcpu p = m.pcpu(from);
            // "If the operand is the same as the current-VMCS pointer, that pointer is made invalid" (VMCLEAR)
            boolean clear = !m.faults().breaks(Fault.MIGRATION_WITHOUT_VMCLEAR);
            m = m.withVcpu(m.vcpu(id).withLaunched(m.vcpu(id).launched() && !clear)).withPcpu(from, new Pcpu(p.cpu(), p.tlb(), p.tlbTag(),
                    VmxMode.ROOT, XenMachine.noVmcs(p.cpu()), false, java.util.Optional.empty()));
            return m;
        }
        // a VMCS that is active but not current (another was loaded since) is cleared just the same
        return m.faults().breaks(Fault.MIGRATION_WITHOUT_VMCLEAR) ? m : m.withVcpu(m.vcpu(id).withLaunched(false));
    }

    /**
     * Xen rule CTX-1 (Xen {@code vmx/entry.S} for CR2: {@code vmx_asm_vmexit_handler} stores it in
     * {@code v->arch.hvm.guest_cr[2]} and {@code vmx_asm_do_vmentry} loads it back; PKRU is non-lazy XSAVE state, saved
     * by {@code vcpu_save_fpu} and restored by {@code vcpu_restore_fpu_nonlazy} in {@code __context_switch}): the
     * guest's CR2 and PKRU are not VMCS fields (Intel
     * SDM Vol. 3C §24.4.1 lists the guest-state area's registers; neither is among them), and VM entries and exits
     * leave the two registers as they are (§26.3.2, §27.3), so the hypervisor keeps each vCPU's
     * values itself: when pCPU {@link XenMachine#active} goes from the vCPU current on it (if any) to vCPU {@code to},
     * it saves the outgoing vCPU's live CR2 and PKRU ({@link #saveGuestRegisters}) and loads {@code to}'s saved ones
     * into the processor, before {@code to}'s VMCS is made current and entered. Without it a guest would run with
     * another guest's page-fault address and protection-key rights. This model keeps a vCPU's saved values in the
     * CR2 and PKRU of its VMCS guest {@code CpuState} (slots the processor never reads at VM entry, SDM §26.3.2);
     * while the vCPU is current on its pCPU the live registers are its values ({@link XenMachine#guestCpu}). Xen
     * reloads CR2 at every entry and PKRU at every context switch; the hypervisor never writes either register in
     * between except to inject a #PF (CR2), so switching both at the vCPU change is the same for every guest.
     */
    static XenMachine switchGuestRegisters(XenMachine m, VcpuId to) {
        XenMachine s = saveGuestRegisters(m, m.active());
        CpuState saved = s.vcpu(to).vmcs().guest().cpu();
        VmxProcessor p = s.processor();
        X86Machine x = p.machine();
        return s.withProcessor(p.withMachine(x.withCpu(x.cpu().withCr2(saved.cr2()).withPkru(saved.pkru()))));
    }

    /**
     * CTX-1, the saving half: the live CR2 and PKRU of pCPU {@code q} become its current vCPU's saved values (Xen
     * {@code guest_cr[2]} and {@code vcpu_save_fpu}); nothing changes if no vCPU is current there.
     */
    static XenMachine saveGuestRegisters(XenMachine m, int q) {
        Pcpu p = m.pcpu(q);
        if (p.current().isEmpty()) {
            return m;
        }
        Vcpu out = m.vcpu(p.current().get());
        GuestState g = out.vmcs().guest();
        CpuState c = g.cpu();
        if (c.cr2() == p.cpu().cr2() && c.pkru() == p.cpu().pkru()) {
            return m;
        }
        return m.withVcpu(out.withVmcs(out.vmcs().withGuest(new GuestState(c.withCr2(p.cpu().cr2())
                .withPkru(p.cpu().pkru()), g.rip()))));
    }

    /**
     * MIG-2 (Xen rule; Xen {@code vmx_do_resume}: "if ( v->arch.hvm.vmx.active_cpu != smp_processor_id() ) [...]
     * hvm_asid_flush_vcpu(v)", which gives the vCPU a fresh VPID generation on its new pCPU): a vCPU that arrives on
     * pCPU {@code pcpu} must not use translations its VPID left there when it last ran on it — they predate every
     * INVLPG and flush it executed elsewhere since. Here a vCPU's VPID is fixed (CTL-5), so the hypervisor invalidates
     * the VPID on the destination: INVVPID single-context (Intel SDM Vol. 3C §28.3.3.3, "all mappings tagged with the
     * VPID"), on {@code pcpu}'s TLB. Xen does it when the vCPU next enters there; doing it at the migration is the
     * same for the vCPU, since only it fills entries with its VPID and it can next run only on {@code pcpu}, after
     * this. Seeded fault {@link Fault#MIGRATION_WITHOUT_VPID_FLUSH}: no invalidation.
     */
    static XenMachine flushVpidOnArrival(XenMachine m, VcpuId id, int pcpu) {
        if (m.faults().breaks(Fault.MIGRATION_WITHOUT_VPID_FLUSH)) {
            return m;
        }
        return TlbDiscipline.invvpidOn(m, pcpu, InvvpidType.SINGLE_CONTEXT, m.vcpu(id).vpid(), 0);
    }

    /** Fills one access may need before it completes (one per fault; a read fill then a write fill at most). */
    static final int MAX_SHADOW_FILLS = 4;

    private static HvStep runOnce(XenMachine pre, VcpuId id, GuestInstruction insn, Hypercall regs) {
        Vcpu v = pre.vcpu(id);
        if (!v.vmcs().guest().cpu().cr0().pg()) {
            return PagingOffEmulation.step(pre, id, insn, regs);
        }
        XenMachine m = pre;
        if (m.current().isPresent() && !m.current().get().equals(id) && m.processor().mode() == VmxMode.NON_ROOT) {
            VmxProcessor out = VmExits.exit(m.processor(), ExitInformation.of(ExitReason.EXTERNAL_INTERRUPT, 0));
            m = m.withCurrent(m.current().get(), out);
        }
        VmxProcessor p = m.processor();
        if (p.mode() == VmxMode.ROOT) {
            if (v.blocked()) {
                return new HvStep(new VcpuOutcome.Blocked(), pre, 0); // not entered: no VM exit
            }
            if (!m.isCurrent(id)) {
                m = switchGuestRegisters(m, id); // CTX-1: the pCPU changes vCPU
                p = m.processor();
            }
            p = new VmxProcessor(p.machine(), VmxMode.ROOT, v.vmcs(), v.launched(), p.capabilities());
            EntryStep e = VmEntries.enter(p, v.launched());
            if (!(e.outcome() instanceof EntryOutcome.Entered)) {
                // SDM 26.8: a failure during or after loading guest state is reported by a VM exit (reason bit
                // 31); VMfailValid (SDM 26.2-26.3) is an instruction failure, no exit.
                return new HvStep(new VcpuOutcome.EntryFailed(e.outcome().toString()), m.withCurrent(id,
                        e.processor()), e.outcome() instanceof EntryOutcome.EntryFailed ? 1 : 0);
            }
            p = e.processor();
        }
        GuestStep g = NonRoot.execute(p, insn);
        // the vCPU ran in non-root operation here and may have cached translations under its VPID (TLB-9)
        XenMachine after = TlbDiscipline.joinDirtyCpumask(m.withCurrent(id, g.processor()), id.domain(), m.active());
        GuestOutcome o = g.outcome();
        if (o instanceof GuestOutcome.Retired r) {
            return new HvStep(new VcpuOutcome.Retired(r.value()), after);
        }
        if (o instanceof GuestOutcome.Delivered d) {
            return new HvStep(new VcpuOutcome.Delivered(d.vector(), d.errorCode(), d.errorCodeValid(), d.cr2()),
                    after);
        }
        return handle(after, id, ((GuestOutcome.Exited) o).exit(), insn, regs);
    }

    /** The exit handler for {@code exit}, which vCPU {@code id} (current, in root operation now) just took. */
    public static HvStep handle(XenMachine m, VcpuId id, ExitInformation exit, GuestInstruction insn,
            Hypercall regs) {
        Domain d = m.domain(id.domain());
        switch (exit.reason()) {
            case CPUID:
                return new HvStep(CpuidLeaves.cpuid(d.identity(), ((GuestInstruction.Cpuid) insn).leaf()), m);
            case VMCALL:
                return vmcall(m, id, regs);
            case MSR_WRITE:
                return wrmsr(m, id, (GuestInstruction.Wrmsr) insn);
            case MSR_READ:
                if (DeviceIntercepts.isX2Apic(((GuestInstruction.Rdmsr) insn).msr())) {
                    return X2ApicEmulation.rdmsr(m, id, ((GuestInstruction.Rdmsr) insn).msr());
                }
                return inject(m, exit.reason(), GeneralProtection.VECTOR, 0, true, 0, "MSR",
                        "RDMSR " + Hex.of(((GuestInstruction.Rdmsr) insn).msr())
                                + ": not an MSR the hypervisor emulates (the hypercall MSR is write-only)");
            case EXCEPTION_OR_NMI:
                return exception(m, id, d, exit, insn);
            case CR_ACCESS:
                if (insn instanceof GuestInstruction.MovFromCr) {
                    // Xen rule SH-6: the guest reads the CR3 it loaded, not the shadow root (hvm_get_guest_cr)
                    return new HvStep(new VcpuOutcome.Resumed(exit.reason(), m.vcpu(id).shadow().guestCr3(),
                            "guest_cr3"), m);
                }
                return crAccess(m, id, d, (GuestInstruction.MovToCr) insn);
            case INVLPG:
                return d.mode() == MmuMode.SHADOW ? ShadowPaging.invlpg(m, id, exit.qualification())
                        : invlpg(m, id, exit.qualification());
            case HLT:
                return VirtualTime.hlt(m, id); // TIME-3: blocked unless an event is pending
            case IO_INSTRUCTION: {
                GuestInstruction.Io io = (GuestInstruction.Io) insn;
                if (UartEmulation.owns(io.port())) {
                    return UartEmulation.io(m, id, io);
                }
                if (AtaDisk.owns(io.port())) {
                    return AtaEmulation.io(m, id, io);
                }
                long ones = io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1;
                return new HvStep(new VcpuOutcome.Resumed(exit.reason(), io.in() ? ones : 0, "I/O"), m);
            }
            case EPT_VIOLATION:
            case EPT_MISCONFIG:
                return new HvStep(new VcpuOutcome.GuestError(exit.reason(), exit.guestPhysicalAddress(), "HAP-1",
                        "guest-physical " + Hex.of(exit.guestPhysicalAddress()) + " of d" + d.id()
                                + (d.machineFrame(exit.guestPhysicalAddress() >>> 12) < 0 ? " is not in the p2m"
                                        : " is mapped, the access is not permitted")
                                + ": Xen crashes the domain"), m);
            case EXTERNAL_INTERRUPT:
                return new HvStep(new VcpuOutcome.Resumed(exit.reason(), 0, "timer"), m);
            default:
                return new HvStep(new VcpuOutcome.NotModelled(exit.reason(), "no handler for " + exit.reason()), m);
        }
    }

    // ---- VMCALL ------------------------------------------------------------------------------------------------

    /**
     * Hypercall entry (Xen {@code hvm_hypercall}): refused with -EPERM unless the guest runs at CPL 0 (BOOT-4,
     * XSA-76; real mode has CPL 0 and is accepted, as in Xen). Then by number: {@code mmu_update},
     * {@code update_va_mapping}, {@code mmuext_op} go to the direct-paging core — refused with -EOPNOTSUPP unless the
     * domain is in direct mode (MU-1, XSA-109: a translated domain must never reach the PV MMU) — and the core's TLB
     * obligations are performed before the guest resumes (by flush IPIs on other pCPUs, {@link FlushIpis}). {@code memory_op} (12):
     * {@link #memoryOp}. SWITCH_MMU (48): {@link SwitchMmu#switchMmu} — the CPL check here comes first and is the CPL
     * clause of its PRE-1. Any other number: -ENOSYS.
     */
    static HvStep vmcall(XenMachine m, VcpuId id, Hypercall call) {
        CpuState g = m.vcpu(id).vmcs().guest().cpu();
        long nr = call.number();
        if (!cplPermits(m, g.cpl(), nr)) {
            return refused(m, call, Errno.EPERM, "XSA-76", "hypercall from CPL " + g.cpl());
        }
        if (m.domain(id.domain()).identity().personality() == CpuidIdentity.Personality.KVM) {
            return refused(m, call, Errno.ENOSYS, "BOOT-7", "a KVM-personality domain has no Xen hypercalls"
                    + " (no hypercall page, no PV MMU, no SWITCH_MMU)");
        }
        if (PvHypercalls.handles(call)) {
            return PvHypercalls.vmcall(m, id, call); // event channels, grant tables, timer, idle (docs/pv-interfaces.md)
        }
        if (nr == Hypercalls.HYPERVISOR_MEMORY_OP) {
            return memoryOp(m, id, call);
        }
        if (nr == Hypercalls.HYPERVISOR_SWITCH_MMU) {
            return SwitchMmu.switchMmu(m, id, call.arg(0));
        }
        boolean mmu = nr == Hypercalls.HYPERVISOR_MMU_UPDATE || nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING
                || nr == Hypercalls.HYPERVISOR_MMUEXT_OP;
        if (!mmu) {
            return refused(m, call, Errno.ENOSYS, "hvm_hypercall", "no hypercall " + nr + " in this model");
        }
        return vmcallAgain(m, id, call, new java.util.TreeMap<>());
    }

    /**
     * The PV MMU part of {@link #vmcall}, also the re-execution of a hypercall whose type change waited for its flush
     * (Xen rule IPI-3; {@code flushed}: the frames whose flush was acknowledged, {@link FlushIpis#mmuHypercall}): MU-1
     * (the domain is in direct mode), then the direct-paging core, then its TLB obligations — on other pCPUs by flush
     * IPIs the hypercall waits for (IPI-1, IPI-2).
     */
    static HvStep vmcallAgain(XenMachine m, VcpuId id, Hypercall call,
            java.util.SortedMap<Long, FrameInfo> flushed) {
        Domain d = m.domain(id.domain());
        if (!pvMmuPermitted(m, d)) {
            return refused(m, call, Errno.EOPNOTSUPP, "MU-1", "d" + d.id() + " is in " + d.mode()
                    + " mode: the PV MMU hypercalls are for direct mode only (XSA-109)");
        }
        if (MmuBatch.isBatch(call)) {
            return MmuBatch.start(m, id, call); // MU-7: the batched form, request by request
        }
        return FlushIpis.mmuHypercall(m, id, call, flushed);
    }

    /**
     * The direct-paging core's result for PV MMU hypercall {@code call} of {@code id} on {@code s}; {@code preemptible}:
     * an L2–L4 pin only begins, its entries are validated in later steps ({@link PreemptibleValidation}, TYP-8).
     */
    static MmuResult mmuCore(DirectPagingState s, VcpuId id, Hypercall call, boolean preemptible) {
        long nr = call.number();
        if (preemptible) {
            return PreemptibleValidation.pinBegin(s, id.domain(), call.arg(1),
                    PreemptibleValidation.pinType(call).orElseThrow());
        }
        if (nr == Hypercalls.HYPERVISOR_MMU_UPDATE) {
            return DirectPaging.mmuUpdate(s, id, call.arg(0), call.arg(1));
        } else if (nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING) {
            return DirectPaging.updateVaMapping(s, id, call.arg(0), call.arg(1), call.arg(2));
        }
        return DirectPaging.mmuextOp(s, id, (int) call.arg(0), call.arg(1), call.arg(2));
    }

    /**
     * XSA-76 (and SWITCH_MMU's PRE-1 CPL clause): whether a hypercall {@code nr} from guest privilege level
     * {@code cpl} may proceed — only from CPL 0. Seeded faults: {@link Fault#HYPERCALL_FROM_USER} lets every hypercall
     * through from any CPL; {@link Fault#SWITCH_MMU_FROM_USER} lets SWITCH_MMU through from any CPL.
     */
    static boolean cplPermits(XenMachine m, int cpl, long nr) {
        return cpl == 0 || m.faults().breaks(Fault.HYPERCALL_FROM_USER)
                || (nr == Hypercalls.HYPERVISOR_SWITCH_MMU && m.faults().breaks(Fault.SWITCH_MMU_FROM_USER));
    }

    /**
     * MU-1 (XSA-109): whether domain {@code d} may use the PV MMU hypercalls ({@code mmu_update},
     * {@code update_va_mapping}, {@code mmuext_op}) — only in direct mode. Seeded fault
     * {@link Fault#PV_MMU_FROM_TRANSLATED}: any mode may.
     */
    static boolean pvMmuPermitted(XenMachine m, Domain d) {
        return d.mode() == MmuMode.DIRECT || m.faults().breaks(Fault.PV_MMU_FROM_TRANSLATED);
    }

    /**
     * {@code memory_op}: only {@code XENMEM_translate_gpfn_list} (Xen 3.x {@code memory.h}, one gfn per call here;
     * any other command -ENOSYS, rule "XENMEM"). RAX = the machine frame of guest frame {@code arg1}: the p2m's entry
     * in shadow and HAP modes; in direct mode guest-physical = machine on the domain's own frames (POST-3, identity),
     * the frame table saying which frames those are. A gfn that is not the domain's RAM → -EINVAL (rule "P2M").
     * Nothing changes. Any MMU mode, CPL 0 (checked before).
     */
    static HvStep memoryOp(XenMachine m, VcpuId id, Hypercall call) {
        if (call.arg(0) != Hypercalls.XENMEM_TRANSLATE_GPFN_LIST) {
            return refused(m, call, Errno.ENOSYS, "XENMEM", "memory_op command " + call.arg(0)
                    + " is not modelled (only XENMEM_translate_gpfn_list = 8)");
        }
        long mfn = translateGpfn(m, m.domain(id.domain()), call.arg(1));
        if (mfn < 0) {
            return refused(m, call, Errno.EINVAL, "P2M", "gfn " + Hex.of(call.arg(1)) + " is not RAM of d"
                    + id.domain());
        }
        return new HvStep(new VcpuOutcome.HypercallDone(call, java.util.List.of(), mfn), m);
    }

    /** The machine frame of guest frame {@code gfn} of {@code d} (see {@link #memoryOp}), or -1. */
    static long translateGpfn(XenMachine m, Domain d, long gfn) {
        long mfn = d.mode() == MmuMode.DIRECT ? gfn : d.machineFrame(gfn);
        if (mfn < 0 || !m.frames().contains(mfn) || m.frames().get(mfn).owner() != d.id()) {
            return -1;
        }
        return mfn;
    }

    static HvStep refused(XenMachine m, Hypercall call, Errno errno, String rule, String reason) {
        return new HvStep(new VcpuOutcome.HypercallRefused(call, errno, rule, reason), m);
    }

    // ---- WRMSR -------------------------------------------------------------------------------------------------

    /**
     * WRMSR exit. The MSR leaf base+2 names (0x40000000; 0x40000200 with Viridian, {@link CpuidIdentity#hypercallMsr})
     * installs the hypercall page ({@link HypercallPage}):
     * the stubs are written into the target frame and the domain's flag set; in shadow mode, when that frame is one of
     * the guest's own page tables, every shadow of the domain is dropped (SH-4: the hypervisor's write changed what
     * they mirror). A bad page index or an unsuitable page → #GP(0) injected, nothing changed (Xen
     * {@code guest_wrmsr_xen}). Any other intercepted MSR → #GP(0).
     */
    static HvStep wrmsr(XenMachine m, VcpuId id, GuestInstruction.Wrmsr w) {
        if (DeviceIntercepts.isX2Apic(w.msr())) {
            return X2ApicEmulation.wrmsr(m, id, w.msr(), w.value());
        }
        if (m.domain(id.domain()).identity().personality() == CpuidIdentity.Personality.KVM) {
            return KvmMsrs.wrmsr(m, id, w);
        }
        if (w.msr() != m.domain(id.domain()).identity().hypercallMsr()) {
            return inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0, "MSR",
                    "WRMSR " + Hex.of(w.msr()) + ": not an MSR the hypervisor emulates");
        }
        Domain d = m.domain(id.domain());
        DirectPagingState s = m.paging();
        HypercallPage.Target t = HypercallPage.target(s, d, w.value());
        if (t.refusal() != null) {
            return inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0, "guest_wrmsr_xen",
                    "WRMSR " + Hex.of(w.msr()) + " = " + Hex.of(w.value()) + ": " + t.refusal());
        }
        long[] words = HypercallPage.contents();
        org.hybridv.x86.PhysicalMemory mem = s.memory();
        for (int i = 0; i < words.length; i++) {
            mem = mem.write(t.mfn(), i, words[i]);
        }
        XenMachine after = m.withPaging(s.withMemory(mem));
        if (d.mode() == MmuMode.SHADOW && ShadowPaging.guestPageTables(m, d).contains(t.mfn())) {
            // the stubs overwrite one of the guest's own page tables: no shadow may outlive what it mirrors (SH-4)
            after = ShadowPaging.dropAll(after, d.id());
        }
        after = after.withDomain(after.domain(d.id()).withHypercallPageInstalled(true));
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "hypercall_page_installed"), after);
    }

    // ---- exceptions --------------------------------------------------------------------------------------------

    /**
     * Exception exit. #PF in direct mode: a supervisor-mode write to a present page (error P|W, U/S = 0) is
     * emulated as a page-table write ({@link DirectPaging#ptwrEmulate}, PTW-1..3, 8-byte store of the instruction's
     * value); if it is not a page-table write, or refused, the #PF is reflected to the guest with its architectural
     * error code and CR2 (the faulting address) — as is every other #PF that exits in direct mode. In shadow mode the
     * #PF is the entry to shadow paging ({@link ShadowPaging#pageFault}, SH-1..SH-4). Other exceptions (#DB, #AC,
     * #MC of {@code HVM_TRAP_MASK}) are reflected.
     */
    static HvStep exception(XenMachine m, VcpuId id, Domain d, ExitInformation exit, GuestInstruction insn) {
        int vector = exit.interruption().vector();
        if (vector != PageFault.VECTOR) {
            return inject(m, exit.reason(), vector, exit.interruptionErrorCode(),
                    exit.interruption().errorCodeValid(), 0, "reflect", "exception " + vector + " reflected");
        }
        long cr2 = exit.qualification();
        int ec = exit.interruptionErrorCode();
        if (d.mode() == MmuMode.SHADOW) {
            org.hybridv.x86.Access a = insn instanceof GuestInstruction.MemoryAccess ma ? ma.access()
                    : org.hybridv.x86.Access.read(cr2);
            return ShadowPaging.pageFault(m, id, cr2, a);
        }
        boolean ptwrCase = (ec & (ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.RSVD))
                == (ErrorCode.P | ErrorCode.WR);
        if (d.mode() == MmuMode.DIRECT && ptwrCase && insn instanceof GuestInstruction.MemoryAccess a
                && a.access().isWrite()) {
            MmuResult r = DirectPaging.ptwrEmulate(m.paging(), id, cr2, a.access().value(), 8);
            if (r instanceof MmuResult.Success ok) {
                XenMachine after = TlbDiscipline.apply(m.withPaging(ok.state()), ok.effects());
                return new HvStep(new VcpuOutcome.Emulated(cr2, a.access().value(), ok.effects(), "PTW-1"), after);
            }
            MmuResult.Refused x = (MmuResult.Refused) r;
            return inject(m, exit.reason(), PageFault.VECTOR, ec, true, cr2, x.rule(), "not emulated: " + x);
        }
        return inject(m, exit.reason(), PageFault.VECTOR, ec, true, cr2, "PTW-1",
                "#PF " + new ErrorCode(ec) + " at " + Hex.of(cr2) + " is not a page-table write");
    }

    /**
     * Injects exception {@code vector} into the current guest at the next VM entry (VM-entry interruption
     * information); for #PF the hypervisor first loads the guest's CR2 with the faulting address (Xen
     * {@code hvm_inject_page_fault}). Nothing else changes.
     */
    static HvStep inject(XenMachine m, ExitReason reason, int vector, int errorCode, boolean errorCodeValid, long cr2,
            String rule, String why) {
        XenMachine after = m;
        if (vector == PageFault.VECTOR) {
            X86Machine x = m.processor().machine();
            after = m.withProcessor(m.processor().withMachine(x.withCpu(x.cpu().withCr2(cr2))));
        }
        return new HvStep(new VcpuOutcome.Injected(reason, vector, errorCode, errorCodeValid, cr2, rule, why), after);
    }

    // ---- CR accesses, INVLPG ----------------------------------------------------------------------------------

    /**
     * CR-access exit (MOV to CR; MOV from CR3 never exits: CR3-store exiting is off except in shadow mode).
     * <ul>
     * <li>MOV to CR3 in direct mode: the new root is validated like {@code MMUEXT_NEW_BASEPTR} (MX-3, Xen
     * {@code new_guest_cr3}) and loaded with the non-global flush of a CR3 load (TLB-4); refused → #GP(0)
     * injected, nothing changed. In shadow mode: {@link ShadowPaging#movToCr3} (the guest's CR3 is kept, shadows
     * dropped). MOV from CR3 exits only in shadow mode and returns the guest's CR3 (CR3-store exiting hides the
     * shadow root).</li>
     * <li>MOV to CR0 changing a host-owned bit (WP in direct mode): the guest's value becomes the read shadow and
     * the hardware CR0 takes the value with WP forced to 1 (MISC-1; shadow mode likewise); the architectural checks
     * of MOV to CR0 apply (#GP injected on failure).</li>
     * </ul>
     */
    static HvStep crAccess(XenMachine m, VcpuId id, Domain d, GuestInstruction.MovToCr mov) {
        Vcpu v = m.vcpu(id);
        Vmcs vmcs = v.vmcs();
        CpuState g = vmcs.guest().cpu();
        if (mov.cr() == 3) {
            if (d.mode() == MmuMode.SHADOW) {
                return ShadowPaging.movToCr3(m, id, mov.value());
            }
            long mfn = (mov.value() & org.hybridv.x86.Entry.ADDRESS_FIELD) >>> 12;
            MmuResult r = DirectPaging.newBaseptr(m.paging(), id, mfn);
            if (r instanceof MmuResult.Refused x) {
                return inject(m, ExitReason.CR_ACCESS, GeneralProtection.VECTOR, 0, true, 0, x.rule(),
                        "MOV to CR3 " + Hex.of(mov.value()) + " refused: " + x);
            }
            MmuResult.Success ok = (MmuResult.Success) r;
            XenMachine after = TlbDiscipline.apply(m.withPaging(ok.state()), ok.effects());
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.CR_ACCESS, mov.value(), "MX-3"), after);
        }
        if (mov.cr() == 0) {
            long mask = vmcs.controls().cr0GuestHostMask();
            long hw = CrAccessExits.valueAfterMovToCr(0, g.cr0().bits(), mov.value());
            org.hybridv.x86.Cr0 cr0 = new org.hybridv.x86.Cr0((hw & 1) != 0,
                    d.mode() != MmuMode.HAP || ((hw >>> org.hybridv.x86.Cr0.WP_BIT) & 1) != 0,
                    ((hw >>> org.hybridv.x86.Cr0.PG_BIT) & 1) != 0);
            InstructionStep step = Processor.movToCr0(m.processor().machine().withCpu(g), cr0);
            if (!(step.outcome() instanceof InstructionOutcome.Retired)) {
                return inject(m, ExitReason.CR_ACCESS, GeneralProtection.VECTOR, 0, true, 0, "SDM MOV CR0",
                        "MOV to CR0 " + Hex.of(mov.value()) + " faults");
            }
            Vmcs nu = vmcs.withGuest(new GuestState(g.withCr0(cr0), vmcs.guest().rip()))
                    .withControls(vmcs.controls().withCr0Ownership(mask, mov.value() & mask));
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.CR_ACCESS, mov.value(), "MISC-1"),
                    m.withVcpu(v.withVmcs(nu)));
        }
        return new HvStep(new VcpuOutcome.NotModelled(ExitReason.CR_ACCESS, "MOV to CR" + mov.cr()
                + " with host-owned bits: no CR4 bit is host-owned in this model"), m);
    }

    /**
     * INVLPG exit (shadow mode intercepts it): Xen {@code paging_invlpg} drops a non-canonical address (TLB-6,
     * XSA-168) and otherwise invalidates the address for the vCPU's VPID (INVVPID individual-address).
     */
    static HvStep invlpg(XenMachine m, VcpuId id, long linear) {
        if (!Canonical.isCanonical(linear)) {
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.INVLPG, 0, "TLB-6"), m);
        }
        XenMachine after = TlbDiscipline.invvpid(m, InvvpidType.INDIVIDUAL_ADDRESS, m.vcpu(id).vpid(), linear);
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.INVLPG, 0, "TLB-6"), after);
    }
}
