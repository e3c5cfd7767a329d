package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domain;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * I8 restated from BOOT-1..5 (docs/rules/hybrid.md) catches boots the former I8 let pass. Each mutant is a real
 * kernel step of the reference with one thing changed, built here; the unchanged step holds.
 */
class HybridBootMutantsTest {
    /** The MSR BOOT-3 names (leaf 0x40000002 EBX: Xen's MSR base). */
    private static final long HYPERCALL_MSR = 0x4000_0000L;

    private static Lockstep.LockstepStep bootShadow(BootStage to) {
        return Lockstep.start(MmuMode.SHADOW, 64, 64).step(new GuestOp.Boot(to));
    }

    /**
     * The hypervisor installs a hypercall page whose stub for hypercall 2 ({@code mmu_update}) holds AMD's VMMCALL
     * (0F 01 D9) instead of VMCALL (0F 01 C1): on an Intel processor the kernel's first call through it is #UD. BOOT-3
     * says the page holds one VMCALL stub per hypercall, so I8 reports I8-hypercall. The former I8 missed it: it
     * judged the install only by the domain's own {@code hypercallPageInstalled} flag, which the mutant still sets,
     * and never read the page.
     */
    @Test
    void hypercallPageWithAWrongStubIsCaught() {
        Lockstep.LockstepStep s = bootShadow(BootStage.HYPERCALL_PAGE_INSTALLED);
        GuestSystem pre = s.pre().guest();
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.HYPERCALL_PAGE_INSTALLED);
        assertThat(HybridBoot.check(pre, s.guest())).isEqualTo(InvariantResult.HOLDS);

        List<Executed> trace = new ArrayList<>(s.guest().trace());
        int at = -1;
        for (int k = 0; k < trace.size(); k++) {
            if (trace.get(k).instruction() instanceof GuestInstruction.Wrmsr w && w.msr() == HYPERCALL_MSR) {
                at = k;
            }
        }
        assertThat(at).as("the boot wrote the hypercall MSR").isNotNegative();
        Executed e = trace.get(at);
        XenPlatform after = (XenPlatform) e.platform();
        Domain d = after.machine().domain(after.vcpu().domain());
        long gfn = ((GuestInstruction.Wrmsr) e.instruction()).value() >>> 12;
        long mfn = d.p2m().get(gfn);
        // Stub 2 starts at byte 64 (word 8): B8 02 00 00 00 0F 01 C1 | C3. Byte 7 of word 8 is VMCALL's C1.
        PhysicalMemory m = after.machine().memory();
        long word = m.read(mfn, 8);
        assertThat((word >>> 56) & 0xFF).as("the real page has VMCALL's last byte there").isEqualTo(0xC1L);
        PhysicalMemory bad = m.write(mfn, 8, (word & ~(0xFFL << 56)) | (0xD9L << 56));
        XenMachine x = after.machine().withProcessor(after.machine().processor()
                .withMachine(after.machine().processor().machine().withMemory(bad)));
        trace.set(at, new Executed(e.instruction(), e.regs(), e.pre(), new XenPlatform(x, after.vcpu()),
                e.observed(), e.exits(), e.hv()));
        KernelStep mutant = new KernelStep(s.guest().op(), s.guest().post(), s.guest().result(), trace);

        InvariantResult r = HybridBoot.check(pre, mutant);
        assertThat(r).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) r).rule()).isEqualTo("I8-hypercall");
        assertThat(r.toString()).contains("stub 2, byte 7");
    }

    /**
     * A SWITCH_MMU (not forced) that moves the stage REAL → PROTECTED: BOOT-5 gives SWITCH_MMU one edge,
     * HYPERCALL_PAGE_INSTALLED → DIRECT, so I8 reports I8-transition. The former I8 missed it: for an unforced
     * SWITCH_MMU it allowed any edge of {@code BootStage.next()} of the current stage — the reference's own stage
     * machine — and REAL → PROTECTED is one.
     */
    @Test
    void switchMmuThatMovesAnEarlyStageIsCaught() {
        Lockstep.LockstepStep s = bootShadow(BootStage.PROTECTED);
        GuestSystem pre = s.pre().guest();
        assertThat(pre.kernel().stage()).isEqualTo(BootStage.REAL);
        assertThat(s.guest().post().kernel().stage()).isEqualTo(BootStage.PROTECTED);
        assertThat(HybridBoot.check(pre, s.guest())).isEqualTo(InvariantResult.HOLDS);

        KernelStep mutant = new KernelStep(GuestOp.SwitchMmu.kernelBuilt(), s.guest().post(), s.guest().result(),
                s.guest().trace());
        InvariantResult r = HybridBoot.check(pre, mutant);
        assertThat(r).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) r).rule()).isEqualTo("I8-transition");
    }
}
