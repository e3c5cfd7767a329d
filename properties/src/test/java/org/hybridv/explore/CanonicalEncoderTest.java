package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * The canonical encoding: a state is the same state however it was built (the order of memory writes, of map
 * insertions, a zero word written or never written), and states that differ in any one field have different
 * fingerprints.
 */
class CanonicalEncoderTest {
    private final XenMachine m = HypervisorCases.initialMachine();

    @Test
    void memoryWrittenInEitherOrderIsTheSameState() {
        PhysicalMemory a = PhysicalMemory.ofFrames(8).write(1, 5, 0x1234).write(3, 0, 7).write(1, 9, 2);
        PhysicalMemory b = PhysicalMemory.ofFrames(8).write(1, 9, 2).write(3, 0, 7).write(1, 5, 0x1234);
        PhysicalMemory c = b.write(6, 100, 99).write(6, 100, 0);
        assertThat(CanonicalEncoder.fingerprint(a)).isEqualTo(CanonicalEncoder.fingerprint(b))
                .isEqualTo(CanonicalEncoder.fingerprint(c));
    }

    @Test
    void aMachineRebuiltInAnotherOrderIsTheSameState() {
        // d1's builder writes in the opposite order, then the same domains: the same machine, by equals too
        XenMachine viaOtherOrder = m.withPaging(m.paging().write(0x13, 8, new Entry(m.memory().read(0x13, 8)))
                .write(0x10, 0, new Entry(m.memory().read(0x10, 0))));
        assertThat(viaOtherOrder).isEqualTo(m);
        assertThat(CanonicalEncoder.fingerprint(viaOtherOrder)).isEqualTo(CanonicalEncoder.fingerprint(m));
        assertThat(CanonicalEncoder.fingerprint(HypervisorCases.withD3(HypervisorCases.withD2(HypervisorCases
                .withD1(XenMachine.boot(96, org.hybridv.xen.Domains.range(0x1, 0xf)))))))
                .isEqualTo(CanonicalEncoder.fingerprint(m));
    }

    /**
     * Several pCPUs (docs/smp.md): every pCPU's state is encoded, in pCPU order, and the vCPUs' placement too; the
     * same machine built twice is the same state.
     */
    @Test
    void everyPcpuIsEncoded() {
        XenMachine two = HypervisorCases.withD3(HypervisorCases.withD2(HypervisorCases.withD1(XenMachine.boot(96,
                org.hybridv.xen.Domains.range(0x1, 0xf)).withPcpus(2))));
        XenMachine again = HypervisorCases.withD3(HypervisorCases.withD2(HypervisorCases.withD1(XenMachine.boot(96,
                org.hybridv.xen.Domains.range(0x1, 0xf)).withPcpus(2))));
        assertThat(CanonicalEncoder.fingerprint(again)).isEqualTo(CanonicalEncoder.fingerprint(two));
        assertThat(CanonicalEncoder.fingerprint(two)).isNotEqualTo(CanonicalEncoder.fingerprint(m));
        VcpuId k = HypervisorCases.K;
        XenMachine onOne = Hypervisor.schedule(two, k, 1);
        XenMachine ranOnOne = Hypervisor.run(onOne, k, new GuestInstruction.MemoryAccess(Access.read(0x5000)))
                .machine();
        XenMachine ranOnZero = Hypervisor.run(two, k, new GuestInstruction.MemoryAccess(Access.read(0x5000)))
                .machine();
        assertThat(ranOnOne.pcpu(1).tlb()).isEqualTo(ranOnZero.pcpu(0).tlb()); // the same entry, on another pCPU
        assertThat(new HashSet<>(List.of(CanonicalEncoder.fingerprint(two), CanonicalEncoder.fingerprint(onOne),
                CanonicalEncoder.fingerprint(ranOnOne), CanonicalEncoder.fingerprint(ranOnZero)))).hasSize(4);
    }

    @Test
    void mapsAndSetsAreEncodedWhateverTheirIterationOrder() {
        Map<Long, Long> tree = new TreeMap<>(Map.of(1L, 2L, 3L, 4L, 5L, 6L));
        Map<Long, Long> hash = new HashMap<>(tree);
        Map<Long, Long> reversed = new LinkedHashMap<>();
        List<Long> keys = new ArrayList<>(tree.keySet());
        java.util.Collections.reverse(keys);
        keys.forEach(k -> reversed.put(k, tree.get(k)));
        assertThat(CanonicalEncoder.fingerprint(hash)).isEqualTo(CanonicalEncoder.fingerprint(tree))
                .isEqualTo(CanonicalEncoder.fingerprint(reversed));
        assertThat(CanonicalEncoder.fingerprint(Faults.of(Fault.SUPERPAGE_ACCEPTED, Fault.XEN_SLOT_UPDATE)))
                .isEqualTo(CanonicalEncoder.fingerprint(Faults.of(Fault.XEN_SLOT_UPDATE, Fault.SUPERPAGE_ACCEPTED)));
        // a list is ordered: its order is part of the value
        assertThat(CanonicalEncoder.fingerprint(List.of(1L, 2L))).isNotEqualTo(CanonicalEncoder.fingerprint(List
                .of(2L, 1L)));
    }

    @Test
    void statesDifferingInOneFieldHaveDifferentFingerprints() {
        VcpuId k = HypervisorCases.K;
        List<XenMachine> variants = new ArrayList<>(List.of(m,
                // memory: one word of a data frame, one word of Xen's frame
                m.withPaging(m.paging().write(0x20, 3, new Entry(1))),
                m.withPaging(m.paging().write(0x20, 3, new Entry(2))),
                m.withPaging(m.paging().write(0x20, 4, new Entry(1))),
                m.withPaging(m.paging().write(0x2, 0, new Entry(1))),
                // the frame table: a count, a pin, an owner
                m.withPaging(new org.hybridv.xen.DirectPagingState(m.memory(), m.frames().with(0x14, m.frames()
                        .get(0x14).withCount(1)), m.guestTables(), m.faults())),
                m.withPaging(new org.hybridv.xen.DirectPagingState(m.memory(), m.frames().with(0x14, m.frames()
                        .get(0x14).withPinned(true)), m.guestTables(), m.faults())),
                m.withPaging(new org.hybridv.xen.DirectPagingState(m.memory(), m.frames().with(0x5f,
                        FrameInfo.ownedBy(2)), m.guestTables(), m.faults())),
                // a vCPU: blocked, its CPL in the VMCS
                m.withVcpu(m.vcpu(k).withBlocked(true)),
                m.withGuestCpl(k, 3),
                m.withGuestCpl(HypervisorCases.H, 3),
                // the faults
                m.withFaults(Faults.of(Fault.SUPERPAGE_ACCEPTED)),
                m.withFaults(Faults.of(Fault.XEN_SLOT_UPDATE))));
        // steps of the reference: the current vCPU, its VMCS, the TLB (a read fills it), memory (a write)
        variants.add(Hypervisor.run(m, k, new GuestInstruction.MemoryAccess(Access.read(0x5000))).machine());
        variants.add(Hypervisor.run(m, k, new GuestInstruction.MemoryAccess(Access.read(0x6000))).machine());
        variants.add(Hypervisor.run(m, HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x5000)))
                .machine());
        variants.add(Hypervisor.run(m, k, new GuestInstruction.MemoryAccess(Access.write(0x5000, 1))).machine());
        variants.add(Hypervisor.run(m, HypervisorCases.H, new GuestInstruction.MemoryAccess(Access.read(0x4000)))
                .machine());
        variants.add(Hypervisor.run(m, k, new GuestInstruction.Hlt()).machine());
        assertThat(new HashSet<>(variants)).as("the variants are distinct states").hasSameSizeAs(variants);
        assertThat(variants.stream().map(CanonicalEncoder::fingerprint).distinct()).hasSameSizeAs(variants);
    }
}
