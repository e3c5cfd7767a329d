package org.hybridv.invariants;

import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestState;
import org.hybridv.x86.Access;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.Translation;
import org.hybridv.x86.Walk;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * I7 Exit correctness, a check over one step {@code (pre, vcpu, instruction, HvStep)} of {@code Hypervisor.run}:
 * <ol>
 * <li><b>demanded</b> — if the step went through a VM exit, the exit the hypervisor handled (the exit information
 * the processor stored in the vCPU's VMCS, SDM §27.2) is one the VMCS execution controls of that step demand,
 * re-decided from the exit information and the instruction by this class's own statement of the SDM's rules
 * ({@link #exceptionExits} with PFEC_MASK/PFEC_MATCH, {@link #ioExits} over every port of a multi-byte access,
 * {@link #msrExits} with the four bitmap regions, {@link #crExits} with guest/host masks, read shadows and the CR3
 * controls, {@link #instructionExit}) — never by the VMX layer's decision classes, so a slip there is caught — with
 * the exit qualification the SDM prescribes (I/O, CR access, INVLPG, #PF); and if it did not exit, the controls did
 * not demand one: no retired or delivered instruction (I/O, MSR, CR access, HLT, INVLPG, CPUID, VMCALL) whose exit the
 * controls demand, no delivered exception the bitmap and PFEC filter claim;</li>
 * <li><b>guest state</b> — after a handled exit the guest's RIP and CPL are those it had (the handlers model no RIP
 * advance and no privilege change); CR2 is unchanged unless the handler injected a #PF, and then it is the faulting
 * linear address (the exit qualification);</li>
 * <li><b>reflection</b> — an injected exception is the exit's own: same vector, and for #PF the error code of the
 * exit's interruption information, which in direct mode must also be the error code a fresh walk of the guest's
 * tables gives for the access (when the fresh walk faults; a TLB-only fault is not re-derivable from the tables).</li>
 * </ol>
 * With EPT on, a memory access is also judged against {@link EptRules}, this package's own statement of the EPT walk
 * (SDM 28.2): an EPT violation or misconfiguration must be the one demanded, with its guest-physical address and
 * qualification, and an access the rules refuse must not complete (I7-ept, {@link #eptAccess}).
 * In direct mode a #PF exit must also pass the hybrid design's filter (I7-filter): the controls are the design's,
 * not only self-consistent.
 *
 * <p><b>Shadow mode (I7-shadow, SH-1..SH-4)</b>: the controls must be the shadow design's (I7-shadow-controls: every
 * #PF exits — exception bitmap bit 14, PFEC_MASK = PFEC_MATCH = 0 — and CR3-load and INVLPG exiting are on), so that
 * every guest #PF, including the intermediate ones a shadow fill absorbs before the access re-runs, was demanded;
 * "demanded" for the final exit is re-decided from the VMCS as in the other modes. A reflected #PF (SH-3) carries
 * exactly the error code of a fresh walk of the GUEST tables through the p2m ({@link GuestTables#walk} +
 * {@link PageWalk#decide}; a guest table whose gfn is not RAM reads as not present) — not the exit's own error code,
 * which is the shadow walk's — and CR2 = the faulting address; a fill, an emulated write and every other handled exit
 * leave the guest's CR2 unchanged; RIP and CPL are preserved. Cost: a few comparisons, one page walk.
 *
 * <p><b>Paging off (I7-emulated)</b>: a vCPU whose guest CR0.PG = 0 is not entered; the hypervisor emulates its boot
 * instructions ({@code PagingOffEmulation}), every one of them intercepted whatever the controls say, so "demanded"
 * is not re-decided from the controls; a step of such a vCPU must not claim the guest ran (no Retired / Delivered);
 * the guest-state and reflection checks apply as for any handled exit.
 */
public final class ExitCorrectness {
    private ExitCorrectness() {}

    /**
     * The direct-mode #PF filter (docs/hypervisor.md, "The direct-mode #PF filter"), stated here independently of
     * {@code VmcsSetup} so that a wrong setup is caught: only a supervisor-mode write to a present page exits (a
     * candidate page-table write, PTW-1).
     */
    static final int HYBRID_PFEC_MASK = ErrorCode.P | ErrorCode.WR | ErrorCode.US;
    static final int HYBRID_PFEC_MATCH = ErrorCode.P | ErrorCode.WR;

    public static InvariantResult check(XenMachine pre, VcpuId id, GuestInstruction insn, HvStep step) {
        XenMachine synced = live(pre, id);
        InvariantResult r = checkSynced(synced, id, insn, step);
        if (r.holds()) {
            r = modeControls(synced, id, insn);
        }
        if (r.holds()) {
            r = hypercallAccepted(synced, id, insn, step);
        }
        return r;
    }

    /**
     * I7-filter (controls) and I7-hap-controls, stated independently of {@code VmcsSetup}: a direct-mode vCPU with
     * paging on runs with exception-bitmap bit 14 set and the hybrid filter PFEC_MASK = P|W|U, PFEC_MATCH = P|W
     * (docs/hypervisor.md, "The direct-mode #PF filter"); a HAP vCPU with bit 14 clear and PFEC_MASK = PFEC_MATCH = 0,
     * so that no #PF exits (HAP-5; SDM 25.2: with bit 14 clear a #PF exits iff {@code (PFEC & MASK) != MATCH} — the
     * mask and match act whatever the bit, the KVM pitfall, CTL-2).
     */
    static InvariantResult modeControls(XenMachine pre, VcpuId id, GuestInstruction insn) {
        ExecutionControls c = pre.vcpu(id).vmcs().controls();
        MmuMode mode = pre.domain(id.domain()).mode();
        Object who = new Who(id, insn);
        boolean pfBit = (c.exceptionBitmap() & (1 << PageFault.VECTOR)) != 0;
        if (mode == MmuMode.DIRECT && (!pfBit || c.pfecMask() != HYBRID_PFEC_MASK
                || c.pfecMatch() != HYBRID_PFEC_MATCH)) {
            return new InvariantResult.Violated("I7-filter", who + ": the hybrid design's direct-mode filter is bit 14"
                    + " set, MASK P|W|U, MATCH P|W (only a supervisor write to a present page exits)" + bitmap(c));
        }
        if (mode == MmuMode.HAP && (pfBit || c.pfecMask() != 0 || c.pfecMatch() != 0)) {
            return new InvariantResult.Violated("I7-hap-controls", who + ": HAP mode lets every #PF reach the guest"
                    + " (bit 14 clear, PFEC mask = match = 0; a mask/match acts even with bit 14 clear)" + bitmap(c));
        }
        return InvariantResult.HOLDS;
    }

    /** The exception bitmap and #PF filter of {@code c}, as a violation of the mode's controls words them. */
    private static String bitmap(ExecutionControls c) {
        return ": the exception bitmap is " + Hex.of(c.exceptionBitmap()) + ", PFEC mask " + Hex.of(c.pfecMask())
                + " match " + Hex.of(c.pfecMatch());
    }

    /**
     * Who a violation is about, "d&lt;domain&gt; &lt;vCPU&gt; &lt;instruction&gt;", worded only when there is a
     * violation to word (most checks hold, and the wording costs more than the check).
     */
    private record Who(VcpuId id, GuestInstruction insn) {
        @Override
        public String toString() {
            return "d" + id.domain() + " " + id + " " + insn;
        }
    }

    /**
     * I7-hypercall, stated independently of the hypervisor's dispatch: an accepted hypercall
     * ({@code HypercallDone}) came from guest CPL 0 (XSA-76; SWITCH_MMU's PRE-1), and an accepted {@code mmu_update},
     * {@code update_va_mapping} or {@code mmuext_op} came from a domain in direct mode (MU-1, XSA-109). The CPL and
     * mode are the pre-state's.
     */
    static InvariantResult hypercallAccepted(XenMachine pre, VcpuId id, GuestInstruction insn, HvStep step) {
        org.hybridv.xen.Hypercall call;
        if (step.outcome() instanceof VcpuOutcome.HypercallDone done) {
            call = done.call();
        } else if (step.outcome() instanceof VcpuOutcome.InHypercall w && step.vmExits() > 0) {
            call = w.call(); // accepted and in progress, waiting for its flush acknowledgements (IPI-2)
        } else {
            return InvariantResult.HOLDS;
        }
        Object who = new Who(id, insn);
        int cpl = pre.vcpu(id).vmcs().guest().cpu().cpl();
        if (cpl != 0) {
            return new InvariantResult.Violated("I7-hypercall", who + ": hypercall " + call.number()
                    + " accepted from CPL " + cpl + " (only the guest kernel, CPL 0, may call the hypervisor: XSA-76)");
        }
        long nr = call.number();
        MmuMode mode = pre.domain(id.domain()).mode();
        boolean pvMmu = nr == Hypercalls.HYPERVISOR_MMU_UPDATE || nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING
                || nr == Hypercalls.HYPERVISOR_MMUEXT_OP;
        if (pvMmu && mode != MmuMode.DIRECT) {
            return new InvariantResult.Violated("I7-hypercall", who + ": PV MMU hypercall " + nr + " accepted from a"
                    + " domain in " + mode + " mode (MU-1, XSA-109: only direct-mode domains use the PV MMU)");
        }
        return InvariantResult.HOLDS;
    }

    /**
     * {@code pre} with vCPU {@code id}'s VMCS guest state holding the registers it had before the step: the live
     * ones if it was running (the guest-state area is only written at the next VM exit, SDM Vol. 3C §27.3).
     */
    static XenMachine live(XenMachine pre, VcpuId id) {
        org.hybridv.xen.Vcpu v = pre.vcpu(id);
        org.hybridv.x86.CpuState now = pre.guestCpu(id);
        if (now.equals(v.vmcs().guest().cpu())) {
            return pre;
        }
        return pre.withVcpu(v.withVmcs(v.vmcs().withGuest(new GuestState(now, v.vmcs().guest().rip()))));
    }

    private static InvariantResult checkSynced(XenMachine pre, VcpuId id, GuestInstruction insn, HvStep step) {
        VcpuOutcome o = step.outcome();
        if (o instanceof VcpuOutcome.EntryFailed || (o instanceof VcpuOutcome.NotModelled nm && nm.reason() == null)
                || (o instanceof VcpuOutcome.InHypercall && step.vmExits() == 0)
                || (o instanceof VcpuOutcome.Blocked && !(insn instanceof GuestInstruction.Hlt))) {
            return InvariantResult.HOLDS;
        }
        ExecutionControls c = pre.vcpu(id).vmcs().controls();
        Object who = new Who(id, insn);
        if (pre.domain(id.domain()).mode() == MmuMode.SHADOW) {
            String bad = shadowControls(c);
            if (bad != null) {
                return new InvariantResult.Violated("I7-shadow-controls", who + ": " + bad);
            }
        }
        boolean emulated = !pre.vcpu(id).vmcs().guest().cpu().cr0().pg();
        long pkruBefore = ownRegisters(pre, id).pkru() & 0xFFFF_FFFFL;
        long pkruAfter = ownRegisters(step.machine(), id).pkru() & 0xFFFF_FFFFL;
        long pkruExpected = insn instanceof GuestInstruction.Wrpkru w && o instanceof VcpuOutcome.Retired
                ? w.eax() & 0xFFFF_FFFFL : pkruBefore;
        if (pkruAfter != pkruExpected) {
            return new InvariantResult.Violated("I7-state", who + ": the guest's PKRU went from " + Hex.of(pkruBefore)
                    + " to " + Hex.of(pkruAfter) + " (" + o + "); only a WRPKRU that retires writes it (SDM Vol. 2D"
                    + " WRPKRU), VM entries and exits keep it and the hypervisor keeps it for the guest (CTX-1)");
        }
        if (!o.exited()) {
            if (emulated) {
                return new InvariantResult.Violated("I7-emulated", who + ": a vCPU with CR0.PG = 0 cannot be"
                        + " entered, yet " + o);
            }
            InvariantResult r = notExited(c, who, insn, o, pre.vcpu(id).vmcs().guest().cpu().cpl());
            return r.holds() ? eptAccess(pre, id, insn, o, null, who) : r;
        }
        XenMachine post = step.machine();
        ExitInformation exit = post.vcpu(id).vmcs().exitInformation();
        if (exit == null) {
            return new InvariantResult.Violated("I7", who + ": handled as " + o + " but no exit information");
        }
        String demanded = emulated ? null : demanded(c, exit, insn, pre.vcpu(id).vmcs().guest().cpu().cpl());
        if (demanded != null) {
            return new InvariantResult.Violated("I7-demanded", who + ": the hypervisor handled exit " + exit.reason()
                    + " (qualification " + Hex.of(exit.qualification()) + ") that the VMCS controls do not demand: "
                    + demanded);
        }
        if (!emulated) {
            InvariantResult ept = eptAccess(pre, id, insn, o, exit, who);
            if (!ept.holds()) {
                return ept;
            }
        }
        if (pre.domain(id.domain()).mode() == MmuMode.DIRECT && exit.reason() == ExitReason.EXCEPTION_OR_NMI
                && exit.interruption().vector() == PageFault.VECTOR
                && (exit.interruptionErrorCode() & HYBRID_PFEC_MASK) != HYBRID_PFEC_MATCH) {
            return new InvariantResult.Violated("I7-filter", who + ": a #PF with error code " + new ErrorCode(exit
                    .interruptionErrorCode()) + " at " + Hex.of(exit.qualification()) + " exited, but the hybrid"
                    + " design's filter (MASK P|W|U, MATCH P|W) keeps every #PF but a supervisor write to a present"
                    + " page in the guest");
        }
        // Before the step the guest's registers are live in the processor if it was running, else in its VMCS.
        GuestState before = pre.vcpu(id).vmcs().guest();
        GuestState after = post.vcpu(id).vmcs().guest();
        int cplBefore = before.cpu().cpl();
        if (before.rip() != after.rip() || cplBefore != after.cpu().cpl()) {
            return new InvariantResult.Violated("I7-state", who + ": RIP/CPL " + Hex.of(before.rip()) + "/"
                    + cplBefore + " became " + Hex.of(after.rip()) + "/" + after.cpu().cpl()
                    + " across handling of " + exit.reason());
        }
        long cr2Before = ownRegisters(pre, id).cr2();
        long cr2After = ownRegisters(post, id).cr2();
        if (o instanceof VcpuOutcome.Injected inj) {
            return injected(pre, id, insn, who, exit, inj, cr2Before, cr2After);
        }
        if (cr2After != cr2Before) {
            return new InvariantResult.Violated("I7-state", who + ": CR2 changed from " + Hex.of(cr2Before) + " to "
                    + Hex.of(cr2After) + " although the handler of " + exit.reason() + " injected no #PF (" + o + ")");
        }
        return InvariantResult.HOLDS;
    }

    /**
     * The registers holding vCPU {@code id}'s CR2 and PKRU: its pCPU's while its VMCS is current there, else those the
     * hypervisor saved for it when the pCPU last switched away (Xen rule CTX-1; neither register is a VMCS field, SDM
     * Vol. 3C §24.4.1).
     */
    private static org.hybridv.x86.CpuState ownRegisters(XenMachine m, VcpuId id) {
        org.hybridv.xen.Pcpu p = m.pcpu(m.vcpu(id).pcpu());
        return p.current().isPresent() && p.current().get().equals(id) ? p.cpu() : m.vcpu(id).vmcs().guest().cpu();
    }

    private static InvariantResult injected(XenMachine pre, VcpuId id, GuestInstruction insn, Object who,
            ExitInformation exit, VcpuOutcome.Injected inj, long cr2Before, long cr2After) {
        if (inj.vector() != PageFault.VECTOR) {
            if (cr2After != cr2Before) {
                return new InvariantResult.Violated("I7-state", who + ": CR2 changed from " + Hex.of(cr2Before)
                        + " to " + Hex.of(cr2After) + " by the injection of vector " + inj.vector());
            }
            return InvariantResult.HOLDS;
        }
        if (exit.reason() != ExitReason.EXCEPTION_OR_NMI || exit.interruption().vector() != PageFault.VECTOR) {
            return new InvariantResult.Violated("I7-reflect", who + ": #PF injected on a " + exit.reason()
                    + " exit that was not a #PF");
        }
        if (inj.cr2() != exit.qualification() || cr2After != exit.qualification()) {
            return new InvariantResult.Violated("I7-reflect", who + ": reflected #PF at " + Hex.of(
                    exit.qualification()) + " but the injected CR2 is " + Hex.of(inj.cr2()) + " and the guest's CR2 "
                    + Hex.of(cr2After));
        }
        if (pre.domain(id.domain()).mode() == MmuMode.SHADOW) {
            return shadowReflected(pre, id, insn, who, exit, inj);
        }
        if (inj.errorCode() != exit.interruptionErrorCode() || !inj.errorCodeValid()) {
            return new InvariantResult.Violated("I7-reflect", who + ": reflected #PF at " + Hex.of(exit
                    .qualification()) + " injected error code " + new ErrorCode(inj.errorCode())
                    + " but the exit's (the guest walk's) is " + new ErrorCode(exit.interruptionErrorCode()));
        }
        if (pre.domain(id.domain()).mode() == MmuMode.DIRECT && insn instanceof GuestInstruction.MemoryAccess a) {
            Access access = a.access();
            Translation t = PageWalk.translate(pre.memory(), pre.vcpu(id).vmcs().guest().cpu(), access);
            if (t instanceof PageFault pf && pf.errorCode().bits() != inj.errorCode()) {
                return new InvariantResult.Violated("I7-reflect", who + ": reflected #PF at " + Hex.of(exit
                        .qualification()) + " injected error code " + new ErrorCode(inj.errorCode())
                        + " but a fresh walk of the guest's tables gives " + pf.errorCode());
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * SH-3: in shadow mode the injected #PF's error code is the guest walk's (through the guest's own tables and the
     * p2m, with the guest's CR3 and CR0.WP), re-derived here from the pre-state; the exit's error code is the shadow
     * walk's and is not what the guest must see.
     */
    private static InvariantResult shadowReflected(XenMachine pre, VcpuId id, GuestInstruction insn, Object who,
            ExitInformation exit, VcpuOutcome.Injected inj) {
        long linear = exit.qualification();
        Access access = insn instanceof GuestInstruction.MemoryAccess a ? a.access() : Access.read(linear);
        org.hybridv.xen.Vcpu v = pre.vcpu(id);
        org.hybridv.x86.CpuState g = GuestTables.guestCpu(v);
        Walk w = GuestTables.walk(pre, v, linear);
        Integer expected;
        if (w.end() == Walk.End.READ_REFUSED) {
            expected = ErrorCode.of(false, false, false, access, g).bits();
        } else {
            Translation t = PageWalk.decide(w, g, access);
            expected = t instanceof PageFault pf ? pf.errorCode().bits() : null;
        }
        if (expected == null) {
            return new InvariantResult.Violated("I7-shadow-reflect", who + ": a #PF at " + Hex.of(linear)
                    + " was reflected (error code " + new ErrorCode(inj.errorCode()) + "), but a fresh walk of the"
                    + " guest's tables through the p2m permits the access: the hypervisor should have filled the"
                    + " shadow or emulated (SH-3)");
        }
        if (!inj.errorCodeValid() || inj.errorCode() != expected) {
            return new InvariantResult.Violated("I7-shadow-reflect", who + ": reflected #PF at " + Hex.of(linear)
                    + " injected error code " + new ErrorCode(inj.errorCode()) + " but a fresh walk of the guest's"
                    + " tables through the p2m gives " + new ErrorCode(expected) + " (SH-3)");
        }
        return InvariantResult.HOLDS;
    }

    /** Null if {@code c} are the shadow design's controls (VmcsSetup.shadow), otherwise what differs. */
    static String shadowControls(ExecutionControls c) {
        if ((c.exceptionBitmap() & (1 << PageFault.VECTOR)) == 0 || c.pfecMask() != 0 || c.pfecMatch() != 0) {
            return "shadow mode needs every #PF to exit (bitmap bit 14, PFEC mask = match = 0), but the bitmap is "
                    + Hex.of(c.exceptionBitmap()) + ", PFEC mask " + Hex.of(c.pfecMask()) + " match "
                    + Hex.of(c.pfecMatch());
        }
        if (!c.primary().cr3LoadExiting() || !c.cr3TargetValues().isEmpty()) {
            return "shadow mode needs every MOV to CR3 to exit (CR3-load exiting, no CR3-target values)";
        }
        if (!c.primary().invlpgExiting()) {
            return "shadow mode needs INVLPG exiting (the shadow leaf must be dropped)";
        }
        return null;
    }

    private static InvariantResult notExited(ExecutionControls c, Object who, GuestInstruction insn, VcpuOutcome o,
            int cpl) {
        if (o instanceof VcpuOutcome.Delivered d && d.vector() >= 0 && d.vector() <= 31
                && exceptionExits(c, d.vector(), d.errorCode())) {
            return new InvariantResult.Violated("I7-demanded", who + ": vector " + d.vector() + " error code "
                    + new ErrorCode(d.errorCode()) + " was delivered to the guest, but the exception bitmap "
                    + Hex.of(c.exceptionBitmap()) + " / PFEC mask " + Hex.of(c.pfecMask()) + " match "
                    + Hex.of(c.pfecMatch()) + " demand an exit (SDM 24.6.3, 25.2)");
        }
        if (o instanceof VcpuOutcome.Retired || o instanceof VcpuOutcome.Delivered) {
            String why = instructionExit(c, insn, cpl);
            // A privileged instruction at CPL > 0 faults before its exit (SDM 25.1.1): a delivered #GP is the
            // instruction's, and instructionExit already answers null for it.
            if (why != null) {
                return new InvariantResult.Violated("I7-demanded", who + ": " + (o instanceof VcpuOutcome.Retired
                        ? "retired" : "delivered " + o) + " in the guest, but the controls demand a VM exit: " + why);
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * I7-ept: a memory access of a vCPU with EPT on is judged against {@link EptRules}, this package's own statement of
     * SDM Vol. 3C §28.2 over the EPT paging structures in memory and the VMCS's EPTP. An EPT violation or
     * misconfiguration exit must be the one the restated rules demand for the first guest-physical access they refuse
     * (a guest paging-structure read, the write of a guest accessed/dirty flag, or the access itself): the same kind
     * (a violation is not a misconfiguration, nor the reverse), the guest-physical address of that access (SDM
     * 27.2.1), for a violation the exit qualification of table 27-7 (bits 0–2 the access, 3–5 the AND of R/W/X over the
     * EPT walk, 7 guest-linear valid, 8 final translation or paging-structure entry) and the guest-linear address; an
     * EPT exit for an instruction that makes no memory access, or for an access every guest-physical access of which
     * is permitted, is not demanded. And an access the restated rules refuse must not retire, nor end in anything but
     * that EPT exit — unless the TLB holds a combined mapping of the address for the EPTP (a cached translation may be
     * used until INVEPT, SDM 28.3.3; TLB coherence is I6's).
     */
    static InvariantResult eptAccess(XenMachine pre, VcpuId id, GuestInstruction insn, VcpuOutcome o,
            ExitInformation exit, Object who) {
        ExecutionControls c = pre.vcpu(id).vmcs().controls();
        if (!c.eptEnabled()) {
            return InvariantResult.HOLDS;
        }
        boolean eptExit = exit != null && (exit.reason() == ExitReason.EPT_VIOLATION
                || exit.reason() == ExitReason.EPT_MISCONFIG);
        if (!(insn instanceof GuestInstruction.MemoryAccess ma)) {
            return eptExit ? new InvariantResult.Violated("I7-ept", who + ": an " + exit.reason() + " exit for an"
                    + " instruction that makes no guest-physical access") : InvariantResult.HOLDS;
        }
        Access a = ma.access();
        EptRules.Expected e = EptRules.access(pre.memory(), c.eptp(), pre.vcpu(id).vmcs().guest().cpu(), a);
        if (!eptExit) {
            if (e instanceof EptRules.EptExit x && !cachedMapping(pre, pre.vcpu(id).pcpu(), c.eptp(), a.linear())) {
                return new InvariantResult.Violated("I7-ept", who + ": " + o + ", but " + x.what() + " must cause an"
                        + " EPT " + (x.gpa().end() == EptRules.End.VIOLATION ? "violation" : "misconfiguration")
                        + " exit");
            }
            return InvariantResult.HOLDS;
        }
        if (!(e instanceof EptRules.EptExit x)) {
            String why = e instanceof EptRules.GuestFault f ? f.what() + " comes first"
                    : "every guest-physical access of it is permitted (it completes at host-physical "
                            + Hex.of(((EptRules.Completed) e).hostPhysical()) + ")";
            return new InvariantResult.Violated("I7-ept", who + ": an " + exit.reason() + " exit at guest-physical "
                    + Hex.of(exit.guestPhysicalAddress()) + " that the EPT rules do not demand: " + why);
        }
        ExitReason want = x.gpa().end() == EptRules.End.VIOLATION ? ExitReason.EPT_VIOLATION
                : ExitReason.EPT_MISCONFIG;
        if (exit.reason() != want) {
            return new InvariantResult.Violated("I7-ept", who + ": an " + want + " reported as " + exit.reason()
                    + ": " + x.what() + " (SDM 28.2.3.3: not present is a violation, a misconfigured present entry a"
                    + " misconfiguration)");
        }
        if (exit.guestPhysicalAddress() != x.gpa().guestPhysical()) {
            return new InvariantResult.Violated("I7-ept", who + ": the " + want + " exit's guest-physical address"
                    + " is " + Hex.of(x.gpa().guestPhysical()) + ", not " + Hex.of(exit.guestPhysicalAddress())
                    + ": " + x.what() + " (SDM 27.2.1)");
        }
        if (exit.qualification() != x.qualification()) {
            return new InvariantResult.Violated("I7-ept", who + ": the " + want + " exit's qualification is "
                    + Hex.of(x.qualification()) + ", not " + Hex.of(exit.qualification()) + " ("
                    + qualificationDiff(x.qualification(), exit.qualification()) + "; SDM 27.2.1 table 27-7): "
                    + x.what());
        }
        if (want == ExitReason.EPT_VIOLATION && exit.guestLinearAddress() != x.linear()) {
            return new InvariantResult.Violated("I7-ept", who + ": the EPT violation's guest-linear address is "
                    + Hex.of(x.linear()) + ", not " + Hex.of(exit.guestLinearAddress()) + " (SDM 27.2.1)");
        }
        return InvariantResult.HOLDS;
    }

    /** Names of the bits of an EPT-violation exit qualification (SDM table 27-7). */
    private static final String[] EPT_QUALIFICATION_BITS = {"read", "write", "fetch", "readable", "writable",
        "executable", "bit 6", "guest-linear valid", "translated access"};

    private static String qualificationDiff(long want, long got) {
        StringBuilder b = new StringBuilder();
        long diff = want ^ got;
        for (int i = 0; i < 64; i++) {
            if (((diff >>> i) & 1) != 0) {
                b.append(b.length() == 0 ? "" : ", ").append("bit ").append(i)
                        .append(i < EPT_QUALIFICATION_BITS.length ? " (" + EPT_QUALIFICATION_BITS[i] + ")" : "")
                        .append(((want >>> i) & 1) != 0 ? " must be 1" : " must be 0");
            }
        }
        return b.toString();
    }

    /**
     * Whether pCPU {@code pcpu}'s TLB (the vCPU's: it runs there) holds a combined mapping of {@code linear} for the
     * EP4TA of {@code eptp} (SDM 28.3.1).
     */
    private static boolean cachedMapping(XenMachine pre, int pcpu, long eptp, long linear) {
        long ep4ta = eptp & EptRules.ADDRESS;
        for (org.hybridv.x86.TlbEntry t : pre.pcpu(pcpu).tlb().entries()) {
            if (t.tag().ep4ta() == ep4ta && t.covers(linear)) {
                return true;
            }
        }
        return false;
    }

    // ---- The exit decisions, restated from the SDM over the VMCS fields and the instruction ----------------------
    // Stated here on purpose, not taken from org.hybridv.vmx (ExceptionExits, IoExits, MsrExits, CrAccessExits,
    // InstructionExits, NonRoot): an invariant that re-decides with the code it checks cannot catch that code's slip.

    /**
     * SDM Vol. 3C 25.2 and 24.6.3: an exception exits iff its bit in the exception bitmap is 1 — except #PF, for
     * which "(PFEC AND PFEC_MASK) = PFEC_MATCH" selects: if the equality holds it exits iff bit 14 is 1, if not iff
     * bit 14 is 0.
     */
    static boolean exceptionExits(ExecutionControls c, int vector, int errorCode) {
        boolean bit = ((c.exceptionBitmap() >>> vector) & 1) != 0;
        if (vector != PageFault.VECTOR) {
            return bit;
        }
        boolean equality = (errorCode & c.pfecMask()) == c.pfecMatch();
        return equality == bit;
    }

    /**
     * SDM 25.1.3, I/O instructions: with "use I/O bitmaps" 0 the instruction exits iff "unconditional I/O exiting"
     * is 1; with it 1 the unconditional control is ignored and the instruction exits iff the bit of ANY port it
     * accesses (port, port + 1, … port + size - 1) is 1 — bitmap A for 0000H–7FFFH, B for 8000H–FFFFH — or the access
     * wraps around the 16-bit port space.
     */
    static boolean ioExits(ExecutionControls c, int port, int size) {
        if (!c.primary().useIoBitmaps()) {
            return c.primary().unconditionalIoExiting();
        }
        for (int i = 0; i < size; i++) {
            int q = port + i;
            if (q > 0xFFFF) {
                return true;
            }
            boolean set = q < 0x8000 ? c.ioBitmaps().a().get(q) : c.ioBitmaps().b().get(q - 0x8000);
            if (set) {
                return true;
            }
        }
        return false;
    }

    /**
     * SDM 25.1.3 and 24.6.9, RDMSR/WRMSR at CPL 0: exit if "use MSR bitmaps" is 0; if ECX is outside 00000000H–00001FFFH
     * and C0000000H–C0001FFFH; otherwise iff bit (ECX AND 1FFFH) of the read (RDMSR) or write (WRMSR) bitmap for low
     * (first range) or high (second range) MSRs is 1.
     */
    static boolean msrExits(ExecutionControls c, long msr, boolean write) {
        if (!c.primary().useMsrBitmaps()) {
            return true;
        }
        if (msr >= 0 && msr <= 0x1FFF) {
            return (write ? c.msrBitmap().writeLow() : c.msrBitmap().readLow()).get((int) msr);
        }
        if (msr >= 0xC000_0000L && msr <= 0xC000_1FFFL) {
            return (write ? c.msrBitmap().writeHigh() : c.msrBitmap().readHigh()).get((int) (msr - 0xC000_0000L));
        }
        return true;
    }

    /**
     * SDM 25.1.3, control-register accesses: MOV to CR0/CR4 exits unless the source matches the read shadow at every
     * bit set in the guest/host mask; MOV to CR3 exits iff "CR3-load exiting" is 1 and the source is none of the
     * CR3-target values; MOV from CR3 exits iff "CR3-store exiting" is 1; MOV from CR0, CR2, CR4 never exit.
     */
    static boolean crExits(ExecutionControls c, GuestInstruction insn) {
        if (insn instanceof GuestInstruction.MovToCr m) {
            return switch (m.cr()) {
                case 0 -> ((m.value() ^ c.cr0ReadShadow()) & c.cr0GuestHostMask()) != 0;
                case 4 -> ((m.value() ^ c.cr4ReadShadow()) & c.cr4GuestHostMask()) != 0;
                case 3 -> c.primary().cr3LoadExiting() && !c.cr3TargetValues().contains(m.value());
                default -> false;
            };
        }
        return insn instanceof GuestInstruction.MovFromCr m && m.cr() == 3 && c.primary().cr3StoreExiting();
    }

    /**
     * Null if {@code insn} at {@code cpl} causes no VM exit of its own under {@code c}, else which: CPUID and VMCALL
     * always (SDM 25.1.2); HLT, INVLPG, MOV CR, RDMSR/WRMSR — privileged, so only at CPL 0 (at CPL &gt; 0 the #GP has
     * priority, SDM 25.1.1) — by their controls; I/O by {@link #ioExits} (IOPL is not modelled: every I/O instruction
     * is permitted). A memory access causes no exit of its own (its exceptions are judged by the exception bitmap).
     */
    static String instructionExit(ExecutionControls c, GuestInstruction insn, int cpl) {
        if (insn instanceof GuestInstruction.Cpuid || insn instanceof GuestInstruction.Vmcall) {
            return "CPUID and VMCALL exit unconditionally (SDM 25.1.2)";
        }
        if (insn instanceof GuestInstruction.Io io) {
            return ioExits(c, io.port(), io.size()) ? "I/O of " + io.size() + " byte(s) at port " + Hex.of(io.port())
                    + " with " + (c.primary().useIoBitmaps() ? "an I/O-bitmap bit set for one of its ports"
                            : "unconditional I/O exiting") + " (SDM 25.1.3)" : null;
        }
        if (cpl != 0) {
            return null;
        }
        if (insn instanceof GuestInstruction.Hlt) {
            return c.primary().hltExiting() ? "HLT exiting is on" : null;
        }
        if (insn instanceof GuestInstruction.Invlpg) {
            return c.primary().invlpgExiting() ? "INVLPG exiting is on" : null;
        }
        if (insn instanceof GuestInstruction.Rdmsr r) {
            return msrExits(c, r.msr(), false) ? "RDMSR " + Hex.of(r.msr()) + " is intercepted (SDM 25.1.3)" : null;
        }
        if (insn instanceof GuestInstruction.Wrmsr w) {
            return msrExits(c, w.msr(), true) ? "WRMSR " + Hex.of(w.msr()) + " is intercepted (SDM 25.1.3)" : null;
        }
        if (insn instanceof GuestInstruction.MovToCr || insn instanceof GuestInstruction.MovFromCr) {
            return crExits(c, insn) ? insn + " is intercepted (guest/host mask, read shadow, CR3 controls; SDM"
                    + " 25.1.3)" : null;
        }
        return null;
    }

    /** Null if the controls demand {@code exit} for {@code insn} at {@code cpl}, otherwise why not. */
    static String demanded(ExecutionControls c, ExitInformation exit, GuestInstruction insn, int cpl) {
        switch (exit.reason()) {
            case EXCEPTION_OR_NMI: {
                int v = exit.interruption().vector();
                if (v < 0 || v > 31) {
                    return "vector " + v;
                }
                if (v == PageFault.VECTOR && insn instanceof GuestInstruction.MemoryAccess a
                        && exit.qualification() != a.access().linear()) {
                    return "a #PF exit's qualification is the faulting linear address " + Hex.of(a.access().linear())
                            + " (SDM 27.2.1), not " + Hex.of(exit.qualification());
                }
                return exceptionExits(c, v, exit.interruptionErrorCode()) ? null
                        : "vector " + v + " error code " + new ErrorCode(exit.interruptionErrorCode())
                                + " with exception bitmap " + Hex.of(c.exceptionBitmap()) + ", PFEC mask "
                                + Hex.of(c.pfecMask()) + " match " + Hex.of(c.pfecMatch()) + " is delivered in the guest";
            }
            case CPUID:
                return insn instanceof GuestInstruction.Cpuid ? null : "a CPUID exit for " + insn;
            case VMCALL:
                return insn instanceof GuestInstruction.Vmcall ? null : "a VMCALL exit for " + insn;
            case HLT:
                return insn instanceof GuestInstruction.Hlt && instructionExit(c, insn, cpl) != null ? null
                        : "HLT exiting is off (or not a HLT at CPL 0: " + insn + ")";
            case INVLPG:
                if (!(insn instanceof GuestInstruction.Invlpg i) || instructionExit(c, insn, cpl) == null) {
                    return "INVLPG exiting is off (or not an INVLPG at CPL 0: " + insn + ")";
                }
                return exit.qualification() == i.linear() ? null : "the INVLPG exit's qualification is the linear"
                        + " address " + Hex.of(i.linear()) + " (SDM 27.2.1), not " + Hex.of(exit.qualification());
            case IO_INSTRUCTION: {
                if (!(insn instanceof GuestInstruction.Io io)) {
                    return "an I/O exit for " + insn;
                }
                if (!ioExits(c, io.port(), io.size())) {
                    return "no port of the " + io.size() + "-byte access at " + Hex.of(io.port())
                            + " is intercepted";
                }
                long q = (io.size() - 1) | (io.in() ? 1L << 3 : 0) | (io.string() ? 1L << 4 : 0)
                        | (io.rep() ? 1L << 5 : 0) | (io.immediate() ? 1L << 6 : 0) | ((long) io.port() << 16);
                return exit.qualification() == q ? null : "the I/O exit's qualification is " + Hex.of(q)
                        + " (SDM table 27-5: size - 1, direction, string, REP, operand encoding, port), not "
                        + Hex.of(exit.qualification());
            }
            case MSR_READ:
            case MSR_WRITE: {
                boolean write = exit.reason() == ExitReason.MSR_WRITE;
                boolean matches = write ? insn instanceof GuestInstruction.Wrmsr : insn instanceof GuestInstruction.Rdmsr;
                if (!matches) {
                    return "an " + exit.reason() + " exit for " + insn;
                }
                return instructionExit(c, insn, cpl) != null ? null
                        : insn + (write ? " writes" : " reads") + " are not intercepted (or CPL " + cpl + " > 0)";
            }
            case CR_ACCESS: {
                int cr;
                int type;
                int register;
                if (insn instanceof GuestInstruction.MovToCr m) {
                    cr = m.cr();
                    type = 0;
                    register = m.register();
                } else if (insn instanceof GuestInstruction.MovFromCr m) {
                    cr = m.cr();
                    type = 1;
                    register = m.register();
                } else {
                    return "a CR-access exit for " + insn;
                }
                if (instructionExit(c, insn, cpl) == null) {
                    return insn + " is not intercepted by the guest/host mask, read shadow and CR3 controls"
                            + " (or CPL " + cpl + " > 0)";
                }
                long q = cr | ((long) type << 4) | ((long) register << 8);
                return exit.qualification() == q ? null : "the CR-access exit's qualification is " + Hex.of(q)
                        + " (SDM table 27-3: CR, access type, register), not " + Hex.of(exit.qualification());
            }
            case EPT_VIOLATION:
            case EPT_MISCONFIG:
                // with EPT on, which EPT exit and its fields are judged by eptAccess against the restated walk
                return c.eptEnabled() ? null : "EPT is off";
            default:
                return null;
        }
    }
}
