package org.hybridv.xen;

import java.util.Collections;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;

/**
 * The state of the direct-paging (PV MMU) core: machine memory, which holds the guests' page tables (a guest in
 * direct mode writes machine frame numbers into them), the frame table, and per vCPU its {@code guest_table}: the L4
 * its CR3 points at, which holds one type and one general reference (MX-3, OWN-3). Domains are implicit: a domain
 * owns the frames whose {@link FrameInfo#owner()} is its id. A value meant to be embedded in a larger hypervisor state.
 *
 * @param memory      machine memory (x86 layer)
 * @param frames      the frame table, one entry per frame of {@code memory}
 * @param guestTables the base pointer of each vCPU that has one (a vCPU without one is absent)
 * @param faults      the seeded faults of the hypervisor this state belongs to ({@link Faults#NONE}: the reference);
 *                    the rule functions that take this state consult it, each for its own fault (docs/faults.md)
 */
public record DirectPagingState(PhysicalMemory memory, FrameTable frames, Map<VcpuId, Long> guestTables,
        Faults faults) {

    public DirectPagingState {
        Checks.notNull("memory", memory);
        Checks.notNull("frames", frames);
        Checks.notNull("guest tables", guestTables);
        Checks.notNull("faults", faults);
        if (frames.size() != memory.frameCount()) {
            throw new IllegalArgumentException("frame table size = " + frames.size() + " differs from memory ("
                    + memory.frameCount() + " frames)");
        }
        guestTables = FrozenSortedMap.of(guestTables);
        for (Map.Entry<VcpuId, Long> e : guestTables.entrySet()) {
            Long table = e.getValue();
            if (table == null || table < 0 || table > memory.frameCount() - 1) {
                // the message is built only for a bad entry (this constructor runs on every hypervisor step)
                Checks.notNull("guest table of " + e.getKey(), table);
                Checks.inRange("guest table of " + e.getKey(), table, 0, memory.frameCount() - 1);
            }
        }
    }

    /** A state of the reference hypervisor (no faults). */
    public DirectPagingState(PhysicalMemory memory, FrameTable frames, Map<VcpuId, Long> guestTables) {
        this(memory, frames, guestTables, Faults.NONE);
    }

    /** This state with the seeded faults {@code f}. */
    public DirectPagingState withFaults(Faults f) {
        return new DirectPagingState(memory, frames, guestTables, f);
    }

    /** A machine of {@code frameCount} zeroed, unallocated frames and no base pointers. */
    public static DirectPagingState initial(int frameCount) {
        return new DirectPagingState(PhysicalMemory.ofFrames(frameCount), FrameTable.of(frameCount), Map.of());
    }

    /** Whether {@code mfn} is a frame of this machine (Xen {@code mfn_valid}: RAM). */
    public boolean isFrame(long mfn) {
        return frames.contains(mfn);
    }

    public FrameInfo frame(long mfn) {
        return frames.get(mfn);
    }

    public DirectPagingState withFrame(long mfn, FrameInfo info) {
        return new DirectPagingState(memory, frames.with(mfn, info), guestTables, faults);
    }

    /** Entry {@code index} of frame {@code mfn}. */
    public Entry entry(long mfn, int index) {
        return new Entry(memory.read(mfn, index));
    }

    /**
     * This state with word {@code index} of {@code mfn} set, unchecked: the domain builder writing initial tables, or
     * a store the x86 layer performed through a mapping. Hypercalls never use it on a page-table frame.
     */
    public DirectPagingState write(long mfn, int index, Entry entry) {
        Checks.notNull("entry", entry);
        return new DirectPagingState(memory.write(mfn, index, entry.raw()), frames, guestTables, faults);
    }

    public DirectPagingState withMemory(PhysicalMemory m) {
        return new DirectPagingState(m, frames, guestTables, faults);
    }

    /** Frames {@code mfns} allocated to {@code domain} (the domain builder); each must be free. */
    public DirectPagingState assign(int domain, long... mfns) {
        Checks.inRange("domain", domain, 0, FrameInfo.MAX_DOMAIN);
        return allocate(domain, mfns);
    }

    /** Frames {@code mfns} reserved for the hypervisor (owner {@code dom_xen}): no guest may reach them. */
    public DirectPagingState reserveForXen(long... mfns) {
        return allocate(FrameInfo.XEN, mfns);
    }

    private DirectPagingState allocate(int owner, long... mfns) {
        FrameTable t = frames;
        for (long mfn : mfns) {
            if (!t.get(mfn).equals(FrameInfo.UNUSED)) {
                throw new IllegalArgumentException("mfn = " + mfn + " is not free: " + t.get(mfn));
            }
            t = t.with(mfn, FrameInfo.ownedBy(owner));
        }
        return new DirectPagingState(memory, t, guestTables, faults);
    }

    /** The L4 {@code vcpu}'s CR3 points at, if it has one. */
    public OptionalLong guestTable(VcpuId vcpu) {
        Long mfn = guestTables.get(vcpu);
        return mfn == null ? OptionalLong.empty() : OptionalLong.of(mfn);
    }

    /** This state with {@code vcpu}'s base pointer set (no reference taken: that is {@link DirectPaging}'s job). */
    DirectPagingState withGuestTable(VcpuId vcpu, long mfn) {
        Map<VcpuId, Long> m = new TreeMap<>(guestTables);
        m.put(vcpu, mfn);
        return new DirectPagingState(memory, frames, m, faults);
    }
}
