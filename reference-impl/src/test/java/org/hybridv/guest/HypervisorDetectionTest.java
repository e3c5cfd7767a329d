package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * BOOT-2 (Linux {@code hypervisor_cpuid_base}: leaf 1 ECX[31], then the bases 0x40000000..0x4000FF00 in steps of
 * 0x100, all twelve signature bytes, Xen needing (EAX − base) ≥ 2) and BOOT-7 (the KVM path), each checked by the
 * kernel's boot in lockstep with its twin under I1–I8.
 */
class HypervisorDetectionTest {
    private static Lockstep.LockstepStep boot(MmuMode mode, CpuidIdentity id, Faults faults, BootStage to) {
        Lockstep.LockstepStep s = Lockstep.start(mode, 64, 64, faults, id).step(new GuestOp.Boot(to));
        return s;
    }

    private static Lockstep.LockstepStep boot(MmuMode mode, CpuidIdentity id, BootStage to) {
        Lockstep.LockstepStep s = boot(mode, id, Faults.NONE, to);
        assertThat(HybridInvariants.check(s)).as("invariants after booting with %s", id).isEmpty();
        return s;
    }

    private static List<Long> cpuidLeaves(KernelStep s) {
        return s.trace().stream().filter(e -> e.instruction() instanceof GuestInstruction.Cpuid)
                .map(e -> ((GuestInstruction.Cpuid) e.instruction()).leaf()).toList();
    }

    @Test
    void xenAtTheFirstBaseIsFoundWithLeafOneAndOneBase() {
        Lockstep.LockstepStep s = boot(MmuMode.SHADOW, CpuidIdentity.XEN, BootStage.HYPERVISOR_DETECTED);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.HYPERVISOR_DETECTED);
        assertThat(cpuidLeaves(s.guest())).containsExactly(1L, 0x4000_0000L);
        // bare metal: leaf 1 ECX[31] clear, no scan
        assertThat(cpuidLeaves(s.twin())).containsExactly(1L);
        assertThat(s.twin().post().kernel().stage()).isEqualTo(BootStage.NATIVE);
    }

    @Test
    void xenBehindViridianIsFoundAtTheSecondBaseAndItsMsrIs0x40000200() {
        Lockstep.LockstepStep s = boot(MmuMode.SHADOW, CpuidIdentity.XEN_VIRIDIAN, BootStage.DIRECT);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.DIRECT);
        assertThat(s.guest().trace().stream().anyMatch(e -> e.instruction() instanceof GuestInstruction.Wrmsr w
                && w.msr() == 0x4000_0200L && e.observed() instanceof Observed.Value)).isTrue();
        assertThat(cpuidLeaves(s.guest()).subList(0, 3)).containsExactly(1L, 0x4000_0000L, 0x4000_0100L);
    }

    @Test
    void anotherHypervisorsSignatureScansEveryBaseAndStaysNative() {
        Lockstep.LockstepStep s = boot(MmuMode.SHADOW, CpuidIdentity.XEN.withSignature("VMwareVMware"),
                BootStage.DIRECT);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.NATIVE);
        // leaf 1, then the 256 bases 0x40000000 .. 0x4000FF00
        assertThat(cpuidLeaves(s.guest())).hasSize(257).endsWith(0x4000_FF00L);
    }

    @Test
    void aSignatureDifferingInAnyOneByteIsNotXenNorKvm() {
        for (String known : List.of(CpuidIdentity.XEN_SIGNATURE, CpuidIdentity.KVM_SIGNATURE)) {
            for (int k = 0; k < 12; k++) {
                char[] sig = known.toCharArray();
                sig[k] = (char) (sig[k] ^ 0x20);
                Lockstep.LockstepStep s = boot(MmuMode.HAP, CpuidIdentity.XEN.withSignature(new String(sig)),
                        BootStage.DIRECT);
                assertThat(s.guest().post().kernel().stage()).as("byte %d of %s changed", k, known)
                        .isEqualTo(BootStage.NATIVE);
            }
        }
    }

    @Test
    void leafOneHypervisorBitClearMeansNativeWithoutAScan() {
        Lockstep.LockstepStep s = boot(MmuMode.SHADOW, CpuidIdentity.XEN.withHypervisorBit(false), BootStage.DIRECT);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.NATIVE);
        assertThat(cpuidLeaves(s.guest())).containsExactly(1L);
    }

    @Test
    void xenWithFewerThanTwoLeavesIsNotXen() {
        Lockstep.LockstepStep s = boot(MmuMode.SHADOW, CpuidIdentity.XEN.withLeaves(1), BootStage.DIRECT);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.NATIVE);
    }

    @Test
    void noSignatureAtAllIsNative() {
        Lockstep.LockstepStep s = boot(MmuMode.HAP, CpuidIdentity.XEN.withSignature("\0\0\0\0\0\0\0\0\0\0\0\0"),
                BootStage.DIRECT);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.NATIVE);
    }

    @Test
    void kvmIsFoundAndThePvClockAndPvEoiAreEnabled() {
        Lockstep.LockstepStep s = boot(MmuMode.HAP, CpuidIdentity.KVM, BootStage.DIRECT);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.KVM);
        assertThat(s.guest().result()).isEqualTo(new KernelResult.Booted(BootStage.KVM));
        // feature leaf 0x40000001, then WRMSR 0x4b564d01 and 0x4b564d04 with bit 0 (KVM_MSR_ENABLED) set
        assertThat(cpuidLeaves(s.guest())).containsExactly(1L, 0x4000_0000L, 0x4000_0001L);
        List<Long> msrs = s.guest().trace().stream().filter(e -> e.instruction() instanceof GuestInstruction.Wrmsr w
                && (w.value() & 1) == 1 && e.observed() instanceof Observed.Value)
                .map(e -> ((GuestInstruction.Wrmsr) e.instruction()).msr()).toList();
        assertThat(msrs).containsExactly(0x4b56_4d01L, 0x4b56_4d04L);
        // pvclock_vcpu_time_info at offset 0 of the kernel's frame 5: version even and non-zero, mul 2^31, stable
        XenMachine m = ((XenPlatform) s.guest().post().platform()).machine();
        long mfn = m.domain(1).machineFrame(Layout.HYPERCALL_PAGE);
        PhysicalMemory mem = m.memory();
        assertThat(mem.read(mfn, 0) & 0xFFFF_FFFFL).isEqualTo(2);
        assertThat(mem.read(mfn, 3)).isEqualTo((1L << 31) | (1L << 40));
        assertThat(m.domain(1).hypercallPageInstalled()).isFalse();
    }

    @Test
    void underKvmTheKernelStaysOnItsOwnTablesAndSwitchMmuIsRefused() {
        Lockstep l = boot(MmuMode.HAP, CpuidIdentity.KVM, BootStage.DIRECT).post();
        for (GuestOp op : List.of(new GuestOp.NewProcess(), new GuestOp.SwitchTo(1),
                new GuestOp.UserAccess(Layout.userPage(3), AccessKind.WRITE, 0x5A),
                new GuestOp.UserAccess(Layout.userPage(3), AccessKind.READ, 0), new GuestOp.Syscall(),
                new GuestOp.Idle(), new GuestOp.SwitchMmu(SwitchRoot.KERNEL_BUILT, 0, false, true))) {
            Lockstep.LockstepStep s = l.step(op);
            assertThat(HybridInvariants.check(s)).as("after %s", op).isEmpty();
            l = s.post();
        }
        assertThat(l.guest().kernel().stage()).isEqualTo(BootStage.KVM);
        assertThat(((XenPlatform) l.guest().platform()).machine().domain(1).mode()).isEqualTo(MmuMode.HAP);
    }

    @Test
    void aKvmDomainIsHapOnly() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.NONE,
                CpuidIdentity.KVM)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HAP");
    }

    @Test
    void thePrefixMatchFaultTakesAForeignSignatureForXenAndI8DetectCatchesIt() {
        Lockstep.LockstepStep s = boot(MmuMode.SHADOW, CpuidIdentity.XEN.withSignature("XenVMMXenVMX"),
                Faults.of(Fault.DETECT_SIGNATURE_PREFIX_MATCH), BootStage.HYPERVISOR_DETECTED);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.HYPERVISOR_DETECTED);
        assertThat(HybridInvariants.check(s)).anyMatch(v -> v.violation().rule().equals("I8-detect"));
    }
}
