package org.hybridv.scenario;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.xen.Faults;

/**
 * The {@code machine} object of a scenario: the shape of the machine the steps run on. Its start state is fixed by
 * the format: memory all zeroes, the CPU as after reset (paging off, CPL 0, every control bit clear, SDM Vol. 3A
 * §9.1.1), an empty TLB.
 *
 * @param memoryFrames number of 4-KByte frames of backed memory, 1..{@value PhysicalMemory#MAX_FRAMES}
 * @param maxPhysAddr  MAXPHYADDR (CPUID.80000008H:EAX[7:0]), {@value CpuState#MIN_MAXPHYADDR}..{@value
 *                     CpuState#MAX_MAXPHYADDR}
 * @param tlb          the TLB policy: {@link TlbPolicy#ADVERSARIAL} (the default) keeps every translation until the
 *                     SDM says it is invalidated; {@link TlbPolicy#NONE} caches nothing
 * @param sections     further sections of {@code machine} that modules declare ({@link
 *                     OperationRegistry.Builder#machineSection}), by name, as the module decoded them (immutable
 *                     values); e.g. {@code "hypervisor"}
 * @param faults       the seeded faults of the scenario's top-level {@code faults} (docs/faults.md), decoded before
 *                     the sections: a section that builds a hypervisor injects them ({@link Faults#NONE}: none)
 */
public record MachineSpec(int memoryFrames, int maxPhysAddr, TlbPolicy tlb, Map<String, Object> sections,
        Faults faults) {
    /** A machine with no further sections. */
    public MachineSpec(int memoryFrames, int maxPhysAddr, TlbPolicy tlb) {
        this(memoryFrames, maxPhysAddr, tlb, Map.of());
    }

    /** A machine with {@code sections} and no seeded faults. */
    public MachineSpec(int memoryFrames, int maxPhysAddr, TlbPolicy tlb, Map<String, Object> sections) {
        this(memoryFrames, maxPhysAddr, tlb, sections, Faults.NONE);
    }

    /** The decoded section {@code name}, if the scenario has it. */
    public <T> Optional<T> section(String name, Class<T> type) {
        return Optional.ofNullable(sections.get(name)).map(type::cast);
    }

    public MachineSpec {
        if (sections == null) {
            throw new IllegalArgumentException("sections must not be null");
        }
        if (faults == null) {
            throw new IllegalArgumentException("faults must not be null");
        }
        sections = java.util.Collections.unmodifiableMap(new TreeMap<>(sections));
        if (memoryFrames < 1 || memoryFrames > PhysicalMemory.MAX_FRAMES) {
            throw new IllegalArgumentException("memoryFrames = " + memoryFrames + " is outside 1.."
                    + PhysicalMemory.MAX_FRAMES);
        }
        if (maxPhysAddr < CpuState.MIN_MAXPHYADDR || maxPhysAddr > CpuState.MAX_MAXPHYADDR) {
            throw new IllegalArgumentException("maxPhysAddr = " + maxPhysAddr + " is outside "
                    + CpuState.MIN_MAXPHYADDR + ".." + CpuState.MAX_MAXPHYADDR);
        }
        if (tlb == null) {
            throw new IllegalArgumentException("tlb policy must not be null");
        }
    }
}
