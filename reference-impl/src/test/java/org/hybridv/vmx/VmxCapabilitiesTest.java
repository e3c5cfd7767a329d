package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import org.hybridv.ept.EptSupport;
import org.hybridv.ept.InveptType;
import org.junit.jupiter.api.Test;

/**
 * IA32_VMX_EPT_VPID_CAP decoded as Intel SDM Vol. 3C Appendix A.10 lays it out: bit 0 execute-only translations,
 * bit 21 EPT accessed and dirty flags, bits 25 and 26 the single-context and all-context INVEPT types, bits 40–43 the
 * individual-address, single-context, all-context and single-context-retaining-globals INVVPID types.
 */
class VmxCapabilitiesTest {
    @Test
    void eachBitIsTheCapabilityTheAppendixNames() {
        assertThat(VmxCapabilities.fromMsr(0)).isEqualTo(new VmxCapabilities(false, false,
                EnumSet.noneOf(InveptType.class), EnumSet.noneOf(InvvpidType.class)));
        assertThat(VmxCapabilities.fromMsr(1L).executeOnly()).isTrue();
        assertThat(VmxCapabilities.fromMsr(1L << 21).eptAccessedDirty()).isTrue();
        assertThat(VmxCapabilities.fromMsr(1L << 25).inveptTypes()).containsExactly(InveptType.SINGLE_CONTEXT);
        assertThat(VmxCapabilities.fromMsr(1L << 26).inveptTypes()).containsExactly(InveptType.ALL_CONTEXT);
        assertThat(VmxCapabilities.fromMsr(1L << 40).invvpidTypes()).containsExactly(InvvpidType.INDIVIDUAL_ADDRESS);
        assertThat(VmxCapabilities.fromMsr(1L << 41).invvpidTypes()).containsExactly(InvvpidType.SINGLE_CONTEXT);
        assertThat(VmxCapabilities.fromMsr(1L << 42).invvpidTypes()).containsExactly(InvvpidType.ALL_CONTEXT);
        assertThat(VmxCapabilities.fromMsr(1L << 43).invvpidTypes())
                .containsExactly(InvvpidType.SINGLE_CONTEXT_RETAINING_GLOBALS);
        // bit 20 (INVEPT supported) and bit 32 (INVVPID supported) name no type on their own
        assertThat(VmxCapabilities.fromMsr((1L << 20) | (1L << 32))).isEqualTo(VmxCapabilities.fromMsr(0));
        long all = 1L | (1L << 21) | (1L << 25) | (1L << 26) | (0xFL << 40);
        assertThat(VmxCapabilities.fromMsr(all)).isEqualTo(VmxCapabilities.FULL);
        assertThat(VmxCapabilities.fromMsr(all).eptSupport(40)).isEqualTo(EptSupport.full(40));
    }
}
