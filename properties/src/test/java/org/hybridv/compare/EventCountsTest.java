package org.hybridv.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The events of each lmbench-like row on each platform, with expectations written from the rules, not read off the
 * output: the PV rules of {@code PvPlatform} (one trap and one page-table switch per kernel entry from user mode, one
 * {@code iret} hypercall and one switch per return, {@code mmu_update} per PTE write, one {@code mmuext_op} per
 * {@code write_cr3} and per INVLPG), the event budgets of docs/rules/hybrid.md (BUD-1 natively nothing exits, BUD-2 a
 * system call costs no exit under HAP or in direct mode, BUD-4 {@code set_pte} in direct mode is one
 * {@code mmu_update}, BUD-6 a context switch in direct mode is one CR-access exit), and the walk lengths of the SDM.
 */
class EventCountsTest {
    static List<Comparison.Measured> rows;

    @BeforeAll
    static void measure() {
        rows = Comparison.measureLmbench();
    }

    static Events ev(String row, Target t) {
        return rows.stream().filter(r -> r.name().equals(row)).findFirst().orElseThrow().events().get(t);
    }

    @Test
    void nativelyNothingExitsAndNoHypercallOrTrapHappens() {
        for (Comparison.Measured r : rows) {
            Events n = r.events().get(Target.NATIVE);
            assertThat(n.family("vmexit:")).as(r.name()).isZero();
            assertThat(n.family("hypercall:")).as(r.name()).isZero();
            assertThat(n.family("pv:")).as(r.name()).isZero();
        }
    }

    @Test
    void nullCall() {
        // Two round trips per Kernel.syscall; on PV each: 1 trap + 1 switch in, 1 iret + 1 switch out.
        Events pv = ev("null call", Target.PV);
        assertThat(pv.of("pv:trap:entry")).isEqualTo(2);
        assertThat(pv.of("hypercall:iret")).isEqualTo(2);
        assertThat(pv.of("cr3-switch")).isEqualTo(4);
        assertThat(pv.family("vmexit:")).isZero();
        // BUD-2: no exit under HAP or in direct mode; natively no CR3 switch either.
        assertThat(ev("null call", Target.HYBRID).family("vmexit:")).isZero();
        assertThat(ev("null call", Target.HAP).family("vmexit:")).isZero();
        assertThat(ev("null call", Target.NATIVE).of("cr3-switch")).isZero();
        assertThat(ev("null call", Target.HYBRID).of("cr3-switch")).isZero();
    }

    @Test
    void pageFault() {
        // BUD-3/BUD-4/BUD-5: in direct mode the #PF itself does not exit; its set_pte is one mmu_update (a VMCALL).
        Events h = ev("page fault", Target.HYBRID);
        assertThat(h.family("vmexit:")).isEqualTo(1);
        assertThat(h.of("vmexit:VMCALL")).isEqualTo(1);
        assertThat(h.of("hypercall:mmu_update")).isEqualTo(1);
        // PV: the #PF bounced by Xen, mmu_update, the next entry; two returns to user (before the fault, the retry).
        Events pv = ev("page fault", Target.PV);
        assertThat(pv.of("pv:trap:#PF")).isEqualTo(1);
        assertThat(pv.of("pv:trap:entry")).isEqualTo(1);
        assertThat(pv.of("hypercall:mmu_update")).isEqualTo(1);
        assertThat(pv.of("hypercall:iret")).isEqualTo(2);
        assertThat(pv.of("cr3-switch")).isEqualTo(4);
        assertThat(ev("page fault", Target.NATIVE).of("exception")).isEqualTo(1);
        assertThat(ev("page fault", Target.HAP).family("vmexit:")).isZero();
    }

    @Test
    void contextSwitch() {
        // Two switches per iteration. BUD-6: one CR-access exit per switch in direct mode (MX-3), none under HAP.
        assertThat(ev("context switch", Target.HYBRID).of("vmexit:CR_ACCESS")).isEqualTo(2);
        assertThat(ev("context switch", Target.HYBRID).family("vmexit:")).isEqualTo(2);
        assertThat(ev("context switch", Target.HAP).family("vmexit:")).isZero();
        // PV: xen_write_cr3 is one mmuext_op per switch; CR3 loads: 2 base changes + 2 round trips × 2 toggles.
        Events pv = ev("context switch", Target.PV);
        assertThat(pv.of("hypercall:mmuext_op")).isEqualTo(2);
        assertThat(pv.of("cr3-switch")).isEqualTo(2 + 2 * 2);
        assertThat(ev("context switch", Target.NATIVE).of("cr3-switch")).isEqualTo(2);
    }

    @Test
    void mmapMunmap() {
        int pages = Workload.REGION_PAGES;
        // set_pte per map and pte_clear per unmap: mmu_update each; flush_tlb_single per unmap.
        Events pv = ev("mmap/munmap", Target.PV);
        assertThat(pv.of("hypercall:mmu_update")).isEqualTo(2L * pages);
        assertThat(pv.of("hypercall:mmuext_op")).isEqualTo(pages); // MMUEXT_INVLPG_LOCAL
        Events h = ev("mmap/munmap", Target.HYBRID);
        assertThat(h.of("vmexit:VMCALL")).isEqualTo(2L * pages);
        assertThat(h.family("vmexit:")).isEqualTo(2L * pages); // INVLPG is not intercepted in direct mode
        assertThat(h.of("tlb-flush:page")).isEqualTo(pages);
        assertThat(ev("mmap/munmap", Target.NATIVE).of("tlb-flush:page")).isEqualTo(pages);
    }

    @Test
    void pvTrapsAndIretsAreTheRingTransitionsCountedFromTheKernelsRule() {
        // Two independent counts: the PV platform's own (traps, iret hypercalls) and the kernel's rule (a round trip
        // per user-mode instruction, two per system call).
        for (Comparison.Measured r : rows) {
            Events pv = r.events().get(Target.PV);
            assertThat(pv.of("pv:trap:entry") + pv.of("pv:trap:#PF")).as(r.name()).isEqualTo(pv.of("ring:entry"));
            assertThat(pv.of("hypercall:iret")).as(r.name()).isEqualTo(pv.of("ring:exit"));
            assertThat(pv.of("ring:entry")).as(r.name()).isEqualTo(r.events().get(Target.NATIVE).of("ring:entry"));
        }
    }

    @Test
    void walkReferencesAre4PerMissAnd24Under2DPaging() {
        assertThat(Target.TWO_D_REFS).isEqualTo(24);
        for (Comparison.Measured r : rows) {
            for (Map.Entry<Target, Events> e : r.events().entrySet()) {
                long per = e.getKey() == Target.HAP ? 24 : 4;
                assertThat(e.getValue().of("walk-ref")).as(r.name() + " " + e.getKey())
                        .isEqualTo(per * e.getValue().of("tlb-miss"));
            }
        }
        // The same accesses miss under HAP as natively (the TLB caches the combined translation).
        assertThat(ev("context switch", Target.HAP).of("tlb-miss"))
                .isEqualTo(ev("context switch", Target.NATIVE).of("tlb-miss"));
    }

    @Test
    void noGlobalKernelPagesUnderPvMeansTheKernelRefillsAfterEveryEntry() {
        // Natively getpid's read of `current` hits (the kernel's mapping survives the ring change); under PV the
        // entry's page-table switch flushed it.
        assertThat(ev("null call", Target.NATIVE).of("tlb-miss")).isZero();
        assertThat(ev("null call", Target.PV).of("tlb-miss")).isEqualTo(1);
    }

    @Test
    void theNativeWalkTheX86LayerPerformsReadsAsManyEntriesAsAWalkIsPriced() {
        assertThat(new org.hybridv.bench.Workloads.FourLevel().walk().path()).hasSize(Target.NATIVE.walkRefs());
    }

    @Test
    void aNativeMissIsAnAccessTheX86LayerDidNotAnswerFromTheTlb() {
        // The counter's look-up before the access against the processor's own hit flag for the same access from the
        // same state (Processor.access is a function: running it again on the pre-state gives the same step).
        int accesses = 0;
        for (Workload w : Workload.lmbenchRows()) {
            org.hybridv.guest.GuestSystem s = Target.NATIVE.boot();
            for (org.hybridv.guest.GuestOp op : w.setup()) {
                s = org.hybridv.guest.Kernel.apply(s, op).post();
            }
            for (org.hybridv.guest.GuestOp op : w.measured()) {
                org.hybridv.guest.KernelStep k = org.hybridv.guest.Kernel.apply(s, op);
                for (org.hybridv.guest.Executed x : k.trace()) {
                    if (x.instruction() instanceof org.hybridv.vmx.GuestInstruction.MemoryAccess a) {
                        org.hybridv.x86.X86Machine m = ((org.hybridv.guest.NativePlatform) x.pre()).machine();
                        boolean hit = org.hybridv.x86.Processor.access(m, a.access()).tlbHit();
                        // a write through a clean cached entry re-walks to set D: counted as a hit by the look-up
                        boolean cleanWrite = !hit && a.access().kind() == org.hybridv.x86.AccessKind.WRITE
                                && m.tlb().lookup(m.tlbTag(), m.cpu().currentPcid(), a.access().linear()) != null;
                        if (!cleanWrite) {
                            assertThat(EventCounter.miss(x, a.access().linear())).as(w.name() + " " + op)
                                    .isEqualTo(!hit);
                            accesses++;
                        }
                    }
                }
                s = k.post();
            }
        }
        assertThat(accesses).isGreaterThan(20);
    }
}
