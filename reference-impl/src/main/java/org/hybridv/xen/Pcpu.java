package org.hybridv.xen;

import java.util.Optional;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Checks;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * The state one physical CPU (a logical processor, Intel SDM Vol. 3A §8.1) holds for itself; machine memory is
 * shared and held once by {@link XenMachine} (docs/smp.md). A pCPU's {@link VmxProcessor} is this state composed with
 * that memory ({@link #processor}).
 *
 * @param cpu      its architectural registers (the host's in root operation, the running guest's in non-root)
 * @param tlb      its own TLB (each logical processor has its own, SDM Vol. 3A §4.10)
 * @param tlbTag   the VPID and EP4TA its translations are cached under now
 * @param mode     root or non-root operation
 * @param vmcs     its current VMCS (a host-only placeholder, {@link XenMachine#noVmcs}, when no vCPU is current)
 * @param launched the launch state of its current VMCS (SDM Vol. 3C §24.1)
 * @param current  the vCPU whose VMCS is current on it, if any
 */
public record Pcpu(CpuState cpu, Tlb tlb, TlbTag tlbTag, VmxMode mode, Vmcs vmcs, boolean launched,
        Optional<VcpuId> current) {
    public Pcpu {
        Checks.notNull("cpu", cpu);
        Checks.notNull("tlb", tlb);
        Checks.notNull("TLB tag", tlbTag);
        Checks.notNull("mode", mode);
        Checks.notNull("VMCS", vmcs);
        Checks.notNull("current", current);
    }

    /** The per-pCPU part of {@code p} (its memory is the machine's), with {@code current}. */
    static Pcpu of(VmxProcessor p, Optional<VcpuId> current) {
        X86Machine x = p.machine();
        return new Pcpu(x.cpu(), x.tlb(), x.tlbTag(), p.mode(), p.vmcs(), p.launched(), current);
    }

    /** {@link #of(VmxProcessor, Optional)}, or {@code was} itself if it holds the same components already. */
    static Pcpu of(VmxProcessor p, Optional<VcpuId> current, Pcpu was) {
        X86Machine x = p.machine();
        if (was.cpu == x.cpu() && was.tlb == x.tlb() && was.tlbTag == x.tlbTag() && was.mode == p.mode()
                && was.vmcs == p.vmcs() && was.launched == p.launched() && was.current == current) {
            return was;
        }
        return new Pcpu(x.cpu(), x.tlb(), x.tlbTag(), p.mode(), p.vmcs(), p.launched(), current);
    }

    /** This pCPU as a processor over the shared {@code memory}. */
    VmxProcessor processor(PhysicalMemory memory) {
        return new VmxProcessor(new X86Machine(memory, cpu, tlb, tlbTag), mode, vmcs, launched);
    }

    Pcpu withTlb(Tlb t) {
        return new Pcpu(cpu, t, tlbTag, mode, vmcs, launched, current);
    }
}
