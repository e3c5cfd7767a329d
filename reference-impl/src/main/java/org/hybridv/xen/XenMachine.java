package org.hybridv.xen;

import java.util.Collections;
import java.util.HashMap;
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
import org.hybridv.x86.X86Machine;

/**
 * The hypervisor's whole state: one physical processor in VMX operation (whose {@link X86Machine} holds machine memory
 * and the TLB), the frame table and the vCPUs' base pointers of the direct-paging core (one source of truth: a frame
 * owned by {@link FrameInfo#XEN} is a hypervisor frame, a frame owned by d is d's), and the domains.
 *
 * <p>At most one vCPU runs: {@code current}, whose VMCS is the processor's current VMCS. Between steps the processor
 * is in root operation (after a handled exit) or in non-root operation running {@code current} (after an instruction
 * that did not exit).
 *
 * @param processor   the physical processor
 * @param frames      the frame table (owner, type, counts, flags per machine frame)
 * @param guestTables each direct-mode vCPU's {@code guest_table} (MX-3)
 * @param domains     the domains by id
 * @param current     the vCPU whose VMCS is current, if any
 * @param faults      the seeded faults this hypervisor carries ({@link Faults#NONE}: the reference; docs/faults.md)
 */
public record XenMachine(VmxProcessor processor, FrameTable frames, Map<VcpuId, Long> guestTables,
        SortedMap<Integer, Domain> domains, Optional<VcpuId> current, Faults faults) {
    /** The physical-address width of the modelled machine (EPT needs at most 48). */
    public static final int MAX_PHYS_ADDR = 40;

    public XenMachine {
        Checks.notNull("processor", processor);
        Checks.notNull("frames", frames);
        Checks.notNull("guest tables", guestTables);
        Checks.notNull("domains", domains);
        Checks.notNull("current", current);
        Checks.notNull("faults", faults);
        if (frames.size() != processor.machine().memory().frameCount()) {
            throw new IllegalArgumentException("frame table size " + frames.size() + " differs from memory");
        }
        guestTables = FrozenSortedMap.of(guestTables);
        domains = FrozenSortedMap.of(domains);
        Map<Integer, VcpuId> vpids = new HashMap<>();
        for (Map.Entry<Integer, Domain> e : domains.entrySet()) {
            if (e.getKey() != e.getValue().id()) {
                throw new IllegalArgumentException("domain " + e.getValue().id() + " filed under " + e.getKey());
            }
            for (Vcpu v : e.getValue().vcpus()) {
                VcpuId other = vpids.put(v.vpid(), v.id());
                if (v.vpid() == 0 || (other != null && other.domain() == v.id().domain())) {
                    throw new IllegalArgumentException("VPID " + v.vpid() + " of " + v.id()
                            + (other != null ? " is also " + other + "'s" : " is 0 (the host's)"));
                }
            }
        }
        if (current.isPresent() && !processor.vmcs().equals(vcpu(domains, current.get()).vmcs())) {
            throw new IllegalArgumentException("the processor's current VMCS is not " + current.get() + "'s");
        }
        if (current.isEmpty() && processor.mode() != VmxMode.ROOT) {
            throw new IllegalArgumentException("non-root operation with no current vCPU");
        }
    }

    /**
     * A machine of {@code frameCount} frames, no domains, frames {@code xenFrames} owned by the hypervisor; the host
     * runs in IA-32e mode on the page tables in the first of them (their contents are not modelled) with an
     * adversarial TLB.
     */
    public static XenMachine boot(int frameCount, long... xenFrames) {
        if (xenFrames.length == 0) {
            throw new IllegalArgumentException("the hypervisor needs at least one frame (its page tables)");
        }
        DirectPagingState s = DirectPagingState.initial(frameCount).reserveForXen(xenFrames);
        CpuState host = CpuState.longMode(xenFrames[0], MAX_PHYS_ADDR);
        X86Machine m = new X86Machine(s.memory(), host, Tlb.empty(TlbPolicy.ADVERSARIAL));
        Vmcs none = new Vmcs(ExecutionControls.none(), new GuestState(host, 0), new HostState(host, 0), null);
        return new XenMachine(VmxProcessor.root(m, none), s.frames(), Map.of(), new TreeMap<>(), Optional.empty(),
                Faults.NONE);
    }

    /** The seeded faults {@code f} injected into this machine (they replace its current set). */
    public XenMachine withFaults(Faults f) {
        return new XenMachine(processor, frames, guestTables, domains, current, f);
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

    public PhysicalMemory memory() {
        return processor.machine().memory();
    }

    /** The direct-paging core's view of this machine: the same memory, frame table and base pointers. */
    public DirectPagingState paging() {
        return new DirectPagingState(memory(), frames, guestTables, faults);
    }

    /**
     * This machine with the direct-paging core's post-state {@code s} (memory, frame table, base pointers); the
     * machine keeps its own faults.
     */
    public XenMachine withPaging(DirectPagingState s) {
        VmxProcessor p = processor.withMachine(processor.machine().withMemory(s.memory()));
        return new XenMachine(p, s.frames(), s.guestTables(), domains, current, faults);
    }

    public XenMachine withProcessor(VmxProcessor p) {
        return new XenMachine(p, frames, guestTables, domains, current, faults);
    }

    /** This machine with {@code d} added or replaced (its vCPUs must not include the current one with a new VMCS). */
    public XenMachine withDomain(Domain d) {
        return new XenMachine(processor, frames, guestTables, put(d), current, faults);
    }

    private SortedMap<Integer, Domain> put(Domain d) {
        TreeMap<Integer, Domain> m = new TreeMap<>(domains);
        m.put(d.id(), d);
        return FrozenSortedMap.owning(m);
    }

    /**
     * This machine with {@code v} replacing the vCPU of the same id; if {@code v} is current, the processor's VMCS
     * and launch state become {@code v}'s (one VMCS, two names).
     */
    public XenMachine withVcpu(Vcpu v) {
        SortedMap<Integer, Domain> m = put(domain(v.id().domain()).withVcpu(v));
        if (current.isPresent() && current.get().equals(v.id())) {
            VmxProcessor p = new VmxProcessor(processor.machine(), processor.mode(), v.vmcs(), v.launched());
            return new XenMachine(p, frames, guestTables, m, current, faults);
        }
        return new XenMachine(processor, frames, guestTables, m, current, faults);
    }

    /** This machine with {@code id} current and {@code p} the processor running it. */
    XenMachine withCurrent(VcpuId id, VmxProcessor p) {
        Vcpu v = vcpu(id).withVmcs(p.vmcs()).withLaunched(p.launched());
        return new XenMachine(p, frames, guestTables, put(domain(id.domain()).withVcpu(v)), Optional.of(id), faults);
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

    /** Whether vCPU {@code id} is running: current, with the processor in non-root operation. */
    public boolean running(VcpuId id) {
        return current.isPresent() && current.get().equals(id) && processor.mode() == VmxMode.NON_ROOT;
    }

    /**
     * The guest CPU state of vCPU {@code id}: the processor's live registers while it runs, else the guest-state area
     * of its VMCS (SDM Vol. 3C §24.4, saved at VM exit, §27.3) with, for the current vCPU, the processor's CR2.
     */
    public CpuState guestCpu(VcpuId id) {
        if (running(id)) {
            return processor.machine().cpu();
        }
        CpuState saved = vcpu(id).vmcs().guest().cpu();
        // CR2 is not in the guest-state area (SDM Vol. 3C §24.4.1): VM exits and entries leave the register alone,
        // so the current vCPU's CR2 is the processor's, also in root operation after its exit.
        return current.isPresent() && current.get().equals(id) ? saved.withCr2(processor.machine().cpu().cr2())
                : saved;
    }

    /**
     * This machine with vCPU {@code id} at privilege level {@code cpl} — a ring transition (SYSCALL, SYSRET, IRET,
     * delivery through the IDT), which causes no VM exit (SDM Vol. 3C §25.1.2–25.1.3 list no such exit); in the live
     * registers if it runs, else in its VMCS guest state.
     */
    public XenMachine withGuestCpl(VcpuId id, int cpl) {
        Checks.inRange("CPL", cpl, 0, 3);
        if (running(id)) {
            X86Machine x = processor.machine();
            return withProcessor(processor.withMachine(x.withCpu(x.cpu().withCpl(cpl))));
        }
        Vcpu v = vcpu(id);
        GuestState g = v.vmcs().guest();
        return withVcpu(v.withVmcs(v.vmcs().withGuest(new GuestState(g.cpu().withCpl(cpl), g.rip()))));
    }
}
