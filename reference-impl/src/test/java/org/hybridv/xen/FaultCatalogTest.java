package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.D1;
import static org.hybridv.xen.Hv.D3;
import static org.hybridv.xen.Hv.H;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.L1;
import static org.hybridv.xen.Hv.L4;
import static org.hybridv.xen.Hv.U;
import static org.hybridv.xen.Hv.ro;
import static org.hybridv.xen.Hv.rw;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * One test per seeded fault (docs/faults.md): the same operation on the reference and on a hypervisor with the fault;
 * the reference refuses (or behaves), the faulty one does not, and the named invariant reports the violation.
 */
class FaultCatalogTest {
    private static final Set<Fault> SHOWN = EnumSet.noneOf(Fault.class);

    @AfterAll
    static void everyFaultHasItsTest() {
        assertThat(SHOWN).as("faults shown by a test").containsExactlyInAnyOrder(Fault.values());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    static XenMachine with(Fault f) {
        SHOWN.add(f);
        return Hv.machine(Faults.of(f));
    }

    static HvStep call(XenMachine m, VcpuId v, Hypercall c) {
        return Hypervisor.hypercall(m, v, c);
    }

    static Hypercall update(long mfn, int index, Entry e) {
        return Hypercall.mmuUpdate((mfn << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE, e.raw());
    }

    static XenMachine accepted(HvStep s) {
        assertThat(s.outcome()).as("accepted").isInstanceOf(VcpuOutcome.HypercallDone.class);
        return s.machine();
    }

    static void refused(HvStep s, String rule) {
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        assertThat(((VcpuOutcome.HypercallRefused) s.outcome()).rule()).isEqualTo(rule);
    }

    static void violated(InvariantResult r, String rule) {
        assertThat(r).as("expected a violation of %s", rule).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) r).rule()).as(r.toString()).isEqualTo(rule);
    }

    static void holds(XenMachine m) {
        assertThat(Isolation.check(m).toString()).isEqualTo("holds");
        assertThat(TranslationIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
    }

    static XenMachine run(XenMachine m, VcpuId v, Access a) {
        return Hypervisor.run(m, v, new GuestInstruction.MemoryAccess(a)).machine();
    }

    /** The invariants that one lockstep step reports violated (I1 … I8). */
    static List<String> invariants(Lockstep.LockstepStep s) {
        return HybridInvariants.check(s).stream().map(HybridInvariants.Violation::invariant).toList();
    }

    // ---- several pCPUs (docs/smp.md) ---------------------------------------------------------------------------------

    /** MIG-2: back on a pCPU it left, the vCPU uses the translation its own INVLPG elsewhere should have removed. */
    @Test
    void migrationWithoutVpidFlush() {
        SHOWN.add(Fault.MIGRATION_WITHOUT_VPID_FLUSH);
        SmpTest.Round ok = SmpTest.staleRound(Faults.NONE);
        assertThat(MigrationRules.vpidFlushedOnArrival(ok.beforeReturn(), ok.afterReturn(), K).holds()).isTrue();
        SmpTest.Round bad = SmpTest.staleRound(Faults.of(Fault.MIGRATION_WITHOUT_VPID_FLUSH));
        assertThat(bad.read()).isNotEqualTo(ok.read());
        violated(MigrationRules.vpidFlushedOnArrival(bad.beforeReturn(), bad.afterReturn(), K), "MIG-2");
    }

    /** MIG-1: no VMCLEAR on departure: the vCPU arrives launched, its VMCS still active where it ran. */
    @Test
    void migrationWithoutVmclear() {
        SHOWN.add(Fault.MIGRATION_WITHOUT_VMCLEAR);
        SmpTest.Round ok = SmpTest.staleRound(Faults.NONE);
        assertThat(MigrationRules.launchStateClearOnArrival(ok.beforeReturn(), ok.afterReturn(), K).holds()).isTrue();
        SmpTest.Round bad = SmpTest.staleRound(Faults.of(Fault.MIGRATION_WITHOUT_VMCLEAR));
        violated(MigrationRules.launchStateClearOnArrival(bad.beforeReturn(), bad.afterReturn(), K), "MIG-1");
    }

    /** TLB-9: the flush IPIs are not sent; pCPU 1 keeps a writable translation of a frame that became an L1. */
    @Test
    void flushIpiLocalOnly() {
        SHOWN.add(Fault.FLUSH_IPI_LOCAL_ONLY);
        holds(ShootdownTest.retypedAfterBothWrote(Faults.NONE));
        violated(TranslationIntegrity.check(ShootdownTest.retypedAfterBothWrote(Faults.of(Fault.FLUSH_IPI_LOCAL_ONLY))),
                "TLB-1");
    }

    /** TLB-8: the clock compared the wrong way clears pCPUs that never flushed since the frame's stamp. */
    @Test
    void tlbClockReversed() {
        SHOWN.add(Fault.TLB_CLOCK_REVERSED);
        violated(TranslationIntegrity.check(ShootdownTest.retypedAfterBothWrote(Faults.of(Fault.TLB_CLOCK_REVERSED))),
                "TLB-1");
    }

    /** TLB-9: no pCPU ever joins d1's mask, so the type change flushes none. */
    @Test
    void dirtyMaskNotUpdated() {
        SHOWN.add(Fault.DIRTY_MASK_NOT_UPDATED);
        violated(TranslationIntegrity.check(ShootdownTest.retypedAfterBothWrote(Faults.of(
                Fault.DIRTY_MASK_NOT_UPDATED))), "TLB-1");
    }

    /** IPI-3: the pin installs and validates the L1 while pCPU 1's writable translation of it is still pending. */
    @Test
    void validateBeforeFlushAck() {
        SHOWN.add(Fault.VALIDATE_BEFORE_FLUSH_ACK);
        XenMachine ok = ShootdownTest.call(ShootdownTest.bothWrote(Faults.NONE), K,
                update(Hv.L1, 5, new Entry(0)));
        holds(Hypervisor.hypercall(ok, K, ShootdownTest.pinL1(ShootdownTest.DATA)).machine());
        XenMachine bad = ShootdownTest.call(ShootdownTest.bothWrote(Faults.of(Fault.VALIDATE_BEFORE_FLUSH_ACK)), K,
                update(Hv.L1, 5, new Entry(0)));
        violated(TranslationIntegrity.check(Hypervisor.hypercall(bad, K, ShootdownTest.pinL1(ShootdownTest.DATA))
                .machine()), "TLB-1");
    }

    /** IPI-2: the L2 update returns with pCPU 1's flush IPI unhandled: I6 over pCPU 1 after the return. */
    @Test
    void ipiAckNotAwaited() {
        SHOWN.add(Fault.IPI_ACK_NOT_AWAITED);
        holds(Hypervisor.hypercall(ShootdownTest.bothWrote(Faults.NONE), K, update(0x12, 0, Hv.rw(Hv.SPARE)))
                .machine());
        violated(TlbCoherence.check(Hypervisor.hypercall(ShootdownTest.bothWrote(Faults.of(
                Fault.IPI_ACK_NOT_AWAITED)), K, update(0x12, 0, Hv.rw(Hv.SPARE))).machine()), "MU-5");
    }

    /** TYP-8: the L2 being validated entry by entry does not hold its type; I2's bookkeeping sees the pin short. */
    @Test
    void partialValidationTypeNotHeld() {
        SHOWN.add(Fault.PARTIAL_VALIDATION_TYPE_NOT_HELD);
        holds(Hypervisor.hypercall(PreemptibleValidationTest.written(Faults.NONE, Hv.rw(L1)), K,
                PreemptibleValidationTest.PIN).machine());
        violated(TranslationIntegrity.check(Hypervisor.hypercall(PreemptibleValidationTest.written(Faults.of(
                Fault.PARTIAL_VALIDATION_TYPE_NOT_HELD), Hv.rw(L1)), K, PreemptibleValidationTest.PIN).machine()),
                "TYP-8");
    }

    /**
     * MU-8: a batch of three requests on two pCPUs preempted after its first; the reference's continuation re-issues
     * requests 1 and 2 and the tables equal those of the three requests in order, *pdone = 3; the faulty continuation
     * starts one request too far, so request 1 is never applied and *pdone = 2 (MU-7's property, which the migration
     * property checks after every batch).
     */
    @Test
    void mmuUpdateContinuationLosesEntry() {
        SHOWN.add(Fault.MMU_UPDATE_CONTINUATION_LOSES_ENTRY);
        for (boolean faulty : new boolean[] {false, true}) {
            XenMachine m = MmuBatchTest.listed(Hv.machine(faulty ? Faults.of(Fault.MMU_UPDATE_CONTINUATION_LOSES_ENTRY)
                    : Faults.NONE, 2), MmuBatchTest.THREE);
            XenMachine x = Hypervisor.hypercall(m, K, MmuBatch.batch(MmuBatchTest.REQ, 3, MmuBatchTest.PDONE))
                    .machine();
            HvStep p = MmuBatch.preempt(x, K);
            Hypercall again = ((VcpuOutcome.HypercallPreempted) p.outcome()).continuation();
            XenMachine done = accepted(FlushIpis.runToCompletion(Hypervisor.hypercall(p.machine(), K, again), K));
            holds(done);
            assertThat(MmuBatchTest.pdone(done)).isEqualTo(faulty ? 2 : 3);
            assertThat(done.paging().entry(L1, 11)).isEqualTo(faulty ? Entry.NOT_PRESENT : rw(0x23));
        }
    }

    // ---- direct paging: entry rules --------------------------------------------------------------------------------

    @Test
    void superpageAccepted() {
        Entry superpage = new Entry(rw(Hv.SPARE).raw() | EntryRules.PSE);
        refused(call(Hv.machine(), K, update(0x12, 1, superpage)), "SP-1");
        XenMachine bad = accepted(call(with(Fault.SUPERPAGE_ACCEPTED), K, update(0x12, 1, superpage)));
        violated(TranslationIntegrity.check(bad), "SP-1");
    }

    @Test
    void fastpathRwChange() {
        XenMachine ok = accepted(call(Hv.machine(), K, update(L4, 1, ro(L4))));
        refused(call(ok, K, update(L4, 1, rw(L4))), "LIN-1");
        XenMachine bad = accepted(call(with(Fault.FASTPATH_RW_CHANGE), K, update(L4, 1, ro(L4))));
        holds(bad);
        bad = accepted(call(bad, K, update(L4, 1, rw(L4))));
        violated(TranslationIntegrity.check(bad), "LIN-1");
    }

    @Test
    void writableLinearAccepted() {
        refused(call(Hv.machine(), K, update(L4, 1, rw(L4))), "LIN-1");
        XenMachine bad = accepted(call(with(Fault.WRITABLE_LINEAR_ACCEPTED), K, update(L4, 1, rw(L4))));
        violated(TranslationIntegrity.check(bad), "LIN-1");
    }

    /** Two more L4s pinned, B (0x15) with a linear entry to C (0x16); then A (the base) → B would be depth 2. */
    static XenMachine chain(XenMachine m) {
        m = accepted(call(m, K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, 0x15)));
        m = accepted(call(m, K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, 0x16)));
        m = accepted(call(m, K, update(0x15, 1, ro(0x16))));
        holds(m);
        return m;
    }

    @Test
    void linearChainUnbounded() {
        refused(call(chain(Hv.machine()), K, update(L4, 1, ro(0x15))), "LIN-4");
        XenMachine bad = accepted(call(chain(with(Fault.LINEAR_CHAIN_UNBOUNDED)), K, update(L4, 1, ro(0x15))));
        violated(TranslationIntegrity.check(bad), "LIN-4");
    }

    @Test
    void writablePagetableMapping() {
        refused(call(Hv.machine(), K, update(L1, 9, rw(0x12))), "L1-3");
        XenMachine bad = accepted(call(with(Fault.WRITABLE_PAGETABLE_MAPPING), K, update(L1, 9, rw(0x12))));
        violated(TranslationIntegrity.check(bad), "TYP-1");
    }

    @Test
    void foreignFrameInL1() {
        refused(call(Hv.machine(), K, update(L1, 9, ro(0x30))), "L1-2");
        XenMachine bad = accepted(call(with(Fault.FOREIGN_FRAME_IN_L1), K, update(L1, 9, ro(0x30))));
        violated(Isolation.check(bad), "I1");
        // a hypervisor frame too
        bad = accepted(call(bad, K, update(L1, 10, ro(0x2))));
        violated(Isolation.check(bad), "I1");
    }

    @Test
    void xenSlotUpdate() {
        refused(call(Hv.machine(), K, update(L4, 256, ro(0x11))), "SLOT-2");
        XenMachine bad = accepted(call(with(Fault.XEN_SLOT_UPDATE), K, update(L4, 256, ro(0x11))));
        violated(TranslationIntegrity.check(bad), "SLOT-1");
    }

    @Test
    void unpinLeaksTypeRef() {
        Hypercall pin = Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, Hv.SPARE);
        Hypercall unpin = Hypercall.mmuextOp(Hypercalls.MMUEXT_UNPIN_TABLE, Hv.SPARE);
        XenMachine ok = accepted(call(accepted(call(Hv.machine(), K, pin)), K, unpin));
        holds(ok);
        assertThat(ok.frames().get(Hv.SPARE).typeCount()).isZero();
        XenMachine bad = accepted(call(accepted(call(with(Fault.UNPIN_LEAKS_TYPE_REF), K, pin)), K, unpin));
        assertThat(bad.frames().get(Hv.SPARE).typeCount()).isEqualTo(1);
        violated(TranslationIntegrity.check(bad), "TYP-4");
    }

    // ---- TLB flushes -----------------------------------------------------------------------------------------------

    /** The kernel writes 0x5000 (a writable TLB entry for frame 0x20), unmaps it (no flush: TLB-7), pins 0x20 as L1. */
    static HvStep retype(XenMachine m) {
        m = run(m, K, Access.write(0x5000, 0));
        m = accepted(call(m, K, update(L1, 5, new Entry(0))));
        return call(m, K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, Hv.DATA_RW));
    }

    @Test
    void typeChangeNoFlush() {
        holds(accepted(retype(Hv.machine())));
        XenMachine bad = accepted(retype(with(Fault.TYPE_CHANGE_NO_FLUSH)));
        violated(TlbCoherence.check(bad), "TLB-1");
    }

    @Test
    void ptUpdateNoFlush() {
        XenMachine ok = run(Hv.machine(), K, Access.read(0x5000));
        holds(accepted(call(ok, K, update(0x12, 0, new Entry(0)))));
        XenMachine bad = run(with(Fault.PT_UPDATE_NO_FLUSH), K, Access.read(0x5000));
        bad = accepted(call(bad, K, update(0x12, 0, new Entry(0))));
        violated(TlbCoherence.check(bad), "MU-5");
    }

    // ---- hypercall dispatch ----------------------------------------------------------------------------------------

    @Test
    void hypercallFromUser() {
        Hypercall flush = Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0);
        XenMachine ok = Hv.machine();
        refused(call(ok, U, flush), "XSA-76");
        XenMachine pre = with(Fault.HYPERCALL_FROM_USER);
        HvStep s = call(pre, U, flush);
        accepted(s);
        violated(ExitCorrectness.check(pre, U, new GuestInstruction.Vmcall(), s), "I7-hypercall");
    }

    @Test
    void pvMmuFromTranslated() {
        Hypercall flush = Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0);
        refused(call(Hv.machine(), H, flush), "MU-1");
        XenMachine pre = with(Fault.PV_MMU_FROM_TRANSLATED);
        HvStep s = call(pre, H, flush);
        accepted(s);
        violated(ExitCorrectness.check(pre, H, new GuestInstruction.Vmcall(), s), "I7-hypercall");
    }

    // ---- VMCS setup ------------------------------------------------------------------------------------------------

    @Test
    void pfecSupervisorWriteBypass() {
        GuestInstruction store = new GuestInstruction.MemoryAccess(Access.write(0x8000, 0));
        HvStep ok = Hypervisor.run(Hv.machine(), K, store);
        assertThat(ok.outcome()).as("the page-table write is emulated").isInstanceOf(VcpuOutcome.Emulated.class);
        XenMachine pre = with(Fault.PFEC_SUPERVISOR_WRITE_BYPASS);
        HvStep bad = Hypervisor.run(pre, K, store);
        assertThat(bad.outcome()).as("the #PF bypasses the hypervisor").isInstanceOf(VcpuOutcome.Delivered.class);
        violated(ExitCorrectness.check(pre, K, store, bad), "I7-filter");
    }

    @Test
    void hapPfecWithoutPfBit() {
        GuestInstruction read = new GuestInstruction.MemoryAccess(Access.read(0x7000));
        HvStep ok = Hypervisor.run(Hv.machine(), H, read);
        assertThat(ok.outcome()).isInstanceOf(VcpuOutcome.Delivered.class);
        assertThat(ExitCorrectness.check(Hv.machine(), H, read, ok).toString()).isEqualTo("holds");
        XenMachine pre = with(Fault.HAP_PFEC_WITHOUT_PF_BIT);
        HvStep bad = Hypervisor.run(pre, H, read);
        assertThat(bad.outcome()).as("a not-present #PF exits").isInstanceOf(VcpuOutcome.Injected.class);
        violated(ExitCorrectness.check(pre, H, read, bad), "I7-hap-controls");
        // the kernel under HAP: the exit is seen by I4 (no #PF exits in HAP) and I7
        Lockstep l = Lockstep.start(MmuMode.HAP, 64, 64, Faults.of(Fault.HAP_PFEC_WITHOUT_PF_BIT));
        Lockstep.LockstepStep boot = l.step(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        Lockstep.LockstepStep np = boot.post().step(new GuestOp.NewProcess());
        Lockstep.LockstepStep sw = np.post().step(new GuestOp.SwitchTo(1));
        Lockstep.LockstepStep user = sw.post().step(new GuestOp.UserAccess(org.hybridv.guest.Layout.userPage(3),
                org.hybridv.x86.AccessKind.READ, 0));
        assertThat(invariants(user)).contains("I4", "I7");
    }

    @Test
    void vpidSharedAcrossDomains() {
        CpuState g = CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR);
        HvResult ok = Domains.addVcpu(Hv.machine(), D3, 1, g);
        assertThat(ok).isInstanceOf(HvResult.Refused.class);
        assertThat(((HvResult.Refused) ok).rule()).isEqualTo("VPID");
        HvResult bad = Domains.addVcpu(with(Fault.VPID_SHARED_ACROSS_DOMAINS), Hv.D2, 1, g);
        XenMachine m = Hv.done(bad);
        assertThat(m.vcpu(new VcpuId(Hv.D2, 1)).vpid()).isEqualTo(m.vcpu(new VcpuId(D1, 0)).vpid());
        violated(TlbCoherence.check(m), "VPID");
        assertThat(Domains.addVcpu(m, Hv.D2, 3, g)).as("still one VPID per vCPU inside a domain")
                .isInstanceOf(HvResult.Refused.class);
    }

    // ---- shadow paging ---------------------------------------------------------------------------------------------

    /** SwitchMmuTest's shadow-mode d1 with the guest PTE for 0x6000 read-only, user, dirty (gfn 0x11). */
    static XenMachine dirtyReadOnly(Faults f) {
        XenMachine m = SwitchMmuTest.boot().withFaults(f);
        return m.withPaging(m.paging().write(0x13, 6, Entry.table(0x11, false, true).withDirty(true)));
    }

    @Test
    void shadowMorePermissive() {
        SHOWN.add(Fault.SHADOW_MORE_PERMISSIVE);
        VcpuId k = SwitchMmuTest.K;
        XenMachine ok = run(dirtyReadOnly(Faults.NONE), k, Access.read(0x6000));
        holds(ok);
        assertThat(Hypervisor.run(ok, k, new GuestInstruction.MemoryAccess(Access.write(0x6000, 1))).outcome())
                .as("the guest's read-only page stays read-only").isNotInstanceOf(VcpuOutcome.Retired.class);
        XenMachine bad = run(dirtyReadOnly(Faults.of(Fault.SHADOW_MORE_PERMISSIVE)), k, Access.read(0x6000));
        violated(TranslationIntegrity.check(bad), "SH-2");
        assertThat(Hypervisor.run(bad, k, new GuestInstruction.MemoryAccess(Access.write(0x6000, 1))).outcome())
                .as("the write the guest's tables forbid succeeds").isInstanceOf(VcpuOutcome.Retired.class);
    }

    // ---- SWITCH_MMU ------------------------------------------------------------------------------------------------

    @Test
    void switchMmuFromUser() {
        SHOWN.add(Fault.SWITCH_MMU_FROM_USER);
        XenMachine ready = SwitchMmuTest.ready();
        refused(call(ready, SwitchMmuTest.U, Hypercall.switchMmu(SwitchMmuTest.ROOT)), "XSA-76");
        XenMachine pre = ready.withFaults(Faults.of(Fault.SWITCH_MMU_FROM_USER));
        HvStep s = call(pre, SwitchMmuTest.U, Hypercall.switchMmu(SwitchMmuTest.ROOT));
        accepted(s);
        violated(ExitCorrectness.check(pre, SwitchMmuTest.U, new GuestInstruction.Vmcall(), s), "I7-hypercall");
        // other hypercalls from CPL 3 are still refused
        refused(call(pre, SwitchMmuTest.U, Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0)), "XSA-76");
        // the kernel issuing it from user mode
        Lockstep l = Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.of(Fault.SWITCH_MMU_FROM_USER));
        Lockstep.LockstepStep boot = l.step(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        assertThat(invariants(boot)).isEmpty();
        Lockstep.LockstepStep sw = boot.post().step(new GuestOp.SwitchMmu(SwitchRoot.KERNEL_BUILT, 0, true, false));
        assertThat(invariants(sw)).contains("I7");
    }

    @Test
    void switchMmuTopLevelOnly() {
        SHOWN.add(Fault.SWITCH_MMU_TOP_LEVEL_ONLY);
        GuestOp defective = new GuestOp.SwitchMmu(SwitchRoot.WRITABLE_PAGE_TABLE, 0, false, false);
        Lockstep ok = Lockstep.start(MmuMode.SHADOW, 64, 64).step(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED))
                .post();
        Lockstep.LockstepStep refused = ok.step(defective);
        assertThat(invariants(refused)).isEmpty();
        assertThat(refused.guest().result().toString()).startsWith("SwitchRefused");
        Lockstep bad = Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.of(Fault.SWITCH_MMU_TOP_LEVEL_ONLY))
                .step(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED)).post();
        Lockstep.LockstepStep accepted = bad.step(defective);
        assertThat(invariants(accepted)).contains("I2", "I5");
    }

    /** SWITCH_MMU of {@code m}'s shadow-mode d1 (TLB entries cached) to an empty L4 of its own. */
    static XenMachine switchToEmptyRoot(XenMachine m) {
        return accepted(call(m, SwitchMmuTest.K, Hypercall.switchMmu(0x19)));
    }

    @Test
    void switchMmuNoFlush() {
        SHOWN.add(Fault.SWITCH_MMU_NO_FLUSH);
        XenMachine ready = SwitchMmuTest.ready();
        assertThat(SwitchMmuTest.vpidEntries(ready, 1)).isNotEmpty();
        holds(switchToEmptyRoot(ready));
        XenMachine bad = switchToEmptyRoot(ready.withFaults(Faults.of(Fault.SWITCH_MMU_NO_FLUSH)));
        assertThat(SwitchMmuTest.vpidEntries(bad, 1)).isNotEmpty();
        violated(TlbCoherence.check(bad), "MU-5");
    }

    /**
     * A guest-side routing slip that stays correct: no invariant reports it (I1–I8 hold on every step); the event
     * budget BUD-4 does (properties: {@code EventBudgetMutantsTest}, the kill matrix).
     */
    @Test
    void setPteTrappedNotHypercall() {
        List<GuestOp> ops = List.of(new GuestOp.Boot(BootStage.DIRECT), new GuestOp.NewProcess(),
                new GuestOp.SwitchTo(1), new GuestOp.Map(3, true));
        Lockstep ok = Lockstep.start(MmuMode.SHADOW, 64, 64);
        Lockstep bad = Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.of(Fault.SET_PTE_TRAPPED_NOT_HYPERCALL));
        SHOWN.add(Fault.SET_PTE_TRAPPED_NOT_HYPERCALL);
        Lockstep.LockstepStep okStep = null;
        Lockstep.LockstepStep badStep = null;
        for (GuestOp op : ops) {
            okStep = ok.step(op);
            badStep = bad.step(op);
            assertThat(invariants(okStep)).as("reference, %s", op).isEmpty();
            assertThat(invariants(badStep)).as("with the fault, %s", op).isEmpty();
            ok = okStep.post();
            bad = badStep.post();
        }
        // BUD-4: set_pte in direct mode is one mmu_update (a VMCALL exit), no #PF exit
        assertThat(okStep.guest().exits().byReason()).containsExactly(java.util.Map.entry("VMCALL", 1));
        assertThat(okStep.guest().result()).isEqualTo(badStep.guest().result());
        // the faulty kernel's store traps (a #PF exit) and is emulated (PTW-1); no hypercall
        assertThat(badStep.guest().exits().byReason()).containsExactly(java.util.Map.entry("EXCEPTION_OR_NMI", 1));
        assertThat(badStep.guest().trace()).noneMatch(e -> e.instruction() instanceof GuestInstruction.Vmcall);
        assertThat(badStep.guest().trace()).anyMatch(e -> e.hv().isPresent()
                && e.hv().get().outcome() instanceof VcpuOutcome.Emulated);
    }
    /**
     * PRE-3 with a running sibling: the SMP kernel (two vCPUs on two pCPUs), the AP having read kernel memory on
     * pCPU 1 through the shadow tables, SWITCH_MMU from the BSP. The reference flushes pCPU 1 (the sibling's context
     * and the domain's mask); the faulty one only the caller's pCPU, and I6 reports the sibling's stale entries.
     */
    @Test
    void switchMmuSiblingNotFlushed() {
        SHOWN.add(Fault.SWITCH_MMU_SIBLING_NOT_FLUSHED);
        List<GuestOp> prepare = List.of(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED), new GuestOp.StartAp(1),
                new GuestOp.OnCpu(1, new GuestOp.KernelAccess(org.hybridv.guest.Layout.directMap(40),
                        org.hybridv.x86.AccessKind.READ, 0)));
        Lockstep ok = Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.NONE, 2);
        Lockstep bad = Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.of(Fault.SWITCH_MMU_SIBLING_NOT_FLUSHED), 2);
        for (GuestOp op : prepare) {
            ok = ok.step(op).post();
            bad = bad.step(op).post();
        }
        Lockstep.LockstepStep okSwitch = ok.step(GuestOp.SwitchMmu.kernelBuilt());
        Lockstep.LockstepStep badSwitch = bad.step(GuestOp.SwitchMmu.kernelBuilt());
        assertThat(invariants(okSwitch)).isEmpty();
        XenMachine m = ((org.hybridv.guest.XenPlatform) badSwitch.guest().post().platform()).machine();
        assertThat(m.pcpu(1).tlb().pscEntries()).anyMatch(e -> e.tag().vpid() == 2);
        assertThat(invariants(badSwitch)).contains("I6");
        violated(TlbCoherence.check(m), "MU-5");
    }

    // ---- the para-virtual interface (docs/pv-interfaces.md) ------------------------------------------------------

    /** d2's grant 0 of frame 0x37 mapped by d1 at 0x7000, read once (a TLB entry of VPID 1), then unmapped. */
    private static XenMachine grantUsedAndUnmapped(XenMachine m) {
        m = PvFixture.granted(m, 0, false);
        m = PvFixture.ok(m, K, PvFixture.gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, PvFixture.HOST_ADDR,
                GrantTables.GNTMAP_HOST_MAP, 0, Hv.D2));
        m = PvFixture.read(m, K, PvFixture.HOST_ADDR);
        return PvFixture.ok(m, K, PvFixture.gnttab(GrantTables.GNTTABOP_UNMAP_GRANT_REF, PvFixture.HOST_ADDR, 0, 0,
                0));
    }

    @Test
    void grantUnmapNoFlush() {
        holds(grantUsedAndUnmapped(PvFixture.machine(Faults.NONE)));
        with(Fault.GRANT_UNMAP_NO_FLUSH);
        XenMachine bad = grantUsedAndUnmapped(PvFixture.machine(Faults.of(Fault.GRANT_UNMAP_NO_FLUSH)));
        violated(Isolation.check(bad), "I1");
        assertThat(Isolation.check(bad).toString()).contains("no active grant mapping");
    }

    @Test
    void grantReadonlyMappedWritable() {
        Hypercall writable = PvFixture.gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, PvFixture.HOST_ADDR,
                GrantTables.GNTMAP_HOST_MAP, 1, Hv.D2);
        refused(Hypervisor.hypercall(PvFixture.granted(PvFixture.machine(Faults.NONE), 1, true), K, writable),
                "GNT-2");
        with(Fault.GRANT_READONLY_MAPPED_WRITABLE);
        XenMachine m = PvFixture.granted(PvFixture.machine(Faults.of(Fault.GRANT_READONLY_MAPPED_WRITABLE)), 1, true);
        XenMachine bad = accepted(Hypervisor.hypercall(m, K, writable));
        violated(Isolation.check(bad), "I1");
        assertThat(Isolation.check(bad).toString()).contains("read-only but reached writable");
    }

    @Test
    void evtchnSendToForeignPort() {
        Hypercall send = PvFixture.evtchn(EventChannels.EVTCHNOP_SEND, 1, 0);
        XenMachine ok = PvFixture.connected(PvFixture.machine(Faults.NONE));
        org.hybridv.invariants.InvariantResult fine = org.hybridv.invariants.PvInvariants.checkSend(ok,
                accepted(Hypervisor.hypercall(ok, Hv.H, send)), Hv.D2, 1);
        assertThat(fine.toString()).isEqualTo("holds");
        with(Fault.EVTCHN_SEND_TO_FOREIGN_PORT);
        XenMachine pre = PvFixture.connected(PvFixture.machine(Faults.of(Fault.EVTCHN_SEND_TO_FOREIGN_PORT)));
        XenMachine bad = accepted(Hypervisor.hypercall(pre, Hv.H, send));
        violated(org.hybridv.invariants.PvInvariants.checkSend(pre, bad, Hv.D2, 1), "I10");
        assertThat(SharedInfo.pending(bad.memory(), PvFixture.SI1, 1)).as("the peer never sees it").isFalse();
    }

    /**
     * BOOT-2: with the fault the kernel compares only EBX, so a hypervisor answering "XenVMMXenVMX" (the last of the
     * twelve bytes differs) is taken for Xen; the reference stays native. I8-detect, stated over the observed
     * answers, reports it.
     */
    @Test
    void detectSignaturePrefixMatch() {
        CpuidIdentity almostXen = CpuidIdentity.XEN.withSignature("XenVMMXenVMX");
        GuestOp boot = new GuestOp.Boot(BootStage.DIRECT);
        Lockstep.LockstepStep ok = Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.NONE, almostXen).step(boot);
        Lockstep.LockstepStep bad = Lockstep.start(MmuMode.SHADOW, 64, 64,
                Faults.of(Fault.DETECT_SIGNATURE_PREFIX_MATCH), almostXen).step(boot);
        SHOWN.add(Fault.DETECT_SIGNATURE_PREFIX_MATCH);
        assertThat(invariants(ok)).isEmpty();
        assertThat(ok.guest().post().kernel().stage()).isEqualTo(BootStage.NATIVE);
        assertThat(bad.guest().post().kernel().stage()).isNotEqualTo(BootStage.NATIVE);
        assertThat(HybridInvariants.check(bad)).anyMatch(v -> v.violation().rule().equals("I8-detect"));
    }

    /** EMU-1: TPR, EOI and SELF_IPI pass through the merged MSR bitmap; {@code DeviceIsolation} reports EMU-1. */
    @Test
    void x2apicMsrPassthrough() {
        XenMachine ok = EmulationTest.booted(MmuMode.HAP, CpuidIdentity.XEN, BootStage.LONG, Faults.NONE).machine();
        XenMachine bad = EmulationTest.booted(MmuMode.HAP, CpuidIdentity.XEN, BootStage.LONG,
                Faults.of(Fault.X2APIC_MSR_PASSTHROUGH)).machine();
        SHOWN.add(Fault.X2APIC_MSR_PASSTHROUGH);
        assertThat(org.hybridv.invariants.DeviceIsolation.check(ok)).isEqualTo(InvariantResult.HOLDS);
        assertThat(org.hybridv.invariants.DeviceIsolation.check(bad).toString()).startsWith("EMU-1");
    }

    /** EMU-2: the UART's ports 3F8H-3FFH pass through the I/O bitmaps; {@code DeviceIsolation} reports EMU-2. */
    @Test
    void ioPortRangeNotIntercepted() {
        XenMachine ok = EmulationTest.booted(MmuMode.SHADOW, CpuidIdentity.XEN, BootStage.LONG, Faults.NONE)
                .machine();
        XenMachine bad = EmulationTest.booted(MmuMode.SHADOW, CpuidIdentity.XEN, BootStage.LONG,
                Faults.of(Fault.IO_PORT_RANGE_NOT_INTERCEPTED)).machine();
        SHOWN.add(Fault.IO_PORT_RANGE_NOT_INTERCEPTED);
        assertThat(org.hybridv.invariants.DeviceIsolation.check(ok)).isEqualTo(InvariantResult.HOLDS);
        assertThat(org.hybridv.invariants.DeviceIsolation.check(bad).toString()).startsWith("EMU-2");
    }

    /**
     * BLK-4: the back-end answers the front-end's READ but keeps the data page mapped. The reference's back-end
     * leaves only the ring mapped; the faulty one's maptrack still holds the data grant after the response, which
     * I11-blk reports, and the front-end cannot end its grant (GNT-7): the kernel oopses where its twin reads.
     */
    @Test
    void blkbackDataMappingLeaked() {
        GuestOp boot = new GuestOp.Boot(BootStage.DIRECT);
        GuestOp read = new GuestOp.BlockRead(2);
        Lockstep ok = Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE, CpuidIdentity.XEN).step(boot)
                .post().step(read).post();
        XenMachine good = ((org.hybridv.guest.XenPlatform) ok.guest().platform()).machine();
        assertThat(org.hybridv.invariants.BlockInvariants.check(good).holds()).isTrue();
        assertThat(good.pv().domain(0).maptrack()).hasSize(1);
        SHOWN.add(Fault.BLKBACK_DATA_MAPPING_LEAKED);
        Lockstep.LockstepStep s = Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64,
                Faults.of(Fault.BLKBACK_DATA_MAPPING_LEAKED), CpuidIdentity.XEN).step(boot).post().step(read);
        XenMachine bad = ((org.hybridv.guest.XenPlatform) s.post().guest().platform()).machine();
        violated(org.hybridv.invariants.BlockInvariants.check(bad), "BLK-4");
        assertThat(s.guest().result()).isInstanceOf(org.hybridv.guest.KernelResult.Oops.class);
        assertThat(s.twin().result()).isInstanceOf(org.hybridv.guest.KernelResult.Sector.class);
    }
}
