package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.PvFixture.GRANTED;
import static org.hybridv.xen.PvFixture.HOST_ADDR;
import static org.hybridv.xen.PvFixture.evtchn;
import static org.hybridv.xen.PvFixture.gnttab;
import static org.hybridv.xen.PvFixture.ok;

import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PvInvariants;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.junit.jupiter.api.Test;

/**
 * Event channels, timer and idle, grant tables (docs/pv-interfaces.md; rules EVT-, TIME-, GNT- of docs/rules/xen.md):
 * expectations from Xen's public ABI and the rules, on {@link PvFixture}'s machine.
 */
class PvInterfaceTest {
    private static final VcpuId K = Hv.K;
    private static final VcpuId H = Hv.H;

    private static XenMachine pv() {
        return PvFixture.machine(Faults.NONE);
    }

    private static boolean pending(XenMachine m, long si, int port) {
        return SharedInfo.pending(m.memory(), si, port);
    }

    private static void refused(XenMachine m, VcpuId v, Hypercall c, Errno e, String rule) {
        HvStep s = Hypervisor.hypercall(m, v, c);
        assertThat(s.outcome()).as(c.toString()).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        VcpuOutcome.HypercallRefused r = (VcpuOutcome.HypercallRefused) s.outcome();
        assertThat(r.errno()).isEqualTo(e);
        assertThat(r.rule()).isEqualTo(rule);
        assertThat(s.machine().pv()).isEqualTo(m.pv());
        assertThat(s.machine().memory()).isEqualTo(m.memory());
        assertThat(s.machine().frames()).isEqualTo(m.frames());
    }

    private static void holds(XenMachine m) {
        assertThat(Isolation.check(m).toString()).isEqualTo("holds");
        assertThat(TranslationIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(PvInvariants.check(m).toString()).isEqualTo("holds");
        assertThat(org.hybridv.invariants.TlbCoherence.check(m).toString()).isEqualTo("holds");
    }

    // ---- event channels --------------------------------------------------------------------------------------------

    @Test
    void eventChannelsNeedASharedInfoPage() {
        refused(Hv.machine(), K, evtchn(EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, Hv.D2),
                Errno.EINVAL, "EVT-1");
    }

    @Test
    void aSendReachesThePeerPortOnly() {
        XenMachine m = PvFixture.connected(pv());
        assertThat(m.pv().domain(Hv.D1).ports().get(1)).isEqualTo(new EventChannel.Interdomain(Hv.D2, 1, 0));
        assertThat(m.pv().domain(Hv.D2).ports().get(1)).isEqualTo(new EventChannel.Interdomain(Hv.D1, 1, 0));
        holds(m);
        XenMachine after = ok(m, H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        assertThat(pending(after, PvFixture.SI1, 1)).isTrue();
        assertThat(pending(after, PvFixture.SI2, 1)).isFalse();
        assertThat(SharedInfo.upcallPending(after.memory(), PvFixture.SI1, 0)).isTrue();
        assertThat(SharedInfo.selected(after.memory(), PvFixture.SI1, 0, 0)).isTrue();
        assertThat(PvInvariants.checkSend(m, after, Hv.D2, 1).toString()).isEqualTo("holds");
        holds(after);
    }

    @Test
    void bindingRulesRefuseWithNothingChanged() {
        XenMachine m = pv();
        refused(m, K, evtchn(EventChannels.EVTCHNOP_BIND_INTERDOMAIN, Hv.D2, 1), Errno.EINVAL, "EVT-3");
        refused(m, K, evtchn(EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, 9), Errno.ESRCH, "EVT-2");
        refused(m, K, evtchn(EventChannels.EVTCHNOP_SEND, 5, 0), Errno.EINVAL, "EVT-5");
        XenMachine v = ok(m, K, evtchn(EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.VIRQ_TIMER, 0));
        refused(v, K, evtchn(EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.VIRQ_TIMER, 0), Errno.EEXIST, "EVT-4");
        refused(v, K, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0), Errno.EINVAL, "EVT-5");
        refused(m, K, evtchn(EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.NR_VIRQS, 0), Errno.EINVAL, "EVT-4");
    }

    @Test
    void closingRevertsThePeerToUnboundForTheCloser() {
        XenMachine m = ok(PvFixture.connected(pv()), H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        XenMachine closed = ok(m, K, evtchn(EventChannels.EVTCHNOP_CLOSE, 1, 0));
        assertThat(closed.pv().domain(Hv.D1).ports()).doesNotContainKey(1);
        assertThat(closed.pv().domain(Hv.D2).ports().get(1)).isEqualTo(new EventChannel.Unbound(Hv.D1, 0));
        assertThat(pending(closed, PvFixture.SI1, 1)).as("EVT-7 clears the pending bit").isFalse();
        XenMachine dropped = ok(closed, H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        assertThat(dropped.memory()).as("EVT-5: a send on an unbound port is dropped").isEqualTo(closed.memory());
        holds(dropped);
    }

    @Test
    void aMaskedPortStaysPendingAndUnmaskNotifies() {
        XenMachine m = EventChannels.guestMask(PvFixture.connected(pv()), Hv.D1, 1, true);
        XenMachine sent = ok(m, H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        assertThat(pending(sent, PvFixture.SI1, 1)).isTrue();
        assertThat(SharedInfo.upcallPending(sent.memory(), PvFixture.SI1, 0)).as("masked: no upcall").isFalse();
        assertThat(PvInvariants.checkSend(m, sent, Hv.D2, 1).toString()).isEqualTo("holds");
        // I10 restates EVT-6: a hypervisor that notified d1's vCPU for the masked port is caught (the slip of
        // setPending testing only that the port exists; hybridv check found it in 32 tries of pv-interface)
        XenMachine notified = sent.withPaging(sent.paging().withMemory(SharedInfo.setUpcallPending(
                SharedInfo.setSelected(sent.memory(), PvFixture.SI1, 0, 0, true), PvFixture.SI1, 0, true)));
        assertThat(PvInvariants.checkSend(m, notified, Hv.D2, 1).toString()).contains("I10", "masked", "EVT-6");
        // and an unmasked port whose vCPU is not notified is caught too
        XenMachine plain = PvFixture.connected(pv());
        XenMachine delivered = ok(plain, H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        XenMachine silent = delivered.withPaging(delivered.paging().withMemory(SharedInfo.setUpcallPending(
                delivered.memory(), PvFixture.SI1, 0, false)));
        assertThat(PvInvariants.checkSend(plain, silent, Hv.D2, 1).toString()).contains("I10", "upcall pending 0");
        XenMachine unmasked = ok(sent, K, evtchn(EventChannels.EVTCHNOP_UNMASK, 1, 0));
        assertThat(SharedInfo.upcallPending(unmasked.memory(), PvFixture.SI1, 0)).as("EVT-8").isTrue();
        holds(unmasked);
    }

    // ---- delivery to the HVM vCPU (EVT-9) ---------------------------------------------------------------------------

    @Test
    void anUpcallIsInjectedAtTheNextVmEntryWithIfSet() {
        XenMachine m = ok(PvFixture.connected(pv()), H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        XenMachine after = PvFixture.read(m, K, 0x5000);
        VcpuPv k = after.pv().domain(Hv.D1).vcpu(0);
        assertThat(k.upcallsInjected()).isEqualTo(1);
        assertThat(k.interruptFlag()).as("delivered through an interrupt gate: IF cleared").isFalse();
        assertThat(SharedInfo.upcallPending(after.memory(), PvFixture.SI1, 0)).as("the guest clears it").isTrue();
        assertThat(EventDelivery.entryInterruptionInformation(0xF3)).isEqualTo(0x8000_00F3);
    }

    @Test
    void withIfClearTheHypervisorOpensAnInterruptWindowAndInjectsWhenTheGuestSetsIf() {
        XenMachine m = PvFixture.connected(pv());
        m = EventDelivery.setInterruptFlag(m, K, false).machine();
        m = PvFixture.read(m, K, 0x5000); // K runs in non-root operation with IF = 0
        m = ok(m, H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0)); // kicked: an external-interrupt exit
        assertThat(m.running(K)).isFalse();
        m = PvFixture.read(m, K, 0x5000); // entered: IF = 0, nothing injected, the window requested
        assertThat(m.pv().domain(Hv.D1).vcpu(0).upcallsInjected()).isZero();
        assertThat(m.pv().domain(Hv.D1).vcpu(0).interruptWindowExiting()).isTrue();
        HvStep sti = EventDelivery.setInterruptFlag(m, K, true);
        assertThat(sti.outcome()).isEqualTo(new VcpuOutcome.Resumed(ExitReason.INTERRUPT_WINDOW, 0, "EVT-9"));
        assertThat(sti.vmExits()).isEqualTo(1);
        assertThat(sti.machine().vcpu(K).vmcs().exitInformation().reason()).isEqualTo(ExitReason.INTERRUPT_WINDOW);
        XenMachine after = PvFixture.read(sti.machine(), K, 0x5000);
        assertThat(after.pv().domain(Hv.D1).vcpu(0).upcallsInjected()).isEqualTo(1);
        assertThat(after.pv().domain(Hv.D1).vcpu(0).interruptWindowExiting()).isFalse();
    }

    // ---- timer and idle ----------------------------------------------------------------------------------------

    @Test
    void theSingleShotTimerRaisesVirqTimerWhenTimeReachesItsDeadline() {
        XenMachine m = ok(pv(), K, evtchn(EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.VIRQ_TIMER, 0));
        m = ok(m, K, Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP, VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER, 0, 10,
                VirtualTime.VCPU_SSHOTTMR_FUTURE));
        XenMachine early = VirtualTime.advanceTime(m, 9);
        assertThat(pending(early, PvFixture.SI1, 1)).isFalse();
        XenMachine fired = VirtualTime.advanceTime(early, 1);
        assertThat(pending(fired, PvFixture.SI1, 1)).isTrue();
        assertThat(fired.pv().domain(Hv.D1).vcpu(0).timerDeadline()).isEqualTo(VcpuPv.NO_DEADLINE);
        assertThat(fired.pv().now()).isEqualTo(10);
        XenMachine handled = EventChannels.guestHandleUpcall(fired, K); // else the next entry injects (EVT-9)
        assertThat(pending(handled, PvFixture.SI1, 1)).isFalse();
        refused(handled, K, Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP, VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER, 0,
                3, VirtualTime.VCPU_SSHOTTMR_FUTURE), Errno.ETIME, "TIME-2");
        refused(handled, K, Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP, VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER, 1,
                30, 0), Errno.EINVAL, "TIME-2");
        holds(fired);
    }

    @Test
    void aBlockedVcpuRunsNothingUntilAnEventWakesIt() {
        XenMachine m = PvFixture.connected(pv());
        m = ok(m, K, Hypercall.of(PvHypercalls.HYPERVISOR_SCHED_OP, VirtualTime.SCHEDOP_BLOCK));
        assertThat(m.vcpu(K).blocked()).isTrue();
        HvStep idle = Hypervisor.run(m, K, new GuestInstruction.MemoryAccess(Access.write(0x5000, 7)));
        assertThat(idle.outcome()).isInstanceOf(VcpuOutcome.Blocked.class);
        assertThat(idle.machine().memory()).isEqualTo(m.memory());
        XenMachine woken = ok(m, H, evtchn(EventChannels.EVTCHNOP_SEND, 1, 0));
        assertThat(woken.vcpu(K).blocked()).isFalse();
        holds(woken);
        XenMachine stays = ok(woken, K, Hypercall.of(PvHypercalls.HYPERVISOR_SCHED_OP, VirtualTime.SCHEDOP_BLOCK));
        assertThat(stays.vcpu(K).blocked()).as("an event is pending: TIME-3 does not block").isFalse();
        HvStep hlt = Hypervisor.run(woken, K, new GuestInstruction.Hlt());
        assertThat(hlt.outcome()).isEqualTo(new VcpuOutcome.Resumed(ExitReason.HLT, 0, "TIME-3"));
    }

    // ---- grant tables -------------------------------------------------------------------------------------------

    @Test
    void aGrantIsMappedWithTheGrantedAccessAndNothingSurvivesItsUnmap() {
        XenMachine m = PvFixture.granted(pv(), 0, false);
        long handle = PvFixture.rax(m, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR,
                GrantTables.GNTMAP_HOST_MAP, 0, Hv.D2));
        XenMachine mapped = ok(m, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR, GrantTables.GNTMAP_HOST_MAP,
                0, Hv.D2));
        assertThat(handle).isZero();
        Entry pte = mapped.paging().entry(Hv.L1, 7);
        assertThat(pte.present()).isTrue();
        assertThat(pte.writable()).isTrue();
        assertThat(pte.frame()).isEqualTo(GRANTED);
        assertThat(mapped.frames().get(GRANTED).type()).isEqualTo(PageType.WRITABLE);
        assertThat(mapped.frames().get(GRANTED).typeCount()).isEqualTo(1);
        assertThat(GrantTables.entry(mapped, Hv.D2, 0).flags()).isEqualTo(GrantTables.GTF_PERMIT_ACCESS
                | GrantTables.GTF_READING | GrantTables.GTF_WRITING);
        assertThat(GrantTables.guestGrant(mapped, Hv.D2, 0, Hv.D1, GRANTED, false, true)).as("GNT-7").isNull();
        HvStep write = Hypervisor.run(mapped, K, new GuestInstruction.MemoryAccess(Access.write(HOST_ADDR, 0x55)));
        assertThat(write.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        XenMachine used = write.machine();
        assertThat(used.memory().read(GRANTED, 0)).isEqualTo(0x55);
        holds(used);
        XenMachine unmapped = ok(used, K, gnttab(GrantTables.GNTTABOP_UNMAP_GRANT_REF, HOST_ADDR, 0, 0, 0));
        assertThat(unmapped.paging().entry(Hv.L1, 7).present()).isFalse();
        assertThat(unmapped.pcpu(0).tlb().entries().stream().filter(e -> e.physicalBase() >>> 12 == GRANTED))
                .as("GNT-5: flushed").isEmpty();
        assertThat(unmapped.frames().get(GRANTED).typeCount()).isZero();
        assertThat(unmapped.frames().get(GRANTED).count()).isZero();
        assertThat(GrantTables.entry(unmapped, Hv.D2, 0).flags()).isEqualTo(GrantTables.GTF_PERMIT_ACCESS);
        assertThat(unmapped.pv().domain(Hv.D1).maptrack()).isEmpty();
        holds(unmapped);
        refused(unmapped, K, gnttab(GrantTables.GNTTABOP_UNMAP_GRANT_REF, HOST_ADDR, 0, 0, 0), Errno.EINVAL,
                "GNT-5");
    }

    @Test
    void aReadOnlyGrantIsNeverMappedWritable() {
        XenMachine m = PvFixture.granted(pv(), 1, true);
        refused(m, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR, GrantTables.GNTMAP_HOST_MAP, 1, Hv.D2),
                Errno.EINVAL, "GNT-2");
        XenMachine ro = ok(m, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR, GrantTables.GNTMAP_HOST_MAP
                | GrantTables.GNTMAP_READONLY, 1, Hv.D2));
        assertThat(ro.paging().entry(Hv.L1, 7).writable()).isFalse();
        assertThat(ro.frames().get(GRANTED).typeCount()).as("no type reference for a read-only mapping").isZero();
        HvStep write = Hypervisor.run(ro, K, new GuestInstruction.MemoryAccess(Access.write(HOST_ADDR, 1)));
        assertThat(write.outcome()).isNotInstanceOf(VcpuOutcome.Retired.class);
        assertThat(write.machine().memory().read(GRANTED, 0)).isZero();
        holds(ro);
    }

    @Test
    void grantRulesRefuse() {
        XenMachine m = pv();
        refused(m, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR, GrantTables.GNTMAP_HOST_MAP, 0, Hv.D2),
                Errno.EINVAL, "GNT-2"); // no grant: flags 0
        XenMachine g = GrantTables.guestGrant(m, Hv.D2, 0, Hv.D3, GRANTED, false, false);
        refused(g, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR, GrantTables.GNTMAP_HOST_MAP, 0, Hv.D2),
                Errno.EINVAL, "GNT-2"); // granted to d3, not d1
        XenMachine mine = PvFixture.granted(m, 0, false);
        refused(mine, K, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, 0x5000, GrantTables.GNTMAP_HOST_MAP, 0, Hv.D2),
                Errno.EINVAL, "GNT-2"); // the L1 entry is in use
        XenMachine toD3 = GrantTables.guestGrant(m, Hv.D2, 0, Hv.D3, GRANTED, false, false);
        toD3 = PvFixture.ok(toD3, Hv.S, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP,
                PvHypercalls.XENMEM_ADD_TO_PHYSMAP, PvHypercalls.XENMAPSPACE_SHARED_INFO, 1));
        refused(toD3, Hv.S, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, HOST_ADDR, GrantTables.GNTMAP_HOST_MAP, 0,
                Hv.D2), Errno.EOPNOTSUPP, "GNT-2"); // a shadow-mode mapper: not modelled
    }

    /**
     * A HAP mapper (create_grant_p2m_mapping): d1 grants its frame 0x2c to d2, which maps it at guest-physical 0x9000
     * (not its RAM): the EPT leaf maps 0x2c read/write, not executable; d2's guest tables (a plain store: they are the
     * guest's own under HAP) map VA 0x9000 to gfn 9, and d2v0 reads what d1 wrote. The unmap clears the leaf and
     * flushes d2's TLBs: I1 holds before and after; RAM and a used leaf are refused.
     */
    @Test
    void aHapDomainMapsAGrantIntoItsEpt() {
        XenMachine m = GrantTables.guestGrant(pv(), Hv.D1, 0, Hv.D2, 0x2c, false, false);
        m = m.withPaging(m.paging().withMemory(m.memory().write(0x2c, 0, 0x77)).write(0x33, 9,
                Entry.table(9, true, false)));
        refused(m, H, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, 0x4000, GrantTables.GNTMAP_HOST_MAP, 0, Hv.D1),
                Errno.EINVAL, "GNT-2"); // gfn 4 is d2's RAM
        XenMachine mapped = ok(m, H, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, 0x9000, GrantTables.GNTMAP_HOST_MAP,
                0, Hv.D1));
        GrantMapping g = mapped.pv().domain(Hv.D2).maptrack().get(0);
        assertThat(g.ept()).isTrue();
        org.hybridv.ept.EptEntry leaf = new org.hybridv.ept.EptEntry(mapped.memory().read(g.l1mfn(), g.l1index()));
        assertThat(leaf.frame()).isEqualTo(0x2c);
        assertThat(leaf.permissions()).isEqualTo(org.hybridv.ept.EptPermissions.READ_WRITE);
        refused(mapped, H, gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, 0x9000, GrantTables.GNTMAP_HOST_MAP, 0,
                Hv.D1), Errno.EINVAL, "GNT-2"); // the leaf is in use
        HvStep read = Hypervisor.run(mapped, H, new GuestInstruction.MemoryAccess(Access.read(0x9000)));
        assertThat(read.outcome()).isEqualTo(new VcpuOutcome.Retired(0x77));
        holds(read.machine());
        XenMachine unmapped = ok(read.machine(), H, gnttab(GrantTables.GNTTABOP_UNMAP_GRANT_REF, 0x9000, 0, 0, 0));
        assertThat(unmapped.memory().read(g.l1mfn(), g.l1index())).isZero();
        assertThat(unmapped.pcpu(0).tlb().entries().stream().filter(e -> e.physicalBase() >>> 12 == 0x2c)).isEmpty();
        holds(unmapped);
        XenMachine bad = ok(Hypervisor.run(ok(m.withFaults(Faults.of(Fault.GRANT_UNMAP_NO_FLUSH)), H, gnttab(
                GrantTables.GNTTABOP_MAP_GRANT_REF, 0x9000, GrantTables.GNTMAP_HOST_MAP, 0, Hv.D1)), H,
                new GuestInstruction.MemoryAccess(Access.read(0x9000))).machine(), H, gnttab(
                        GrantTables.GNTTABOP_UNMAP_GRANT_REF, 0x9000, 0, 0, 0));
        assertThat(Isolation.check(bad)).isInstanceOf(InvariantResult.Violated.class);
    }

    @Test
    void copyGoesThroughGrantsOnly() {
        XenMachine m = PvFixture.granted(pv(), 2, false);
        m = m.withPaging(m.paging().withMemory(m.memory().write(GRANTED, 0, 0x1234)));
        XenMachine copied = ok(m, K, gnttab(GrantTables.GNTTABOP_COPY, ((long) Hv.D2 << 32) | 2,
                ((long) EventChannels.DOMID_SELF << 32) | 0x2c, GrantTables.GNTCOPY_SOURCE_GREF, 8));
        assertThat(copied.memory().read(0x2c, 0)).isEqualTo(0x1234);
        holds(copied);
        refused(m, K, gnttab(GrantTables.GNTTABOP_COPY, ((long) Hv.D2 << 32) | 7, ((long) Hv.D1 << 32) | 0x2c, 0, 8),
                Errno.EPERM, "GNT-6"); // d2's frame by gfn: not the caller's
        XenMachine ro = PvFixture.granted(pv(), 2, true);
        refused(ro, K, gnttab(GrantTables.GNTTABOP_COPY, ((long) Hv.D1 << 32) | 0x2c, ((long) Hv.D2 << 32) | 2,
                GrantTables.GNTCOPY_DEST_GREF, 8), Errno.EINVAL, "GNT-6");
        refused(m, K, gnttab(GrantTables.GNTTABOP_COPY, ((long) Hv.D1 << 32) | 0x2c, ((long) Hv.D1 << 32) | Hv.L1,
                0, 8), Errno.EINVAL, "GNT-6"); // the destination is a page table
    }

    @Test
    void isolationStillCatchesAForeignFrameWithoutAGrant() {
        XenMachine m = PvFixture.granted(pv(), 0, false);
        XenMachine planted = m.withPaging(m.paging().write(Hv.L1, 7, new Entry((GRANTED << 12) | 0x7
                | GrantTables.PAGE_GNTTAB)));
        InvariantResult r = Isolation.check(planted);
        assertThat(r).isInstanceOf(InvariantResult.Violated.class);
        assertThat(r.toString()).contains("no active grant mapping");
        assertThat(PvInvariants.grants(planted)).isInstanceOf(InvariantResult.Violated.class);
    }
}
