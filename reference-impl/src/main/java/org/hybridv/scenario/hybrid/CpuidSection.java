package org.hybridv.scenario.hybrid;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.xen.CpuidIdentity;

/**
 * The {@code cpuid} field of the {@code kernel} section (docs/scenario-format.md, "Hybrid kernel"): what the kernel's
 * hypervisor presents through CPUID and which interfaces stand behind it (BOOT-2, BOOT-7). Every field is optional;
 * the defaults are the named hypervisor's ({@link CpuidIdentity#XEN}, {@link CpuidIdentity#KVM}).
 *
 * @param hypervisor    {@code xen} (default) or {@code kvm} (HAP only)
 * @param base          the signature's leaf, 0x40000000 + k·0x100 (Xen at 0x40000100 offers Viridian below)
 * @param signature     twelve characters, code points 0..255 (EBX, ECX, EDX as bytes)
 * @param leaves        the leaves after the base (leaf base returns EAX = base + leaves)
 * @param hypervisorBit leaf 1 ECX[31]
 */
public record CpuidSection(Hypervisor hypervisor, @Hex(32) Long base, String signature,
        @Dec(max = 255, why = "leaves after the base: 0..255") Integer leaves, Boolean hypervisorBit) {
    public CpuidSection {
        if (base != null && (base < CpuidIdentity.FIRST || base > CpuidIdentity.LAST
                || (base - CpuidIdentity.FIRST) % CpuidIdentity.STEP != 0)) {
            throw Bad.at("base", "a CPUID base is 0x40000000 + k·0x100 up to 0x4000ff00");
        }
        if (signature != null && (signature.length() != 12 || signature.chars().anyMatch(ch -> ch > 0xFF))) {
            throw Bad.at("signature", "a signature is twelve characters with code points 0..255, not \""
                    + signature + "\"");
        }
    }

    /** Which hypervisor's interfaces. */
    public enum Hypervisor {
        @JsonProperty("xen") XEN,
        @JsonProperty("kvm") KVM
    }

    /** The identity this section describes. */
    public CpuidIdentity identity() {
        CpuidIdentity id = hypervisor == Hypervisor.KVM ? CpuidIdentity.KVM : CpuidIdentity.XEN;
        return new CpuidIdentity(id.personality(), base == null ? id.base() : base,
                signature == null ? id.signature() : signature, leaves == null ? id.leaves() : leaves,
                hypervisorBit == null ? id.hypervisorBit() : hypervisorBit);
    }
}
