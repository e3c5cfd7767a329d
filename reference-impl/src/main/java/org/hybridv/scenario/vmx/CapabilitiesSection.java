package org.hybridv.scenario.vmx;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.hybridv.ept.InveptType;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Binder;
import org.hybridv.scenario.JsonValue;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.VmxCapabilities;

/**
 * The machine's optional {@code vmxCapabilities} section: what the processor reports in IA32_VMX_EPT_VPID_CAP (Intel
 * SDM Vol. 3C Appendix A.10) where a scenario wants less than everything ({@link VmxCapabilities#FULL}, the default
 * of each field): {@code executeOnly} (bit 0), {@code eptAccessedDirty} (bit 21), {@code invept} (the INVEPT types
 * supported, bits 25 and 26) and {@code invvpid} (the INVVPID types supported, bits 43:40), named as the
 * {@code invept} and {@code invvpid} steps name them.
 */
record CapabilitiesSection(Boolean executeOnly, Boolean eptAccessedDirty, List<VmxStep.InveptKind> invept,
        List<VmxStep.InvvpidKind> invvpid) {
    CapabilitiesSection {
        Bad.requireAny("vmxCapabilities", List.of("executeOnly", "eptAccessedDirty", "invept", "invvpid"),
                executeOnly, eptAccessedDirty, invept, invvpid);
    }

    /** The section's capabilities, the fields it leaves out as {@link VmxCapabilities#FULL} has them. */
    VmxCapabilities capabilities() {
        Set<InveptType> e = invept == null ? EnumSet.allOf(InveptType.class) : EnumSet.noneOf(InveptType.class);
        if (invept != null) {
            invept.forEach(k -> e.add(k.type()));
        }
        Set<InvvpidType> v = invvpid == null ? EnumSet.allOf(InvvpidType.class) : EnumSet.noneOf(InvvpidType.class);
        if (invvpid != null) {
            invvpid.forEach(k -> v.add(k.type()));
        }
        return new VmxCapabilities(executeOnly == null || executeOnly, eptAccessedDirty == null || eptAccessedDirty,
                e, v);
    }

    static VmxCapabilities build(JsonValue value, MachineSpec base) {
        CapabilitiesSection s = Binder.bind(value, CapabilitiesSection.class, base, "vmxCapabilities");
        if (s == null) {
            throw value.error("expected an object, found null");
        }
        return s.capabilities();
    }
}
