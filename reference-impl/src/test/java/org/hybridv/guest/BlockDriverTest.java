package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.invariants.BlockInvariants;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.AtaDisk;
import org.hybridv.xen.BlkBack;
import org.hybridv.xen.Blkif;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * The kernel's block driver (BLK-1..BLK-6, EMU-7): the same sector reads and writes natively, through the split
 * driver under the Xen-like hypervisor (shadow before SWITCH_MMU, direct after, HAP) and through the emulated ATA
 * disk under the KVM-like one, each in lockstep with the native twin (I3) and with the block invariants holding.
 */
class BlockDriverTest {
    /** The shipped contents of sector {@code s} (what every disk of the model holds before a write). */
    static List<Long> shipped(long s) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < Blkif.WORDS_PER_SECTOR; i++) {
            l.add(0x5EC7_0000_0000_0000L | s << 16 | i);
        }
        return l;
    }

    static List<Long> written(long value) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < Blkif.WORDS_PER_SECTOR; i++) {
            l.add(value + i);
        }
        return l;
    }

    static Lockstep.LockstepStep step(Lockstep l, GuestOp op) {
        Lockstep.LockstepStep s = l.step(op);
        assertThat(HybridInvariants.check(s)).as("invariants after %s: guest %s, twin %s", op, s.guest().result(),
                s.twin().result()).isEmpty();
        if (s.post().guest().platform() instanceof XenPlatform x) {
            assertThat(BlockInvariants.check(x.machine())).as("block invariants after %s", op)
                    .isEqualTo(InvariantResult.HOLDS);
        }
        return s;
    }

    static int hypercalls(KernelStep k, long nr) {
        return (int) k.trace().stream().filter(e -> e.isHypercall(nr)).count();
    }

    static int ioInstructions(KernelStep k) {
        return (int) k.trace().stream().filter(e -> e.instruction() instanceof GuestInstruction.Io).count();
    }

    /** Boot to {@code to}, then read 3, write 3, read 3 and read 12 (the second page of the back-end's disk). */
    static Lockstep workload(Lockstep l, BootStage to, boolean split) {
        l = step(l, new GuestOp.Boot(to)).post();
        Lockstep.LockstepStep r = step(l, new GuestOp.BlockRead(3));
        assertThat(r.guest().result()).isEqualTo(new KernelResult.Sector(3, shipped(3)));
        assertThat(r.twin().result()).isEqualTo(r.guest().result());
        if (split) {
            assertThat(hypercalls(r.guest(), PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP)).as("alloc_unbound, send")
                    .isEqualTo(2);
            assertThat(ioInstructions(r.guest())).isZero();
        } else {
            assertThat(ioInstructions(r.guest())).as("task file 6, status 2, data 128").isEqualTo(136);
        }
        Lockstep.LockstepStep w = step(r.post(), new GuestOp.BlockWrite(3, 0x1000));
        assertThat(w.guest().result()).isEqualTo(new KernelResult.Done());
        Lockstep.LockstepStep back = step(w.post(), new GuestOp.BlockRead(3));
        assertThat(back.guest().result()).isEqualTo(new KernelResult.Sector(3, written(0x1000)));
        Lockstep.LockstepStep other = step(back.post(), new GuestOp.BlockRead(12));
        assertThat(other.guest().result()).isEqualTo(new KernelResult.Sector(12, shipped(12)));
        if (split) {
            assertThat(hypercalls(other.guest(), PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP)).as("send only")
                    .isEqualTo(1);
        }
        return other.post();
    }

    @Test
    void theSplitDriverServesReadsAndWritesInShadowAndDirectModeAndTheTwinAgrees() {
        for (BootStage to : List.of(BootStage.HYPERCALL_PAGE_INSTALLED, BootStage.DIRECT)) {
            Lockstep l = workload(Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE,
                    CpuidIdentity.XEN), to, true);
            XenMachine m = ((XenPlatform) l.guest().platform()).machine();
            // the write reached the back-end's disk, sector 3 of its first disk frame
            assertThat(BlkBack.diskWord(m, XenPlatform.BLOCK_BACK_END, 3, 5)).isEqualTo(0x1005);
            BlkBack.Info i = BlkBack.info(m, XenPlatform.BLOCK_BACK_END);
            assertThat(i.connected()).isTrue();
            assertThat(i.reqCons()).isEqualTo(4);
            assertThat(i.rspProdPvt()).isEqualTo(4);
            // only the ring stays mapped in the back-end
            assertThat(m.pv().domain(XenPlatform.BLOCK_BACK_END).maptrack()).hasSize(1);
        }
    }

    /**
     * The block driver's events and the timer share the kernel's one upcall (BOOT-8: the callback vector set at boot):
     * after block requests under Xen (shadow, then direct) the block port is not left pending (EVT-10: the handler
     * cleared it), and a PV timer tick afterwards is counted exactly once, as its twin's (I3).
     */
    @Test
    void blockEventsAndTheTimerShareTheUpcallAndATickAfterwardsCountsOnce() {
        for (BootStage to : List.of(BootStage.HYPERCALL_PAGE_INSTALLED, BootStage.DIRECT)) {
            Lockstep l = workload(Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE,
                    CpuidIdentity.XEN), to, true);
            XenPlatform x = (XenPlatform) l.guest().platform();
            Lockstep.LockstepStep t = step(l, new GuestOp.TimerTick(10, true));
            assertThat(t.guest().result()).as(to + ": the tick after block requests")
                    .isEqualTo(new KernelResult.Ticked(1, 10));
            assertThat(t.twin().result()).isEqualTo(t.guest().result());
            assertThat(hypercalls(t.guest(), org.hybridv.xen.PvHypercalls.HYPERVISOR_VCPU_OP)).as(to + ": PV tick")
                    .isEqualTo(1);
            XenMachine m = ((XenPlatform) t.post().guest().platform()).machine();
            long si = m.pv().domain(x.vcpu().domain()).sharedInfo();
            assertThat(org.hybridv.xen.SharedInfo.upcallPending(m.memory(), si, 0)).as(to + ": nothing left pending")
                    .isFalse();
        }
    }

    /**
     * BLK-6: the front-end ends its buffer's grant only after the response: in the request's trace, the store of 0
     * into grant entry 1 comes after the event send and after the load of the response's id; the entry is 0 after.
     */
    @Test
    void theFrontEndEndsTheBuffersGrantOnlyAfterItsResponse() {
        Lockstep l = step(Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE, CpuidIdentity.XEN),
                new GuestOp.Boot(BootStage.DIRECT)).post();
        l = step(l, new GuestOp.BlockRead(1)).post();
        Lockstep.LockstepStep r = step(l, new GuestOp.BlockRead(2));
        XenMachine m = ((XenPlatform) r.post().guest().platform()).machine();
        long gt = m.pv().domain(1).grantTable();
        int gtPfn = -1;
        for (int pfn = 0; pfn < r.post().guest().kernel().frames(); pfn++) {
            if (r.post().guest().kernel().frameOf(pfn) == gt) {
                gtPfn = pfn;
            }
        }
        long dataRef = Layout.directMap(gtPfn) + 8L * 1;
        List<Executed> t = r.guest().trace();
        int send = -1;
        int end = -1;
        int grant = -1;
        for (int i = 0; i < t.size(); i++) {
            Executed e = t.get(i);
            if (e.isHypercall(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP)) {
                send = i;
            }
            if (e.instruction() instanceof GuestInstruction.MemoryAccess a && a.access().linear() == dataRef
                    && a.access().kind() == org.hybridv.x86.AccessKind.WRITE) {
                if (a.access().value() == 0) {
                    end = i;
                } else {
                    grant = i;
                }
            }
        }
        assertThat(grant).as("the grant is written").isGreaterThanOrEqualTo(0);
        assertThat(send).as("the event is sent after the grant").isGreaterThan(grant);
        assertThat(end).as("the grant is ended after the back-end's response").isGreaterThan(send);
        assertThat(m.memory().read(gt, 1)).isZero();
    }

    @Test
    void aSplitDriverSetUpBeforeSwitchMmuKeepsServingAfterIt() {
        Lockstep l = step(Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE, CpuidIdentity.XEN),
                new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED)).post();
        l = step(l, new GuestOp.BlockWrite(7, 0x70)).post();
        l = step(l, new GuestOp.Boot(BootStage.DIRECT)).post();
        assertThat(l.guest().kernel().stage()).isEqualTo(BootStage.DIRECT);
        Lockstep.LockstepStep r = step(l, new GuestOp.BlockRead(7));
        assertThat(r.guest().result()).isEqualTo(new KernelResult.Sector(7, written(0x70)));
    }

    @Test
    void underHapTheSplitDriverServesToo() {
        workload(Lockstep.startWithBlockBackEnd(MmuMode.HAP, 64, 64, Faults.NONE, CpuidIdentity.XEN),
                BootStage.DIRECT, true);
    }

    @Test
    void underKvmTheKernelUsesTheEmulatedAtaDiskEveryPortAccessAnExit() {
        Lockstep l = Lockstep.start(MmuMode.HAP, 64, 64, Faults.NONE, CpuidIdentity.KVM);
        l = workload(l, BootStage.DIRECT, false);
        XenMachine m = ((XenPlatform) l.guest().platform()).machine();
        assertThat(m.domain(1).devices().ata().sector(3)).isEqualTo(written(0x1000));
        Lockstep.LockstepStep r = l.step(new GuestOp.BlockRead(5));
        assertThat(r.guest().exits().of("IO_INSTRUCTION")).as("one I/O exit per port access").isEqualTo(136);
        assertThat(r.twin().exits().total()).isZero();
    }

    @Test
    void withoutABackEndTheXenKernelKeepsTheEmulatedDisk() {
        Lockstep l = workload(Lockstep.start(MmuMode.SHADOW, 64, 64), BootStage.DIRECT, false);
        assertThat(((NativePlatform) l.twin().platform()).disk().sector(3)).isEqualTo(written(0x1000));
        assertThat(((NativePlatform) l.twin().platform()).disk().status()).isEqualTo(AtaDisk.DRDY);
    }

    @Test
    void aBackEndThatKeepsTheDataMappingIsCaught() {
        Lockstep l = Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.of(Fault.BLKBACK_DATA_MAPPING_LEAKED),
                CpuidIdentity.XEN);
        l = l.step(new GuestOp.Boot(BootStage.DIRECT)).post();
        Lockstep.LockstepStep r = l.step(new GuestOp.BlockRead(3));
        XenMachine m = ((XenPlatform) r.post().guest().platform()).machine();
        assertThat(BlockInvariants.check(m)).isInstanceOfSatisfying(InvariantResult.Violated.class,
                v -> assertThat(v.rule()).isEqualTo("BLK-4"));
        // and the front-end cannot end its grant: the kernel oopses, which its twin does not (I3)
        assertThat(r.guest().result()).isInstanceOf(KernelResult.Oops.class);
    }

    /**
     * The exit rows of {@code hybridv exits}: the split driver's request is one VMCALL (EVTCHNOP_send) in direct and HAP
     * mode; the emulated disk's is one I/O exit per port access: 6 task-file OUTs, 2 status INs and 512 / 4 = 128
     * doubleword data-port accesses; natively none.
     */
    @Test
    void oneBlockRequestCostsOneHypercallByTheSplitDriverAndAnExitPerPortAccessEmulated() {
        java.util.Map<String, BlockAccounting.Row> rows = new java.util.LinkedHashMap<>();
        for (BlockAccounting.Row r : BlockAccounting.measure()) {
            rows.put(r.configuration(), r);
        }
        assertThat(rows.keySet()).containsExactly("native", "shadow", "direct", "HAP", "HAP/KVM",
                "shadow, no back-end");
        assertThat(rows.get("native").read().exits().total()).isZero();
        assertThat(BlockAccounting.Row.portAccesses(rows.get("native").read())).isEqualTo(6 + 2 + 128);
        for (String pv : List.of("direct", "HAP")) {
            assertThat(rows.get(pv).read().exits().byReason()).as(pv).containsExactly(java.util.Map.entry("VMCALL",
                    1));
            assertThat(BlockAccounting.Row.hypercalls(rows.get(pv).read())).isEqualTo(1);
            assertThat(BlockAccounting.Row.portAccesses(rows.get(pv).read())).isZero();
        }
        assertThat(rows.get("shadow").read().exits().of("VMCALL")).isEqualTo(1);
        for (String emu : List.of("HAP/KVM", "shadow, no back-end")) {
            assertThat(rows.get(emu).read().exits().of("IO_INSTRUCTION")).as(emu).isEqualTo(6 + 2 + 128);
            assertThat(rows.get(emu).write().exits().of("IO_INSTRUCTION")).as(emu).isEqualTo(6 + 2 + 128);
            assertThat(BlockAccounting.Row.hypercalls(rows.get(emu).read())).isZero();
        }
        assertThat(BlockAccounting.table()).isEqualTo(BlockAccounting.table());
        assertThat(BlockAccounting.table().lines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(80));
    }
}
