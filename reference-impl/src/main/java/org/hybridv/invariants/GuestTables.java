package org.hybridv.invariants;

import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.EntryReader;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Walk;
import org.hybridv.xen.Domain;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * A shadow-mode guest's own tables, seen from the observable state only (the guest's CR3 the hypervisor keeps, the
 * CR0 read shadow, the p2m, memory) and stated here rather than taken from the shadow code the invariants judge:
 * <ul>
 * <li>the CPU state the guest believes it runs with: the hardware guest state with the guest's CR3 and the guest's
 * CR0.WP (the read shadow holds the value the guest set; the hardware WP is forced — MISC-1);</li>
 * <li>the guest walk: the architectural IA-32e walk (SDM 4.5) with each table read through the p2m — a table whose
 * gfn is not RAM cannot be read;</li>
 * <li>the guest page tables (what SH-4 must write-trap): every frame whose entries a guest walk from any of the
 * domain's guest CR3s may read, at any level — computed level by level, so a frame that is a table at two levels
 * contributes the tables below each use.</li>
 * </ul>
 */
final class GuestTables {
    private GuestTables() {}

    /** The guest's own view of vCPU {@code v}'s paging registers. */
    static CpuState guestCpu(Vcpu v) {
        CpuState hw = v.vmcs().guest().cpu();
        boolean wp = (v.vmcs().controls().cr0ReadShadow() & (1L << Cr0.WP_BIT)) != 0;
        return hw.withCr3(Cr3.ofBits(v.shadow().guestCr3())).withCr0(hw.cr0().withWp(wp));
    }

    /** The guest's walk of {@code linear} through its own tables, each read through {@code d}'s p2m. */
    static Walk walk(XenMachine m, Domain d, CpuState guest, long linear) {
        return PageWalk.walk(new P2m(m.memory(), d), guest, linear);
    }

    /** The guest's walk of {@code linear} for shadow-mode vCPU {@code v}. */
    static Walk walk(XenMachine m, Vcpu v, long linear) {
        return walk(m, m.domain(v.id().domain()), guestCpu(v), linear);
    }

    /** The machine frames any guest walk of {@code d}'s active shadow-mode vCPUs may read entries from. */
    static Set<Long> pageTables(XenMachine m, Domain d) {
        PhysicalMemory mem = m.memory();
        Set<Long> all = new TreeSet<>();
        Set<Long> level = new HashSet<>();
        for (Vcpu v : d.vcpus()) {
            if (v.shadow().active()) {
                level.add(d.machineFrame(Cr3.ofBits(v.shadow().guestCr3()).pml4Base() >>> 12));
            }
        }
        for (int n = 4; n >= 1 && !level.isEmpty(); n--) {
            Set<Long> next = new HashSet<>();
            for (long mfn : level) {
                if (mfn < 0 || mfn >= mem.frameCount()) {
                    continue;
                }
                all.add(mfn);
                if (n == 1) {
                    continue;
                }
                // only the non-zero words: a zero entry is not present
                for (int i = mem.nextNonZero(mfn, 0); i < PhysicalMemory.WORDS_PER_FRAME;
                        i = mem.nextNonZero(mfn, i + 1)) {
                    Entry e = new Entry(mem.read(mfn, i));
                    // a present entry references a table unless it maps a page (PS = 1 in an L3 or L2 entry)
                    if (e.present() && !(n <= 3 && e.pageSize())) {
                        next.add(d.machineFrame(e.frame()));
                    }
                }
            }
            level = next;
        }
        return all;
    }

    /** Guest-physical reads through the p2m; a gfn that is not RAM refuses the read. */
    private static final class P2m implements EntryReader {
        private final PhysicalMemory memory;
        private final Domain domain;
        private boolean refused;

        P2m(PhysicalMemory memory, Domain domain) {
            this.memory = memory;
            this.domain = domain;
        }

        @Override
        public long read(long gpa) {
            long mfn = domain.machineFrame(gpa >>> 12);
            refused = mfn < 0 || mfn >= memory.frameCount();
            return refused ? 0 : memory.read(mfn, (int) ((gpa & 0xFFF) >>> 3));
        }

        @Override
        public boolean refused() {
            return refused;
        }
    }
}
