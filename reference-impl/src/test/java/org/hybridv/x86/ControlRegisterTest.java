package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The system instructions that change translation state and their #GP guards: Intel SDM Vol. 2B "MOV—Move to/from
 * Control Registers", Vol. 2A INVLPG, Vol. 3A §2.5, §4.1.2, §4.10.1, §9.8.5; and CR2 on #PF delivery (§4.7, §6.15).
 * Every #GP must leave the machine exactly as it was.
 */
class ControlRegisterTest {
    private static final long PML4_BASE = Mapping.PML4 << 12;

    /** Long mode, the mapping in memory, one translation in an adversarial TLB. */
    private static X86Machine longMode() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL);
        return Processor.access(m, Access.read(LINEAR)).machine();
    }

    private static void assertGpUnchanged(InstructionStep step, X86Machine before) {
        assertThat(step.outcome()).isInstanceOf(GeneralProtection.class);
        assertThat(step.machine()).isEqualTo(before);
    }

    private static X86Machine retired(InstructionStep step) {
        assertThat(step.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return step.machine();
    }

    // ---- CR2 ----

    @Test
    @DisplayName("SDM 4.7, 6.15 (interrupt 14): delivering a #PF loads CR2 with the faulting linear address")
    void pageFaultWritesCr2() {
        long unmapped = LINEAR + 0x1000; // PT index 5: not present
        X86Machine m = longMode();
        AccessStep step = Processor.access(m, Access.read(unmapped));
        assertThat(step.outcome()).isEqualTo(Mapping.pageFault(0, unmapped));
        assertThat(step.machine().cpu().cr2()).isEqualTo(unmapped);
        // only CR2 changed
        assertThat(step.machine().cpu()).isEqualTo(m.cpu().withCr2(unmapped));
        assertThat(step.machine().memory()).isEqualTo(m.memory());
        // a successful access leaves CR2 alone
        assertThat(Processor.access(step.machine(), Access.read(LINEAR)).machine().cpu().cr2()).isEqualTo(unmapped);
    }

    @Test
    @DisplayName("SDM 6.15: CR2 is written when the #PF is delivered; accessWithoutDelivery leaves it alone")
    void undeliveredPageFaultLeavesCr2() {
        AccessStep step = Processor.accessWithoutDelivery(longMode(), Access.write(LINEAR + 0x1000, 1));
        assertThat(step.outcome()).isEqualTo(Mapping.pageFault(ErrorCode.WR, LINEAR + 0x1000));
        assertThat(step.machine().cpu().cr2()).isZero();
    }

    // ---- MOV to CR3 ----

    @Test
    @DisplayName("SDM Vol. 2B MOV: MOV to CR3 setting a bit at or above MAXPHYADDR is #GP(0)")
    void movToCr3AboveMaxPhysAddrIsGp() {
        X86Machine m = longMode(); // MAXPHYADDR 36
        assertGpUnchanged(Processor.movToCr3(m, (1L << 36) | PML4_BASE), m);
        assertGpUnchanged(Processor.movToCr3(m, (1L << 51) | PML4_BASE), m);
        // with PCIDE = 0, bit 63 is a reserved bit too
        assertGpUnchanged(Processor.movToCr3(m, Cr3.NO_FLUSH_BIT | PML4_BASE), m);
        // bit 35 is an address bit
        X86Machine ok = retired(Processor.movToCr3(m, (1L << 35) | PML4_BASE));
        assertThat(ok.cpu().cr3().pml4Base()).isEqualTo((1L << 35) | PML4_BASE);
        // with MAXPHYADDR 39 bit 36 is allowed
        X86Machine m39 = m.withCpu(CpuState.longMode(Mapping.PML4, 39));
        assertThat(retired(Processor.movToCr3(m39, (1L << 36) | PML4_BASE)).cpu().cr3().pml4Base())
                .isEqualTo((1L << 36) | PML4_BASE);
    }

    @Test
    @DisplayName("SDM Vol. 2B MOV: MOV to CR3 at CPL 3 is #GP(0)")
    void movToCr3AtCpl3IsGp() {
        X86Machine m = longMode();
        X86Machine user = m.withCpu(m.cpu().withCpl(3));
        assertGpUnchanged(Processor.movToCr3(user, PML4_BASE), user);
    }

    // ---- INVLPG ----

    @Test
    @DisplayName("SDM Vol. 2A INVLPG: INVLPG at CPL 3 is #GP(0)")
    void invlpgAtCpl3IsGp() {
        X86Machine m = longMode();
        X86Machine user = m.withCpu(m.cpu().withCpl(3));
        assertGpUnchanged(Processor.invlpg(user, LINEAR), user);
    }

    @Test
    @DisplayName("SDM Vol. 2A INVLPG: in 64-bit mode INVLPG of a non-canonical address is a NOP")
    void invlpgOfNonCanonicalAddressIsNop() {
        X86Machine m = longMode();
        InstructionStep step = Processor.invlpg(m, LINEAR | 0x8000_0000_0000_0000L);
        assertThat(step.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        assertThat(step.machine()).isEqualTo(m);
        assertThat(step.machine().tlb().entries()).hasSize(1);
    }

    // ---- MOV to CR0 ----

    @Test
    @DisplayName("SDM 2.5, Vol. 2B MOV: setting CR0.PG with CR0.PE = 0 is #GP(0)")
    void movToCr0SettingPgWithoutPeIsGp() {
        X86Machine reset = X86Machine.create(Mapping.FRAMES, 36, TlbPolicy.ADVERSARIAL);
        assertGpUnchanged(Processor.movToCr0(reset, new Cr0(false, false, true)), reset);
        X86Machine m = longMode();
        assertGpUnchanged(Processor.movToCr0(m, new Cr0(false, false, true)), m);
    }

    @Test
    @DisplayName("SDM 4.1.2, 9.8.5: setting CR0.PG with EFER.LME = 1 and CR4.PAE = 0 is #GP(0)")
    void movToCr0SettingPgWithLmeAndWithoutPaeIsGp() {
        X86Machine m = X86Machine.create(Mapping.FRAMES, 36, TlbPolicy.ADVERSARIAL);
        m = retired(Processor.writeEfer(m, new Efer(true, false)));
        assertGpUnchanged(Processor.movToCr0(m, new Cr0(true, false, true)), m);
    }

    @Test
    @DisplayName("SDM 4.1.2: the legal way into IA-32e paging: set PAE, set LME, load CR3, then set PG")
    void enablingIa32ePagingInTheSdmOrderRetires() {
        X86Machine m = X86Machine.create(Mapping.FRAMES, 36, TlbPolicy.ADVERSARIAL)
                .withMemory(Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE).memory());
        m = retired(Processor.movToCr4(m, Cr4.RESET.withPae(true)));
        m = retired(Processor.writeEfer(m, new Efer(true, false)));
        m = retired(Processor.movToCr3(m, PML4_BASE));
        m = retired(Processor.movToCr0(m, new Cr0(true, false, true)));
        assertThat(m.cpu().ia32eMode()).isTrue();
        assertThat(Processor.access(m, Access.read(LINEAR)).outcome())
                .isEqualTo(new AccessOutcome.Completed(0x95A8L, Mapping.PAGE_DATA));
    }

    @Test
    @DisplayName("SDM Vol. 2B MOV, 4.10.1: clearing CR0.PG while CR4.PCIDE = 1 is #GP(0)")
    void movToCr0ClearingPgWhilePcideIsSetIsGp() {
        X86Machine m = longMode();
        m = retired(Processor.movToCr4(m, m.cpu().cr4().withPcide(true)));
        assertGpUnchanged(Processor.movToCr0(m, m.cpu().cr0().withPg(false)), m);
    }

    @Test
    @DisplayName("SDM Vol. 2B MOV: MOV to CR0 at CPL 3 is #GP(0)")
    void movToCr0AtCpl3IsGp() {
        X86Machine m = longMode();
        X86Machine user = m.withCpu(m.cpu().withCpl(3));
        assertGpUnchanged(Processor.movToCr0(user, user.cpu().cr0().withWp(true)), user);
    }

    // ---- MOV to CR4 ----

    @Test
    @DisplayName("SDM 4.1.2, Vol. 2B MOV: clearing CR4.PAE while IA-32e mode is active is #GP(0)")
    void movToCr4ClearingPaeInIa32eModeIsGp() {
        X86Machine m = longMode();
        assertGpUnchanged(Processor.movToCr4(m, m.cpu().cr4().withPae(false)), m);
    }

    @Test
    @DisplayName("SDM 4.10.1, Vol. 2B MOV: setting CR4.PCIDE while CR3[11:0] != 0 is #GP(0)")
    void movToCr4SettingPcideWithNonZeroCr3LowBitsIsGp() {
        X86Machine m = longMode();
        X86Machine pwtPcd = m.withCpu(m.cpu().withCr3(new Cr3(PML4_BASE, 0x18))); // PWT | PCD
        assertGpUnchanged(Processor.movToCr4(pwtPcd, pwtPcd.cpu().cr4().withPcide(true)), pwtPcd);
        assertThat(retired(Processor.movToCr4(m, m.cpu().cr4().withPcide(true))).cpu().cr4().pcide()).isTrue();
    }

    @Test
    @DisplayName("SDM 4.10.1: CR4.PCIDE can be set only in IA-32e mode")
    void movToCr4SettingPcideOutsideIa32eModeIsGp() {
        X86Machine m = X86Machine.create(Mapping.FRAMES, 36, TlbPolicy.ADVERSARIAL);
        m = retired(Processor.movToCr4(m, Cr4.RESET.withPae(true)));
        m = retired(Processor.writeEfer(m, new Efer(true, false))); // LME = 1 but PG = 0: not IA-32e mode
        assertGpUnchanged(Processor.movToCr4(m, m.cpu().cr4().withPcide(true)), m);
    }

    @Test
    @DisplayName("SDM Vol. 2B MOV: MOV to CR4 at CPL 3 is #GP(0)")
    void movToCr4AtCpl3IsGp() {
        X86Machine m = longMode();
        X86Machine user = m.withCpu(m.cpu().withCpl(3));
        assertGpUnchanged(Processor.movToCr4(user, user.cpu().cr4().withSmep(true)), user);
    }

    // ---- WRMSR IA32_EFER ----

    @Test
    @DisplayName("SDM 4.1.2, 9.8.5: WRMSR changing IA32_EFER.LME while CR0.PG = 1 is #GP(0)")
    void writeEferChangingLmeWhilePagingIsGp() {
        X86Machine m = longMode();
        assertGpUnchanged(Processor.writeEfer(m, new Efer(false, false)), m);
        // changing NXE while paging is allowed
        assertThat(retired(Processor.writeEfer(m, new Efer(true, true))).cpu().efer().nxe()).isTrue();
        // with paging off LME may change
        X86Machine reset = X86Machine.create(Mapping.FRAMES, 36, TlbPolicy.NONE);
        assertThat(retired(Processor.writeEfer(reset, new Efer(true, false))).cpu().efer().lme()).isTrue();
    }

    @Test
    @DisplayName("SDM Vol. 2B WRMSR: WRMSR at CPL 3 is #GP(0)")
    void writeEferAtCpl3IsGp() {
        X86Machine m = longMode();
        X86Machine user = m.withCpu(m.cpu().withCpl(3));
        assertGpUnchanged(Processor.writeEfer(user, new Efer(true, true)), user);
    }
}
