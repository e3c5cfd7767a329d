package org.hybridv.xen;

import org.hybridv.x86.Checks;

/**
 * What the hypervisor presents through CPUID, and which hypervisor's interfaces stand behind it (BOOT-2,
 * docs/rules/hybrid.md; docs/hybrid.md, "Detection"). A hypervisor's leaves sit at a base on a 0x100 boundary in
 * 0x40000000..0x4000FF00: leaf {@code base} returns the largest hypervisor leaf in EAX and a twelve-byte signature in
 * EBX:ECX:EDX (four little-endian bytes each). Xen sits at 0x40000000, or at 0x40000100 when it also offers the
 * Viridian (Hyper-V) leaves at 0x40000000 (Xen {@code cpuid_hypervisor_leaves}, xen/arch/x86/cpuid.c: "the Xen
 * leaves can be found at the first otherwise unused 0x100 aligned boundary starting from 0x40000000"); KVM at
 * 0x40000000 ({@code KVM_CPUID_SIGNATURE}, Linux include/uapi/asm/kvm_para.h).
 *
 * <p>The signature is a value of its own so that a test can make a hypervisor present any answer — another
 * hypervisor's signature, one that differs from a known one in a single byte, none — whatever interfaces it has.
 *
 * @param personality   which interfaces the hypervisor offers: Xen's (hypercall page, SWITCH_MMU) or KVM's (HAP
 *                      only, the KVM MSRs)
 * @param base          the leaf of the signature: 0x40000000 + k·0x100, k in 0..255
 * @param signature     twelve characters 0..255, the bytes of EBX, ECX, EDX
 * @param leaves        the number of leaves after {@code base}: leaf {@code base} returns EAX = base + leaves
 * @param hypervisorBit leaf 1 ECX[31], "hypervisor present" ({@code X86_FEATURE_HYPERVISOR})
 */
public record CpuidIdentity(Personality personality, long base, String signature, long leaves,
        boolean hypervisorBit) {
    /** The first hypervisor leaf ({@code XEN_CPUID_FIRST_LEAF}). */
    public static final long FIRST = 0x4000_0000L;
    /** The last base a guest scans (Linux {@code hypervisor_cpuid_base}: base < 0x40010000, steps of 0x100). */
    public static final long LAST = 0x4000_FF00L;
    /** The step between bases. */
    public static final long STEP = 0x100;
    /** Xen's signature ({@code XEN_CPUID_SIGNATURE_EBX/ECX/EDX}, public/arch-x86/cpuid.h). */
    public static final String XEN_SIGNATURE = "XenVMMXenVMM";
    /** KVM's signature: "KVMKVMKVM" and three NUL bytes ({@code KVM_SIGNATURE}, Linux asm/kvm_para.h). */
    public static final String KVM_SIGNATURE = "KVMKVMKVM\0\0\0";
    /** The Viridian (Hyper-V) signature Xen presents at 0x40000000 when Viridian is enabled ("Microsoft Hv"). */
    public static final String VIRIDIAN_SIGNATURE = "Microsoft Hv";
    /**
     * The largest Viridian leaf Xen reports at 0x40000000 (EAX of leaf 0: Xen's {@code cpuid_viridian_leaves},
     * "Maximum leaf", 0x40000006; the Hyper-V interface's leaf 0x40000000).
     */
    public static final long VIRIDIAN_MAX_LEAF = 0x4000_0006L;
    /** Xen's MSR base without Viridian (leaf base+2 EBX). */
    public static final long XEN_MSR_BASE = 0x4000_0000L;
    /** Xen's MSR base with Viridian, which owns 0x40000000.. (Xen {@code cpuid_hypervisor_leaves}, leaf 2). */
    public static final long XEN_MSR_BASE_VIRIDIAN = 0x4000_0200L;

    /** Xen at 0x40000000: leaves base..base+2 (this model implements three). */
    public static final CpuidIdentity XEN = new CpuidIdentity(Personality.XEN, FIRST, XEN_SIGNATURE, 2, true);
    /** Xen with Viridian: its own leaves at 0x40000100, the Viridian leaves at 0x40000000. */
    public static final CpuidIdentity XEN_VIRIDIAN = new CpuidIdentity(Personality.XEN, FIRST + STEP, XEN_SIGNATURE, 2,
            true);
    /** KVM at 0x40000000: leaf base+1 is the feature leaf ({@code KVM_CPUID_FEATURES}). */
    public static final CpuidIdentity KVM = new CpuidIdentity(Personality.KVM, FIRST, KVM_SIGNATURE, 1, true);

    /** Which hypervisor's interfaces stand behind the CPUID answers. */
    public enum Personality {
        /** Xen: the hypercall page MSR, SWITCH_MMU, the PV MMU after the switch. */
        XEN,
        /** KVM: domains in HAP mode only, no PV MMU, the KVM paravirtual MSRs ({@code MSR_KVM_*}). */
        KVM
    }

    public CpuidIdentity {
        Checks.notNull("personality", personality);
        Checks.notNull("signature", signature);
        if (base < FIRST || base > LAST || (base - FIRST) % STEP != 0) {
            throw new IllegalArgumentException("CPUID base " + Long.toHexString(base)
                    + " is not 0x40000000 + k·0x100 below 0x40010000");
        }
        if (signature.length() != 12 || signature.chars().anyMatch(ch -> ch > 0xFF)) {
            throw new IllegalArgumentException("a CPUID signature is twelve bytes, not \"" + signature + "\"");
        }
        Checks.inRange("leaves", leaves, 0, 0xFF);
    }

    /** The same hypervisor presenting {@code sig} instead of its signature. */
    public CpuidIdentity withSignature(String sig) {
        return new CpuidIdentity(personality, base, sig, leaves, hypervisorBit);
    }

    /** The same hypervisor with leaf 1 ECX[31] set or clear. */
    public CpuidIdentity withHypervisorBit(boolean bit) {
        return new CpuidIdentity(personality, base, signature, leaves, bit);
    }

    /** The same hypervisor reporting {@code n} leaves after its base. */
    public CpuidIdentity withLeaves(long n) {
        return new CpuidIdentity(personality, base, signature, n, hypervisorBit);
    }

    /** The MSR that installs Xen's hypercall page (leaf base+2 EBX), or -1 for a hypervisor without one. */
    public long hypercallMsr() {
        if (personality != Personality.XEN) {
            return -1;
        }
        return base == FIRST ? XEN_MSR_BASE : XEN_MSR_BASE_VIRIDIAN;
    }

    /** Register {@code k} (0 EBX, 1 ECX, 2 EDX) of a twelve-byte signature: four little-endian bytes. */
    public static long register(String signature, int k) {
        long r = 0;
        for (int i = 3; i >= 0; i--) {
            r = (r << 8) | (signature.charAt(4 * k + i) & 0xFF);
        }
        return r;
    }
}
