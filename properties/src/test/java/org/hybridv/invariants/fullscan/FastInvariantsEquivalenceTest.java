package org.hybridv.invariants.fullscan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hybridv.ept.Eptp;
import org.hybridv.gen.Choices;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.invariants.GuestMappings;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domain;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The optimised invariant checks (non-zero-word enumeration, messages built only for a violation) against their
 * full-scan originals ({@code FullScan*}), side by side, on the states of seeded random runs of the 3-domain system
 * AND on those states with planted damage (a random entry written into a random table, data or Xen frame), so that
 * both the holding and the violating verdicts are compared — verdict and complete text must be equal.
 */
class FastInvariantsEquivalenceTest {
    private static final int RUNS = 120;

    @Test
    @DisplayName("the optimised I1, I2, I6, SH-2 and reference counts give the full scan's verdicts, texts included")
    void optimisedChecksEqualTheFullScan() {
        Choices c = Choices.random(20261202L);
        int states = 0;
        int violated = 0;
        for (int r = 0; r < RUNS; r++) {
            HypervisorCases.Run run = HypervisorCases.generate(c);
            XenMachine m = run.initial();
            for (HypervisorCases.Op op : run.ops()) {
                HvStep s = Hypervisor.run(m, op.vcpu(), op.insn(), op.regs());
                m = s.machine();
                violated += compare(m, "after " + op);
                XenMachine damaged = damage(m, c);
                violated += compare(damaged, "after " + op + " and planted damage");
                states += 2;
            }
        }
        // the comparison must have seen both kinds of verdict, many times
        assertThat(states).isGreaterThan(2 * RUNS);
        assertThat(violated).as("violating states compared").isGreaterThan(RUNS / 4);
    }

    /** Compares every check on {@code m}; returns 1 if some check is violated there. */
    private static int compare(XenMachine m, String at) {
        String i1 = Isolation.check(m).toString();
        assertThat(i1).as("I1 %s", at).isEqualTo(FullScanIsolation.check(m).toString());
        String i2 = TranslationIntegrity.check(m).toString();
        assertThat(i2).as("I2 %s", at).isEqualTo(FullScanTranslationIntegrity.check(m).toString());
        String i6 = TlbCoherence.check(m).toString();
        assertThat(i6).as("I6 %s", at).isEqualTo(FullScanTlbCoherence.check(m).toString());
        String pti = PageTableIntegrity.check(m.paging()).toString();
        assertThat(pti).as("PageTableIntegrity %s", at)
                .isEqualTo(FullScanPageTableIntegrity.check(m.paging()).toString());
        String counts = PageTableIntegrity.referenceCounts(m.paging()).toString();
        assertThat(counts).as("reference counts %s", at)
                .isEqualTo(FullScanPageTableIntegrity.referenceCounts(m.paging()).toString());
        String sh2 = ShadowIntegrity.check(m).toString();
        assertThat(sh2).as("SH-2 %s", at).isEqualTo(FullScanShadowIntegrity.check(m).toString());
        for (Domain d : m.domains().values()) {
            for (Vcpu v : d.vcpus()) {
                Long root = m.guestTables().get(v.id());
                if (root != null) {
                    assertThat(GuestMappings.paging(m.memory(), root).toString()).as("mappings of %s %s", v.id(), at)
                            .isEqualTo(FullScanGuestMappings.paging(m.memory(), root).toString());
                }
                if (d.mode() == MmuMode.SHADOW && v.shadow().active()) {
                    List<Long> fast = new ArrayList<>();
                    List<Long> full = new ArrayList<>();
                    assertThat(ShadowIntegrity.leaves(m.memory(), v.shadow().root(), fast).toString())
                            .as("shadow leaves of %s %s", v.id(), at).isEqualTo(
                                    FullScanShadowIntegrity.leaves(m.memory(), v.shadow().root(), full).toString());
                    assertThat(fast).isEqualTo(full);
                }
            }
            if (d.mode() == MmuMode.HAP) {
                assertThat(GuestMappings.ept(m.memory(), new Eptp(d.eptp())).toString()).as("EPT of d%d %s", d.id(),
                        at).isEqualTo(FullScanGuestMappings.ept(m.memory(), new Eptp(d.eptp())).toString());
            }
        }
        boolean any = !(i1.equals("holds") && i2.equals("holds") && i6.equals("holds") && pti.equals("holds")
                && counts.equals("holds") && sh2.equals("holds"));
        return any ? 1 : 0;
    }

    /**
     * {@code m} with one word of machine memory overwritten behind the hypervisor's back: a table frame of any domain
     * (d1's tree, d2's guest tables, d3's guest and shadow tables), a data frame or a Xen frame (the EPT lives
     * there); a guest slot, a Xen L4 slot or the top slot; a present entry to a drawn frame with drawn rights, PS or
     * G, a zero (clearing an entry), or raw bits.
     */
    static XenMachine damage(XenMachine m, Choices c) {
        long frame = switch (c.weighted(30, 15, 15, 20, 10, 10)) {
            case 0 -> 0x10 + c.below(4);
            case 1 -> 0x20 + c.below(3);
            case 2 -> 0x30 + c.below(8);
            case 3 -> 0x40 + c.below(0x20);
            case 4 -> 0x1 + c.below(15);
            default -> c.below(96);
        };
        int index = c.oneOf(0, 0, 1, 4, 5, 6, 7, 8, 9, 256, 300, 511);
        long value = switch (c.weighted(60, 15, 10, 15)) {
            case 0 -> {
                Entry e = Entry.table(c.below(0x62), c.flag(true, 40), c.flag(true, 40));
                yield (c.flag(false, 10) ? e.withPageSize(true) : e).raw() | (c.flag(false, 10) ? 1L << 8 : 0);
            }
            case 1 -> 0;
            case 2 -> c.bits64();
            default -> (long) c.below(0x62) << 12 | c.below(8);
        };
        return m.withPaging(m.paging().write(frame, index, new Entry(value)));
    }

    @Test
    @DisplayName("nextNonZero enumerates exactly the non-zero words, in order, through writes and clears")
    void nextNonZeroIsTheNonZeroWords() {
        Choices c = Choices.random(7);
        PhysicalMemory m = PhysicalMemory.ofFrames(130);
        Map<Long, long[]> model = new TreeMap<>();
        for (int step = 0; step < 5_000; step++) {
            long frame = c.oneOf(0L, 1L, 63L, 64L, 65L, 129L);
            int index = c.flag(true, 30) ? c.below(512) : c.oneOf(0, 63, 64, 127, 128, 511);
            long value = c.flag(true, 40) ? c.bits64() | 1 : 0;
            PhysicalMemory before = m;
            m = m.write(frame, index, value);
            model.computeIfAbsent(frame, f -> new long[512])[index] = value;
            if (step % 97 == 0) {
                // the older memory is unchanged by the write (copy-on-write, bitmap included)
                assertThat(enumerate(before, frame)).isEqualTo(expected(before, frame));
            }
            assertThat(enumerate(m, frame)).isEqualTo(expected(m, frame));
        }
        for (long f = 0; f < 130; f++) {
            assertThat(enumerate(m, f)).isEqualTo(expected(m, f));
            long[] words = model.getOrDefault(f, new long[512]);
            for (int i = 0; i < 512; i++) {
                assertThat(m.read(f, i)).isEqualTo(words[i]);
            }
        }
        assertThat(m.nextNonZero(2, 512)).isEqualTo(512);
    }

    private static List<Integer> enumerate(PhysicalMemory m, long frame) {
        List<Integer> out = new ArrayList<>();
        for (int i = m.nextNonZero(frame, 0); i < 512; i = m.nextNonZero(frame, i + 1)) {
            out.add(i);
        }
        return out;
    }

    private static List<Integer> expected(PhysicalMemory m, long frame) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 512; i++) {
            if (m.read(frame, i) != 0) {
                out.add(i);
            }
        }
        return out;
    }
}
