package org.hybridv.explore;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.hybridv.xen.Domain;
import org.hybridv.xen.Pcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * The footprints ({@link Footprint}) of the hypervisor world's transitions that the partial-order reduction can
 * characterise, over these locations of a {@link XenMachine}:
 *
 * <ul>
 *   <li>{@link #MEMORY} (all of machine memory, one location), {@link #FRAMES} (the whole frame table),
 *       {@link #TABLES} (the base pointers), {@link #CLOCK} (the TLB-flush clock and the pCPUs' times),
 *       {@link #FAULTS}, {@link #STRUCTURE} (which domains, vCPUs and pCPUs exist), {@link #IPIS} (pending flush IPIs and hypercalls waiting for them), {@link #PV} (the para-virtual interface's state);</li>
 *   <li>per pCPU q: {@code PCPU + q} (its whole {@link Pcpu}: registers, TLB, VMX state, current vCPU) and
 *       {@code CURRENT + q} (which vCPU is current there, a part of it);</li>
 *   <li>per domain (by its position k among the machine's domains): {@code DOMAIN + k} (mode, p2m, EPTP, hypercall
 *       page, CPUID identity, emulated devices: the {@link Domain} without its vCPUs), {@code MASK + k} (its dirty CPU mask, TLB-9), and
 *       {@code VCPU + 16k + i} (its vCPU i: VMCS, launch and blocked state, shadow state, placement).</li>
 * </ul>
 *
 * <p>The writes of a transition are measured: the locations whose values differ between the pre-state and the
 * successor (the active pCPU excepted: the explorer's states do not record it, see
 * {@link HypervisorSystem#fingerprint}). A location written with the value it had is not a write, which is exact: the
 * other transition reads the same value either way. The reads are stated per kind of transition, conservatively, from
 * the code path it takes ({@code Hypervisor.run}, {@code Hypervisor.schedule}) and its transition invariant (I7,
 * {@code MigrationRules}); only two kinds are characterised, everything else has no footprint (dependent with
 * everything): a guest read or fetch that completed without a VM exit ({@link #access}) and a migration
 * ({@link #schedule}). A machine with more than 8 pCPUs, 16 domains or 16 vCPUs in a domain has no footprints.
 */
final class HypervisorFootprints {
    private HypervisorFootprints() {}

    static final int MEMORY = 0;
    static final int FRAMES = 1;
    static final int TABLES = 2;
    static final int CLOCK = 3;
    static final int FAULTS = 4;
    static final int STRUCTURE = 5;
    /** The flush IPIs pending on each pCPU and the hypercalls waiting for their acknowledgements (IPI-1, IPI-2). */
    static final int IPIS = 6;
    /** The para-virtual interface's state (event channels, timers, grant tables; docs/pv-interfaces.md). */
    static final int PV = 7;
    static final int PCPU = 8;
    static final int CURRENT = 16;
    static final int DOMAIN = 24;
    static final int MASK = 40;
    static final int VCPU = 56;

    /**
     * Whether the state's records have exactly the components these footprints know (the record component names of
     * {@link XenMachine}, {@link Pcpu}, {@link Domain}, {@link org.hybridv.xen.Vcpu} and
     * {@link org.hybridv.xen.TlbFlushState}). A component added later is
     * something no read set here names: then no transition has a footprint, and the reduction prunes nothing.
     */
    static final boolean KNOWN_STATE = components(XenMachine.class).equals(List.of("memory", "pcpus", "active",
            "frames", "guestTables", "domains", "faults", "tlbFlush", "pv"))
            && components(Pcpu.class).equals(List.of("cpu", "tlb", "tlbTag", "mode", "vmcs", "launched", "current"))
            && components(Domain.class).equals(List.of("id", "mode", "p2m", "vcpus", "eptp",
                    "hypercallPageInstalled", "identity", "devices"))
            && components(org.hybridv.xen.Vcpu.class).equals(List.of("id", "vmcs", "launched", "blocked", "shadow",
                    "pcpu", "continuation"))
            && components(org.hybridv.xen.TlbFlushState.class).equals(List.of("clock", "dirtyCpumasks",
                    "pendingFlushes", "inFlight"));

    private static List<String> components(Class<?> record) {
        List<String> l = new ArrayList<>();
        for (java.lang.reflect.RecordComponent c : record.getRecordComponents()) {
            l.add(c.getName());
        }
        return l;
    }

    private static final int MAX_PCPUS = 8;
    private static final int MAX_DOMAINS = 16;
    private static final int MAX_VCPUS = 16;

    /**
     * The footprint of vCPU {@code id}'s guest read or fetch that took {@code pre} to {@code post} without a VM exit
     * (outcome retired or delivered, no exit handled: the caller checks it). The path is {@code Hypervisor.runOnce}
     * without a handler: the vCPU running on its pCPU q, if any, is preempted (its VMCS written); the vCPU's VMCS is
     * loaded and entered (its VMCS, launch state, q's VMX state); the access walks the tables in memory (A/D bits
     * written, q's TLB filled; EPT and the domain's p2m for HAP); q joins the domain's dirty mask (TLB-9; the faults
     * are read). I7 ({@code ExitCorrectness}) reads the same vCPU, its domain's mode and controls, q's registers and
     * TLB, and memory. Reads: memory, frame table, base pointers, clock, faults, structure, q (whole), the vCPU, the
     * vCPU preempted on q, the domain, its mask. Null when the machine is beyond the location numbering.
     */
    static Footprint access(XenMachine pre, XenMachine post, VcpuId id) {
        BitSet w = writes(pre, post);
        if (w == null) {
            return null;
        }
        int q = pre.vcpu(id).pcpu();
        int k = domainIndex(pre, id.domain());
        BitSet r = new BitSet();
        r.set(MEMORY);
        r.set(FRAMES);
        r.set(TABLES);
        r.set(CLOCK);
        r.set(FAULTS);
        r.set(STRUCTURE);
        r.set(IPIS); // IPI-5: enabled only if no hypercall occupies q
        r.set(PV); // a VM entry injects a pending event (EVT-9)
        r.set(PCPU + q);
        r.set(CURRENT + q);
        r.set(DOMAIN + k);
        r.set(MASK + k);
        r.set(vcpu(pre, id));
        Optional<VcpuId> c = pre.current(q);
        if (c.isPresent()) {
            r.set(vcpu(pre, c.get()));
        }
        return checked(r, w);
    }

    /**
     * The footprint of the migration of vCPU {@code id} that took {@code pre} to {@code post}
     * ({@code Hypervisor.schedule}) from pCPU {@code from} (its placement in {@code pre}) to {@code to}: the vCPU
     * (placement, launch state, VMCS), {@code from} (taken out of non-root operation, VMCLEAR, MIG-1) and {@code to}
     * (INVVPID of the vCPU's VPID, MIG-2), the faults; the migration's post-conditions ({@code MigrationRules}) read
     * the vCPU, {@code to}'s TLB, and which vCPU is current on every pCPU. A vCPU already on {@code to} reads only its
     * placement and changes nothing.
     */
    static Footprint schedule(XenMachine pre, XenMachine post, VcpuId id, int to) {
        BitSet w = writes(pre, post);
        if (w == null) {
            return null;
        }
        int from = pre.vcpu(id).pcpu();
        BitSet r = new BitSet();
        r.set(STRUCTURE);
        r.set(IPIS); // a vCPU inside a hypercall is not moved
        r.set(PV);
        r.set(vcpu(pre, id));
        if (from != to) {
            r.set(FAULTS);
            r.set(PCPU + from);
            r.set(PCPU + to);
            for (int q = 0; q < pre.pcpuCount(); q++) {
                r.set(CURRENT + q);
            }
        }
        return checked(r, w);
    }

    /**
     * The footprint {@code r}, {@code w} — or none if the step wrote a location outside its read set. Every location
     * these code paths write they also read (read-modify-write: the pCPU, the vCPUs, the mask, memory's A/D bits), and
     * measured writes rely on it: a transition whose write left a location as it was would otherwise hide that it may
     * write it, and overwrite the other transition's change in one order and not in the other. A write outside the
     * reads means the path is not the one described: dependent with everything.
     */
    private static Footprint checked(BitSet r, BitSet w) {
        BitSet outside = (BitSet) w.clone();
        outside.andNot(r);
        return outside.isEmpty() ? new Footprint(r, w) : null;
    }

    /**
     * The locations whose values differ between {@code pre} and {@code post} (the active pCPU aside); null if the
     * structure changed (domains, vCPUs or pCPUs added or removed), the faults changed, or the machine is beyond the
     * numbering: such a transition is dependent with everything.
     */
    static BitSet writes(XenMachine pre, XenMachine post) {
        if (!KNOWN_STATE || pre.pcpuCount() != post.pcpuCount() || pre.pcpuCount() > MAX_PCPUS
                || !pre.domains().keySet().equals(post.domains().keySet()) || pre.domains().size() > MAX_DOMAINS
                || !same(pre.faults(), post.faults())) {
            return null;
        }
        BitSet w = new BitSet();
        if (!same(pre.memory(), post.memory())) {
            w.set(MEMORY);
        }
        if (!same(pre.frames(), post.frames())) {
            w.set(FRAMES);
        }
        if (!same(pre.guestTables(), post.guestTables())) {
            w.set(TABLES);
        }
        if (!same(pre.tlbFlush().clock(), post.tlbFlush().clock())) {
            w.set(CLOCK);
        }
        if (!same(pre.pv(), post.pv())) {
            w.set(PV);
        }
        if (!same(pre.tlbFlush().pendingFlushes(), post.tlbFlush().pendingFlushes())
                || !same(pre.tlbFlush().inFlight(), post.tlbFlush().inFlight())) {
            w.set(IPIS);
        }
        if (!same(pre.tlbFlush().dirtyCpumasks(), post.tlbFlush().dirtyCpumasks())) {
            List<Integer> ids = new ArrayList<>(pre.tlbFlush().dirtyCpumasks().keySet());
            ids.addAll(post.tlbFlush().dirtyCpumasks().keySet());
            for (int d : ids) {
                if (!pre.domains().containsKey(d)) {
                    return null;
                }
                if (!pre.tlbFlush().dirtyCpumask(d).equals(post.tlbFlush().dirtyCpumask(d))) {
                    w.set(MASK + domainIndex(pre, d));
                }
            }
        }
        for (int q = 0; q < pre.pcpuCount(); q++) {
            Pcpu a = pre.pcpu(q);
            Pcpu b = post.pcpu(q);
            if (!same(a, b)) {
                w.set(PCPU + q);
                if (!a.current().equals(b.current())) {
                    w.set(CURRENT + q);
                }
            }
        }
        int k = 0;
        for (int d : pre.domains().keySet()) {
            Domain a = pre.domain(d);
            Domain b = post.domain(d);
            if (a.vcpus().size() > MAX_VCPUS) {
                return null;
            }
            if (a != b) {
                if (a.vcpus().size() != b.vcpus().size()) {
                    return null;
                }
                if (a.id() != b.id() || a.mode() != b.mode() || a.eptp() != b.eptp()
                        || a.hypercallPageInstalled() != b.hypercallPageInstalled() || !same(a.p2m(), b.p2m())
                        || !same(a.identity(), b.identity()) || !same(a.devices(), b.devices())) {
                    w.set(DOMAIN + k);
                }
                for (int i = 0; i < a.vcpus().size(); i++) {
                    if (!same(a.vcpus().get(i), b.vcpus().get(i))) {
                        w.set(VCPU + MAX_VCPUS * k + i);
                    }
                }
            }
            k++;
        }
        return w;
    }

    private static boolean same(Object a, Object b) {
        return a == b || Objects.equals(a, b);
    }

    /** Domain {@code d}'s position among {@code m}'s domains (in id order). */
    private static int domainIndex(XenMachine m, int d) {
        return m.domains().headMap(d).size();
    }

    /** The location of vCPU {@code id}: {@code VCPU + 16k + i} for its position i in domain k. */
    private static int vcpu(XenMachine m, VcpuId id) {
        List<org.hybridv.xen.Vcpu> l = m.domain(id.domain()).vcpus();
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i).id().equals(id)) {
                return VCPU + MAX_VCPUS * domainIndex(m, id.domain()) + i;
            }
        }
        throw new IllegalArgumentException("no vCPU " + id);
    }
}
