package org.hybridv.check;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.Effect;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Coverage of the dangerous windows of several pCPUs (docs/smp.md), observed on a run's steps rather than read from
 * the generator's intent: which of them a run actually reached. One instance per run (it remembers, per domain, which
 * pCPU changed its tables last and which remote pCPUs a domain-wide flush just emptied). Values under {@link #LABEL}:
 *
 * <ul>
 *   <li>{@link #STALE_BEFORE_FLUSH}: a vCPU's access hit a stale TLB entry ({@link TlbUse}) on a pCPU other than the
 *       one its domain last changed a page table from — a remote pCPU reading through a cached translation after an
 *       L1 change, before the guest's flush (TLB-7);</li>
 *   <li>{@link #DOMAIN_FLUSH_REMOTE}, {@link #TYPE_CHANGE_REMOTE}: a domain-wide flush (MU-5/TLB-3) or a type change
 *       (TLB-1, TLB-8) while another pCPU in the domain's dirty mask held entries of the domain (TLB-9);</li>
 *   <li>{@link #READ_AFTER_FLUSH}: the domain's next access on such a remote pCPU, after the flush;</li>
 *   <li>{@link #MIGRATED_LAUNCHED}: a launched vCPU moved to another pCPU (MIG-1);</li>
 *   <li>{@link #MIGRATED_BACK}: a vCPU moved to a pCPU that still holds entries of its VPID (MIG-2).</li>
 * </ul>
 *
 * An extension point: a window of interleaved steps (a flush IPI between its send and its handling, a hypercall
 * half done) adds its value to {@link #VALUES} and its observation here, and gets a floor with the others.
 */
final class SmpWindows {
    static final String LABEL = "SMP window";
    static final String STALE_BEFORE_FLUSH = "remote stale hit after a page-table change, before the flush";
    static final String DOMAIN_FLUSH_REMOTE = "domain flush, remote pCPU in the mask holding the domain's entries";
    static final String TYPE_CHANGE_REMOTE = "type change, remote pCPU in the mask holding the domain's entries";
    static final String READ_AFTER_FLUSH = "remote access after the domain-wide flush";
    static final String MIGRATED_LAUNCHED = "launched vCPU migrated";
    static final String MIGRATED_BACK = "vCPU migrated to a pCPU holding entries of its VPID";
    /** Every window value: each has a floor in the whole-system property. */
    static final List<String> VALUES = List.of(STALE_BEFORE_FLUSH, DOMAIN_FLUSH_REMOTE, TYPE_CHANGE_REMOTE,
            READ_AFTER_FLUSH, MIGRATED_LAUNCHED, MIGRATED_BACK);

    private final Coverage.Sink coverage;
    /** Per domain, the pCPU its last accepted page-table change ran on. */
    private final Map<Integer, Integer> lastChange = new HashMap<>();
    /** Per domain, the remote pCPUs its last domain-wide flush emptied of its entries, not yet accessed since. */
    private final Map<Integer, Set<Integer>> flushedRemote = new HashMap<>();

    SmpWindows(Coverage.Sink coverage) {
        this.coverage = coverage;
    }

    /** Vcpu {@code op.vcpu()} executed {@code op} from {@code pre}, giving {@code s}. */
    void vcpu(XenMachine pre, HypervisorCases.Op op, HvStep s) {
        if (pre.pcpuCount() == 1) {
            return;
        }
        int d = op.vcpu().domain();
        int q = pre.vcpu(op.vcpu()).pcpu();
        if (op.insn() instanceof GuestInstruction.MemoryAccess) {
            if (TlbUse.classify(pre, op, s).filter(u -> u.endsWith("hit, stale")).isPresent()
                    && lastChange.containsKey(d) && lastChange.get(d) != q) {
                coverage.collect(LABEL, STALE_BEFORE_FLUSH);
            }
            Set<Integer> flushed = flushedRemote.get(d);
            if (flushed != null && flushed.remove(q)) {
                coverage.collect(LABEL, READ_AFTER_FLUSH);
            }
            return;
        }
        if (!(s.outcome() instanceof VcpuOutcome.HypercallDone done)) {
            return;
        }
        long n = op.regs().number();
        if (n == Hypercalls.HYPERVISOR_MMU_UPDATE || n == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING) {
            lastChange.put(d, q);
        }
        String kind = null;
        for (Effect e : done.effects()) {
            if (e instanceof Effect.TypeChange) {
                kind = TYPE_CHANGE_REMOTE;
            } else if (e instanceof Effect.FlushDomain f && f.domain() == d && kind == null) {
                kind = DOMAIN_FLUSH_REMOTE;
            }
        }
        if (kind == null) {
            return;
        }
        for (int r = 0; r < pre.pcpuCount(); r++) {
            if (r != q && pre.tlbFlush().dirtyCpumask(d).contains(r) && entries(pre, r, d) > 0) {
                coverage.collect(LABEL, kind);
                if (entries(s.machine(), r, d) == 0) {
                    flushedRemote.computeIfAbsent(d, x -> new TreeSet<>()).add(r);
                }
            }
        }
    }

    /** The scheduler moved {@code v} to {@code pcpu}: {@code pre} before, {@code post} after. */
    void schedule(XenMachine pre, VcpuId v, int pcpu, XenMachine post) {
        if (pre.vcpu(v).pcpu() == pcpu) {
            return;
        }
        if (pre.vcpu(v).launched()) {
            coverage.collect(LABEL, MIGRATED_LAUNCHED);
        }
        int vpid = pre.vcpu(v).vpid();
        if (pre.pcpu(pcpu).tlb().entries().stream().anyMatch(e -> e.tag().vpid() == vpid)) {
            coverage.collect(LABEL, MIGRATED_BACK);
        }
    }

    /** How many entries of domain {@code d}'s vCPUs' VPIDs pCPU {@code q}'s TLB holds in {@code m}. */
    private static long entries(XenMachine m, int q, int d) {
        Set<Integer> vpids = new TreeSet<>();
        m.domain(d).vcpus().forEach(v -> vpids.add(v.vpid()));
        return m.pcpu(q).tlb().entries().stream().filter(e -> vpids.contains(e.tag().vpid())).count();
    }
}
