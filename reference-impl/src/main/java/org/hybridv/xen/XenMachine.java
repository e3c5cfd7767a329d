package org.hybridv.xen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.HostState;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Checks;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;

/**
 * The hypervisor's whole state: machine memory, held once and shared by every physical CPU; the physical CPUs (pCPUs,
 * 1..{@link #MAX_PCPUS}), each with its own registers, TLB, VMX mode, current VMCS and launch state and current vCPU
 * ({@link Pcpu}); the frame table and the vCPUs' base pointers of the direct-paging core (one source of truth: a frame
 * owned by {@link FrameInfo#XEN} is a hypervisor frame, a frame owned by d is d's); the domains, whose vCPUs each name
 * the pCPU they run on ({@link Vcpu#pcpu}); and the seeded faults (docs/smp.md has the split).
 *
 * <p>One pCPU is <em>active</em>: the one the hypervisor code in this step runs on. {@link #processor()},
 * {@link #current()} and {@link #withProcessor} are views of the active pCPU composed with the shared memory, so the
 * single-processor hypervisor code reads and writes "the processor" unchanged; a processor handed back through
 * {@link #withProcessor} or {@link #withPaging} carries the new memory, which becomes every pCPU's (memory is stored
 * once, never copied per pCPU). {@link Hypervisor#run} makes the vCPU's pCPU active.
 *
 * <p>On each pCPU at most one vCPU runs: its {@code current}, whose VMCS is that pCPU's current VMCS and which is
 * placed on it. Between steps a pCPU is in root operation (after a handled exit, or idle) or in non-root operation
 * running its current vCPU.
 *
 * @param memory      machine memory (shared by all pCPUs)
 * @param pcpus       the physical CPUs by number
 * @param active      the pCPU the hypervisor runs on in this step
 * @param frames      the frame table (owner, type, counts, flags per machine frame)
 * @param guestTables each direct-mode vCPU's {@code guest_table} (MX-3)
 * @param domains     the domains by id
 * @param faults      the seeded faults this hypervisor carries ({@link Faults#NONE}: the reference; docs/faults.md)
 * @param tlbFlush    the TLB-shootdown bookkeeping: the TLB-flush clock (one time per pCPU), each domain's dirty CPU
 *                    mask (Xen rules TLB-8, TLB-9; {@link TlbDiscipline}); each frame's TLB timestamp (TLB-2) is in
 *                    {@code frames}
 * @param pv          the para-virtual interface beyond the MMU: time, event channels, grant mappings
 *                    ({@link PvState}; {@link PvState#NONE} until a domain uses it, docs/pv-interfaces.md)
 */
public record XenMachine(PhysicalMemory memory, List<Pcpu> pcpus, int active, FrameTable frames,
        Map<VcpuId, Long> guestTables, SortedMap<Integer, Domain> domains, Faults faults, TlbFlushState tlbFlush,
        PvState pv) {
    /** The physical-address width of the modelled machine (EPT needs at most 48). */
    public static final int MAX_PHYS_ADDR = 40;

    /** The most physical CPUs a machine has (docs/smp.md: enough for two-vCPU domains on two pCPUs and more). */
    public static final int MAX_PCPUS = 4;

    public XenMachine {
        Checks.notNull("memory", memory);
        Checks.notNull("pCPUs", pcpus);
        Checks.notNull("frames", frames);
        Checks.notNull("guest tables", guestTables);
        Checks.notNull("domains", domains);
        Checks.notNull("faults", faults);
        Checks.notNull("TLB-flush state", tlbFlush);
        Checks.notNull("PV state", pv);
        pcpus = List.copyOf(pcpus);
        if (tlbFlush.clock().cpuTime().size() != pcpus.size()) {
            throw new IllegalArgumentException("the TLB-flush clock has " + tlbFlush.clock().cpuTime().size()
                    + " CPU times for " + pcpus.size() + " pCPUs");
        }
        Checks.inRange("pCPU count", pcpus.size(), 1, MAX_PCPUS);
        Checks.inRange("active pCPU", active, 0, pcpus.size() - 1);
        if (frames.size() != memory.frameCount()) {
            throw new IllegalArgumentException("frame table size " + frames.size() + " differs from memory");
        }
        guestTables = FrozenSortedMap.of(guestTables);
        FrozenSortedMap<Integer, Domain> frozen = FrozenSortedMap.of(domains);
        domains = frozen;
        // the domains' own checks depend on the map alone (immutable) and on the pCPU count only through the largest
        // pCPU a vCPU is placed on: done once per map, its bound kept with it, and done again (to throw the same
        // exception) only for a machine with fewer pCPUs than that
        int bound = frozen.checkedBound;
        if (bound < 0 || bound >= pcpus.size()) {
            frozen.checkedBound = checkDomains(frozen, pcpus.size());
        }
        for (int q = 0; q < pcpus.size(); q++) {
            Pcpu p = pcpus.get(q);
            if (p.current().isPresent()) {
                Vcpu v = vcpu(domains, p.current().get());
                if (v.pcpu() != q) {
                    throw new IllegalArgumentException(v.id() + " is current on pCPU " + q + " but placed on pCPU "
                            + v.pcpu());
                }
                if (!p.vmcs().equals(v.vmcs())) {
                    throw new IllegalArgumentException("pCPU " + q + "'s current VMCS is not " + v.id() + "'s");
                }
            } else if (p.mode() != VmxMode.ROOT) {
                throw new IllegalArgumentException("pCPU " + q + " in non-root operation with no current vCPU");
            }
        }
    }

    /**
     * The checks of the domains of a machine of {@code pcpuCount} pCPUs: each filed under its id, VPIDs distinct and
     * never 0, every vCPU placed on one of the pCPUs. Returns the largest pCPU a vCPU is placed on (0 if
     * none).
     */
    private static int checkDomains(SortedMap<Integer, Domain> domains, int pcpuCount) {
        int largest = 0;
        // the vCPUs seen so far with their VPIDs; "other" is the last one seen with v's VPID (a handful: a scan)
        int[] vpids = new int[8];
        VcpuId[] ids = new VcpuId[8];
        int seen = 0;
        for (Map.Entry<Integer, Domain> e : domains.entrySet()) {
            if (e.getKey() != e.getValue().id()) {
                throw new IllegalArgumentException("domain " + e.getValue().id() + " filed under " + e.getKey());
            }
            for (Vcpu v : e.getValue().vcpus()) {
                VcpuId other = null;
                for (int i = seen - 1; i >= 0; i--) {
                    if (vpids[i] == v.vpid()) {
                        other = ids[i];
                        break;
                    }
                }
                if (seen == vpids.length) {
                    vpids = java.util.Arrays.copyOf(vpids, seen * 2);
                    ids = java.util.Arrays.copyOf(ids, seen * 2);
                }
                vpids[seen] = v.vpid();
                ids[seen++] = v.id();
                if (v.vpid() == 0 || (other != null && other.domain() == v.id().domain())) {
                    throw new IllegalArgumentException("VPID " + v.vpid() + " of " + v.id()
                            + (other != null ? " is also " + other + "'s" : " is 0 (the host's)"));
                }
                largest = Math.max(largest, v.pcpu());
                if (v.pcpu() >= pcpuCount) {
                    throw new IllegalArgumentException(v.id() + " is placed on pCPU " + v.pcpu() + " of "
                            + pcpuCount);
                }
            }
        }
        return largest;
    }

    /**
     * A machine of {@code frameCount} frames, no domains, frames {@code xenFrames} owned by the hypervisor, one pCPU;
     * the host runs in IA-32e mode on the page tables in the first of them (their contents are not modelled) with an
     * adversarial TLB.
     */
    public static XenMachine boot(int frameCount, long... xenFrames) {
        if (xenFrames.length == 0) {
            throw new IllegalArgumentException("the hypervisor needs at least one frame (its page tables)");
        }
        DirectPagingState s = DirectPagingState.initial(frameCount).reserveForXen(xenFrames);
        CpuState host = CpuState.longMode(xenFrames[0], MAX_PHYS_ADDR);
        return new XenMachine(s.memory(), List.of(idle(host, TlbPolicy.ADVERSARIAL)), 0, s.frames(), Map.of(),
                new TreeMap<>(), Faults.NONE, TlbFlushState.boot(1), PvState.NONE);
    }

    /** A pCPU in root operation running the host {@code host}, with an empty TLB and no current vCPU. */
    private static Pcpu idle(CpuState host, TlbPolicy policy) {
        return new Pcpu(host, Tlb.empty(policy), TlbTag.NATIVE, VmxMode.ROOT, noVmcs(host), false, Optional.empty());
    }

    /**
     * The VMCS a pCPU holds when no vCPU is current on it (after boot, after its current VMCS was VMCLEARed): no
     * controls, the host state in both state areas. The SDM makes the current-VMCS pointer invalid then (Vol. 3C
     * §24.1: VMCLEAR of the current VMCS); this placeholder stands for "no VMCS", one value so that idle pCPUs compare
     * equal.
     */
    static Vmcs noVmcs(CpuState host) {
        return new Vmcs(ExecutionControls.none(), new GuestState(host, 0), new HostState(host, 0), null);
    }

    /**
     * This freshly booted machine with {@code n} pCPUs (1..{@link #MAX_PCPUS}): the added pCPUs are idle in root
     * operation with the host state of pCPU 0's host-state area and empty TLBs of pCPU 0's policy. Only before any
     * domain exists (API misuse otherwise).
     */
    public XenMachine withPcpus(int n) {
        Checks.inRange("pCPU count", n, 1, MAX_PCPUS);
        if (!domains.isEmpty() || n < pcpus.size()) {
            throw new IllegalArgumentException("pCPUs are added to a freshly booted machine, before any domain");
        }
        List<Pcpu> l = new ArrayList<>(pcpus);
        Pcpu first = pcpus.get(0);
        while (l.size() < n) {
            l.add(idle(first.vmcs().host().cpu(), first.tlb().policy()));
        }
        return new XenMachine(memory, l, active, frames, guestTables, domains, faults, tlbFlush.withPcpus(n), pv);
    }

    /**
     * This freshly booted machine with a TLB-flush clock {@code width} bits wide (1..32; Xen's is 32) at its start:
     * a narrow clock wraps after a few flushes, so scenarios and tests reach the wrap (Xen rule TLB-8). Only before
     * any domain exists (API misuse otherwise).
     */
    public XenMachine withTlbClockWidth(int width) {
        if (!domains.isEmpty()) {
            throw new IllegalArgumentException("the clock is chosen on a freshly booted machine, before any domain");
        }
        return withTlbFlush(TlbFlushState.boot(width, pcpus.size()));
    }

    /**
     * This freshly booted machine with its TLB-flush clock's counter at {@code now} and every pCPU's time 0: a machine
     * whose clock has run a long time and whose pCPUs have not flushed since it started (every stamp then still needs
     * them, Xen rule TLB-8), so that its next flushes reach the wrap. Only before any domain exists (API misuse
     * otherwise); {@code now} must be a value of the clock other than 0.
     */
    public XenMachine withTlbClockAt(long now) {
        if (!domains.isEmpty()) {
            throw new IllegalArgumentException("the clock is set on a freshly booted machine, before any domain");
        }
        TlbFlushClock c = tlbFlush.clock();
        if (now < 1 || now > (1L << c.width()) - 1) {
            throw new IllegalArgumentException("the " + c.width() + "-bit clock cannot start at " + now);
        }
        return withTlbFlush(tlbFlush.withClock(new TlbFlushClock(c.width(), now, c.cpuTime())));
    }

    /** This machine with the TLB-shootdown bookkeeping {@code t}. */
    public XenMachine withTlbFlush(TlbFlushState t) {
        return new XenMachine(memory, pcpus, active, frames, guestTables, domains, faults, t, pv);
    }

    /** This machine with the para-virtual interface state {@code p} (docs/pv-interfaces.md). */
    public XenMachine withPv(PvState p) {
        return new XenMachine(memory, pcpus, active, frames, guestTables, domains, faults, tlbFlush, p);
    }

    /** The seeded faults {@code f} injected into this machine (they replace its current set). */
    public XenMachine withFaults(Faults f) {
        return new XenMachine(memory, pcpus, active, frames, guestTables, domains, f, tlbFlush, pv);
    }

    static Vcpu vcpu(Map<Integer, Domain> domains, VcpuId id) {
        Domain d = domains.get(id.domain());
        if (d == null || id.vcpu() >= d.vcpus().size()) {
            throw new IllegalArgumentException("no vCPU " + id);
        }
        return d.vcpu(id.vcpu());
    }

    public Domain domain(int id) {
        Domain d = domains.get(id);
        if (d == null) {
            throw new IllegalArgumentException("no domain d" + id);
        }
        return d;
    }

    public Vcpu vcpu(VcpuId id) {
        return vcpu(domains, id);
    }

    /** The number of physical CPUs. */
    public int pcpuCount() {
        return pcpus.size();
    }

    /** pCPU {@code q}'s own state. */
    public Pcpu pcpu(int q) {
        Checks.inRange("pCPU", q, 0, pcpus.size() - 1);
        return pcpus.get(q);
    }

    /** The active pCPU as a processor: its registers, TLB, VMX state over the shared memory. */
    public VmxProcessor processor() {
        return processor(active);
    }

    /** pCPU {@code q} as a processor over the shared memory. */
    public VmxProcessor processor(int q) {
        return pcpu(q).processor(memory);
    }

    /** The vCPU whose VMCS is current on the active pCPU, if any. */
    public Optional<VcpuId> current() {
        return pcpus.get(active).current();
    }

    /** The vCPU whose VMCS is current on pCPU {@code q}, if any. */
    public Optional<VcpuId> current(int q) {
        return pcpu(q).current();
    }

    /** This machine with pCPU {@code q} active (the hypervisor now runs there); nothing else changes. */
    public XenMachine withActive(int q) {
        Checks.inRange("pCPU", q, 0, pcpus.size() - 1);
        return q == active ? this
                : new XenMachine(memory, pcpus, q, frames, guestTables, domains, faults, tlbFlush, pv);
    }

    /** This machine with pCPU {@code q}'s own state replaced by {@code p} (its current vCPU must stay consistent). */
    public XenMachine withPcpu(int q, Pcpu p) {
        Checks.inRange("pCPU", q, 0, pcpus.size() - 1);
        List<Pcpu> l = new ArrayList<>(pcpus);
        l.set(q, p);
        return new XenMachine(memory, l, active, frames, guestTables, domains, faults, tlbFlush, pv);
    }

    /** The direct-paging core's view of this machine: the same memory, frame table and base pointers. */
    public DirectPagingState paging() {
        return new DirectPagingState(memory, frames, guestTables, faults);
    }

    /**
     * This machine with the direct-paging core's post-state {@code s} (memory, frame table, base pointers); the
     * machine keeps its own faults. The memory is every pCPU's.
     */
    public XenMachine withPaging(DirectPagingState s) {
        return new XenMachine(s.memory(), pcpus, active, pageSetTlbflushTimestamps(s.frames()), s.guestTables(),
                domains, faults, tlbFlush, pv);
    }

    /**
     * Xen rule TLB-2 ({@code page_set_tlbflush_timestamp}, called by {@code _put_page_type} when a frame's type count
     * drops to 0): a frame of a domain whose last type reference went during this step is stamped with the clock's
     * value now. The stamp is taken from the frame table after the step's own frame-table changes and before its TLB
     * obligations are performed (no flush happens in between), so it is the clock's value when the use ended, never an
     * earlier one. The frames stamped are those whose type count was positive and is 0 now, and those whose type
     * changed (their count went through 0 inside the step: a type is only replaced at count 0, TYP-2). Frames of the
     * hypervisor and free frames are not stamped: no domain's mask is filtered for them (TLB-5, re-allocation, is not
     * modelled).
     *
     * <p>A stamp is read only by the type change that ends the frame's count-0 period ({@link TlbDiscipline}
     * consumes it); a frame referenced again under the type it had needs none until its count next drops to 0, when it
     * is stamped afresh, so its stamp is dropped: the state keeps only the stamps that can still be read.
     */
    private FrameTable pageSetTlbflushTimestamps(FrameTable after) {
        if (after == frames || !runsTlbFlushClock()) {
            return after;
        }
        FrameTable t = after;
        for (int mfn = 0; mfn < after.size(); mfn++) {
            FrameInfo was = frames.get(mfn);
            FrameInfo now = after.get(mfn);
            boolean guest = now.owner() != FrameInfo.FREE && now.owner() != FrameInfo.XEN;
            if (guest && was.typeCount() > 0 && (now.typeCount() == 0 || now.type() != was.type())) {
                t = t.with(mfn, now.withTlbflushTimestamp(tlbFlush.clock().timestamp()));
            } else if (now.tlbflushTimestamp() != FrameInfo.NO_TIMESTAMP && (!guest
                    || now.typeCount() > 0 && now.type() == was.type())) {
                t = t.with(mfn, now.withTlbflushTimestamp(FrameInfo.NO_TIMESTAMP));
            }
        }
        return t;
    }

    /**
     * Whether this machine runs the TLB-flush clock (Xen rules TLB-2, TLB-8): with several pCPUs. A machine with one
     * pCPU takes no stamps and its whole flushes do not tick, so a type change flushes the owner's mask unfiltered —
     * never less than the clock would let it flush, so as safe; on one pCPU the filter could only spare that pCPU's
     * own flush. This keeps the single-processor machine's states exactly what they were before the clock existed
     * (the clock's values would tell apart states whose TLBs and frames are alike, and the explorer, which drives one
     * pCPU, would see several times as many states); the clock is exercised wherever there are pCPUs to spare
     * (docs/smp.md).
     */
    public boolean runsTlbFlushClock() {
        return pcpus.size() > 1;
    }

    /** This machine with frame {@code mfn}'s TLB timestamp {@code stamp} (TLB-2; {@link TlbDiscipline}). */
    XenMachine withTlbflushTimestamp(long mfn, long stamp) {
        return new XenMachine(memory, pcpus, active, frames.with(mfn, frames.get(mfn).withTlbflushTimestamp(stamp)),
                guestTables, domains, faults, tlbFlush, pv);
    }

    /**
     * This machine with the active pCPU being {@code p}: its registers, TLB, VMX mode, VMCS and launch state become
     * the active pCPU's, and its memory becomes the machine's (so every pCPU's: memory is shared).
     */
    public XenMachine withProcessor(VmxProcessor p) {
        Pcpu was = pcpus.get(active);
        return new XenMachine(p.machine().memory(), replaced(pcpus, active, Pcpu.of(p, was.current(), was)), active,
                frames, guestTables, domains, faults, tlbFlush, pv);
    }

    /**
     * List {@code l} with element {@code q} replaced by {@code p}, as an immutable list (which the constructor keeps
     * without a copy); {@code l} itself if {@code p} is its element already.
     */
    private static List<Pcpu> replaced(List<Pcpu> l, int q, Pcpu p) {
        if (l.get(q) == p) {
            return l;
        }
        switch (l.size()) {
            case 1:
                return List.of(p);
            case 2:
                return q == 0 ? List.of(p, l.get(1)) : List.of(l.get(0), p);
            default:
                Pcpu[] a = l.toArray(new Pcpu[0]);
                a[q] = p;
                return List.of(a);
        }
    }

    /** This machine with {@code d} added or replaced (its vCPUs must not include a current one with a new VMCS). */
    public XenMachine withDomain(Domain d) {
        return new XenMachine(memory, pcpus, active, frames, guestTables, put(d), faults, tlbFlush, pv);
    }

    private SortedMap<Integer, Domain> put(Domain d) {
        TreeMap<Integer, Domain> m = new TreeMap<>(domains);
        m.put(d.id(), d);
        return FrozenSortedMap.owning(m);
    }

    /**
     * This machine with {@code v} replacing the vCPU of the same id; if {@code v} is current on its pCPU, that pCPU's
     * VMCS and launch state become {@code v}'s (one VMCS, two names).
     */
    public XenMachine withVcpu(Vcpu v) {
        SortedMap<Integer, Domain> m = put(domain(v.id().domain()).withVcpu(v));
        List<Pcpu> l = pcpus;
        for (int q = 0; q < pcpus.size(); q++) {
            Pcpu p = pcpus.get(q);
            if (p.current().isPresent() && p.current().get().equals(v.id())) {
                l = new ArrayList<>(pcpus);
                l.set(q, new Pcpu(p.cpu(), p.tlb(), p.tlbTag(), p.mode(), v.vmcs(), v.launched(), p.current()));
            }
        }
        return new XenMachine(memory, l, active, frames, guestTables, m, faults, tlbFlush, pv);
    }

    /** This machine with {@code id} current on the active pCPU and {@code p} that pCPU, running it. */
    XenMachine withCurrent(VcpuId id, VmxProcessor p) {
        // what did not change is passed on as it is: the vCPU, its domain, the domain map and the pCPU
        Vcpu was = vcpu(id);
        SortedMap<Integer, Domain> m = domains;
        if (was.vmcs() != p.vmcs() || was.launched() != p.launched()) {
            m = put(domain(id.domain()).withVcpu(new Vcpu(was.id(), p.vmcs(), p.launched(), was.blocked(),
                    was.shadow(), was.pcpu(), was.continuation())));
        }
        Pcpu before = pcpus.get(active);
        Optional<VcpuId> current = before.current().isPresent() && before.current().get().equals(id)
                ? before.current() : Optional.of(id);
        return new XenMachine(p.machine().memory(), replaced(pcpus, active, Pcpu.of(p, current, before)), active,
                frames, guestTables, m, faults, tlbFlush, pv);
    }

    /** The VPIDs of domain {@code d}'s vCPUs. */
    public List<Integer> vpids(int d) {
        return domain(d).vcpus().stream().map(Vcpu::vpid).toList();
    }

    /** The domain a VPID belongs to, or -1 (VPID 0 is the host's). */
    public int domainOfVpid(int vpid) {
        for (Domain d : domains.values()) {
            for (Vcpu v : d.vcpus()) {
                if (v.vpid() == vpid) {
                    return d.id();
                }
            }
        }
        return -1;
    }

    /** Whether vCPU {@code id} is running: current on its pCPU, with that pCPU in non-root operation. */
    public boolean running(VcpuId id) {
        Pcpu p = pcpus.get(vcpu(id).pcpu());
        return isCurrent(id) && p.mode() == VmxMode.NON_ROOT;
    }

    /** Whether vCPU {@code id}'s VMCS is current on its pCPU. */
    public boolean isCurrent(VcpuId id) {
        Optional<VcpuId> c = pcpus.get(vcpu(id).pcpu()).current();
        return c.isPresent() && c.get().equals(id);
    }

    /**
     * The guest CPU state of vCPU {@code id}: the processor's live registers while it runs, else the guest-state area
     * of its VMCS (SDM Vol. 3C §24.4, saved at VM exit, §27.3) with, for the current vCPU, the processor's CR2 and
     * PKRU, and for any other vCPU the CR2 and PKRU the hypervisor saved when its pCPU last switched away from it
     * (Xen rule CTX-1, {@link Hypervisor#switchGuestRegisters}).
     */
    public CpuState guestCpu(VcpuId id) {
        Pcpu p = pcpus.get(vcpu(id).pcpu());
        if (running(id)) {
            return p.cpu();
        }
        CpuState saved = vcpu(id).vmcs().guest().cpu();
        // CR2 and PKRU are not in the guest-state area (SDM Vol. 3C §24.4.1): VM exits and entries leave the
        // registers alone, so the current vCPU's are its pCPU's, also in root operation after its exit (CTX-1).
        return isCurrent(id) ? saved.withCr2(p.cpu().cr2()).withPkru(p.cpu().pkru()) : saved;
    }

    /**
     * This machine with vCPU {@code id} at privilege level {@code cpl} — a ring transition (SYSCALL, SYSRET, IRET,
     * delivery through the IDT), which causes no VM exit (SDM Vol. 3C §25.1.2–25.1.3 list no such exit); in the live
     * registers if it runs, else in its VMCS guest state.
     */
    public XenMachine withGuestCpl(VcpuId id, int cpl) {
        Checks.inRange("CPL", cpl, 0, 3);
        if (running(id)) {
            int q = vcpu(id).pcpu();
            Pcpu p = pcpus.get(q);
            return withPcpu(q, new Pcpu(p.cpu().withCpl(cpl), p.tlb(), p.tlbTag(), p.mode(), p.vmcs(), p.launched(),
                    p.current()));
        }
        Vcpu v = vcpu(id);
        GuestState g = v.vmcs().guest();
        return withVcpu(v.withVmcs(v.vmcs().withGuest(new GuestState(g.cpu().withCpl(cpl), g.rip()))));
    }
}
