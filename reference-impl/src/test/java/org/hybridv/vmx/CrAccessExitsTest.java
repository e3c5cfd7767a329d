package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.x86.Cr0;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Control-register accesses, Intel SDM Vol. 3C §25.1.3, §25.3, table 27-3. */
class CrAccessExitsTest {
    private static final long WP = 1L << Cr0.WP_BIT;
    private static final long PE = 1L << Cr0.PE_BIT;
    private static final long PG = 1L << Cr0.PG_BIT;

    @Test
    @DisplayName("SDM 25.1.3: MOV to CR0 exits iff a host-owned bit differs from the read shadow")
    void movToCr0ExitsOnHostOwnedBitChange() {
        long mask = WP;
        long shadow = WP;
        assertThat(CrAccessExits.movToCrExits(mask, shadow, PE | PG | WP)).as("WP kept at 1").isFalse();
        assertThat(CrAccessExits.movToCrExits(mask, shadow, PE | PG)).as("clearing host-owned WP").isTrue();
        assertThat(CrAccessExits.movToCrExits(mask, shadow, WP)).as("guest-owned PE/PG may change").isFalse();
    }

    @Test
    @DisplayName("SDM 25.3: a MOV to CR0 that does not exit keeps the host-owned bits (WP forced to 1 stays 1)")
    void nonExitingMovKeepsHostOwnedBits() {
        // The host owns WP, runs the guest with WP = 1, and tells it (shadow) WP = 0.
        long mask = WP;
        long current = PE | PG | WP;
        long source = PE | PG;
        assertThat(CrAccessExits.movToCrExits(mask, 0, source)).isFalse();
        assertThat(CrAccessExits.valueAfterMovToCr(mask, current, source)).isEqualTo(PE | PG | WP);
        assertThat(CrAccessExits.valueOfMovFromCr(mask, 0, PE | PG | WP)).as("the guest reads the shadow")
                .isEqualTo(PE | PG);
    }

    @Test
    @DisplayName("SDM 25.1.3: MOV to CR3 exits with CR3-load exiting unless the value is a CR3-target value")
    void movToCr3ExitsUnlessTargetValue() {
        ExecutionControls c = ExecutionControls.none()
                .withPrimary(PrimaryControls.NONE.withCr3LoadExiting(true))
                .withCr3TargetValues(List.of(0x5000L));
        assertThat(CrAccessExits.movToCr3Exits(c, 0x5000L)).isFalse();
        assertThat(CrAccessExits.movToCr3Exits(c, 0x6000L)).isTrue();
        assertThat(CrAccessExits.movToCr3Exits(ExecutionControls.none(), 0x6000L)).as("CR3-load exiting 0")
                .isFalse();
    }

    @Test
    @DisplayName("SDM 25.1.3: MOV from CR3 exits iff CR3-store exiting")
    void movFromCr3ExitsWithStoreExiting() {
        assertThat(CrAccessExits.movFromCr3Exits(ExecutionControls.none())).isFalse();
        assertThat(CrAccessExits.movFromCr3Exits(ExecutionControls.none()
                .withPrimary(PrimaryControls.NONE.withCr3StoreExiting(true)))).isTrue();
    }

    @Test
    @DisplayName("SDM table 27-3: CR-access qualification (CR number, access type, register)")
    void crAccessQualificationLayout() {
        // MOV CR3, RAX: CR 3, type 0, register 0
        assertThat(CrAccessExits.qualification(3, CrAccessExits.MOV_TO_CR, 0)).isEqualTo(0x3L);
        // MOV RBX, CR3: CR 3, type 1 (bits 5:4 = 01), register 3 (bits 11:8)
        assertThat(CrAccessExits.qualification(3, CrAccessExits.MOV_FROM_CR, 3)).isEqualTo(0x313L);
        // MOV CR0, R15
        assertThat(CrAccessExits.qualification(0, CrAccessExits.MOV_TO_CR, 15)).isEqualTo(0xF00L);
    }

    @Test
    @DisplayName("SDM 25.1.2/25.1.3: CPUID and VMCALL always exit; HLT and INVLPG by their controls")
    void instructionExits() {
        assertThat(InstructionExits.cpuidExits()).isTrue();
        assertThat(InstructionExits.vmcallExits()).isTrue();
        assertThat(InstructionExits.hltExits(PrimaryControls.NONE)).isFalse();
        assertThat(InstructionExits.hltExits(PrimaryControls.NONE.withHltExiting(true))).isTrue();
        assertThat(InstructionExits.invlpgExits(PrimaryControls.NONE)).isFalse();
        assertThat(InstructionExits.invlpgExits(PrimaryControls.NONE.withInvlpgExiting(true))).isTrue();
    }

    @Test
    @DisplayName("SDM 24.6.2: secondary controls count only with activate secondary controls")
    void secondaryControlsNeedActivation() {
        ExecutionControls c = ExecutionControls.none().withSecondary(new SecondaryControls(true, true, false));
        assertThat(c.eptEnabled()).isFalse();
        assertThat(c.vpidEnabled()).isFalse();
        ExecutionControls active = c.withPrimary(PrimaryControls.NONE.withActivateSecondaryControls(true));
        assertThat(active.eptEnabled()).isTrue();
        assertThat(active.vpidEnabled()).isTrue();
    }
}
