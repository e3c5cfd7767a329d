package org.hybridv.xen;

/**
 * The CPUID values the hypervisor returns (Xen {@code cpuid_hypervisor_leaves}, xen/arch/x86/cpuid.c; the ABI in
 * xen/include/public/arch-x86/cpuid.h; BOOT-2, docs/rules/hybrid.md).
 */
public final class CpuidLeaves {
    private CpuidLeaves() {}

    /** {@code XEN_CPUID_FIRST_LEAF}. */
    public static final long BASE = 0x4000_0000L;
    /** The largest hypervisor leaf this model implements (Xen today reports base + 5; leaves 3–5 are not modelled). */
    public static final long MAX_LEAF = BASE + 2;
    /** "XenV", "MMXe", "nVMM": {@code XEN_CPUID_SIGNATURE_EBX/ECX/EDX}. */
    public static final long SIGNATURE_EBX = 0x566e6558L;
    public static final long SIGNATURE_ECX = 0x65584d4dL;
    public static final long SIGNATURE_EDX = 0x4d4d566eL;
    /** Leaf 0x40000001 EAX: the version, major in 31:16, minor in 15:0 (this model says 4.17). */
    public static final long VERSION = (4L << 16) | 17;
    /** Leaf 0x40000002 EBX: the base of the Xen MSR range (0x40000000; 0x40000200 with Viridian, not modelled). */
    public static final long MSR_BASE = 0x4000_0000L;
    /** Leaf 1 ECX bit 31: {@code X86_FEATURE_HYPERVISOR} (cpu-policy.c). */
    public static final long HYPERVISOR_BIT = 1L << 31;

    /**
     * CPUID {@code leaf} as a guest sees it: leaf 0x40000000 → (max leaf, signature); 0x40000001 → (version, 0, 0,
     * 0); 0x40000002 → (1 hypercall page, MSR base, 0, 0); leaf 1 → ECX bit 31 set and nothing else (the model has no
     * CPU feature policy); every other leaf → zeros (Xen zeroes leaves beyond its max).
     */
    public static VcpuOutcome.CpuidResult cpuid(long leaf) {
        if (leaf == BASE) {
            return new VcpuOutcome.CpuidResult(MAX_LEAF, SIGNATURE_EBX, SIGNATURE_ECX, SIGNATURE_EDX);
        }
        if (leaf == BASE + 1) {
            return new VcpuOutcome.CpuidResult(VERSION, 0, 0, 0);
        }
        if (leaf == BASE + 2) {
            return new VcpuOutcome.CpuidResult(1, MSR_BASE, 0, 0);
        }
        if (leaf == 1) {
            return new VcpuOutcome.CpuidResult(0, 0, HYPERVISOR_BIT, 0);
        }
        return new VcpuOutcome.CpuidResult(0, 0, 0, 0);
    }

    /** Leaf 0x40000001 EAX bit 3: {@code KVM_FEATURE_CLOCKSOURCE2}, kvmclock at MSR 0x4b564d01 (Linux uapi kvm_para.h). */
    public static final long KVM_FEATURE_CLOCKSOURCE2 = 1L << 3;
    /** Leaf 0x40000001 EAX bit 6: {@code KVM_FEATURE_PV_EOI}, paravirtual EOI at MSR 0x4b564d04. */
    public static final long KVM_FEATURE_PV_EOI = 1L << 6;

    /**
     * CPUID {@code leaf} as a guest of a hypervisor presenting {@code id} sees it (BOOT-2): leaf 1 → ECX[31] as
     * {@code id} says; leaf {@code id.base()} → (base + leaves, the signature in EBX:ECX:EDX); for Xen, base+1 → the
     * version and base+2 → (1 hypercall page, the MSR base: 0x40000000, or 0x40000200 with Viridian); for KVM, base+1
     * → the feature bits in EAX ({@code KVM_FEATURE_CLOCKSOURCE2}, {@code KVM_FEATURE_PV_EOI}); with the base above
     * 0x40000000, leaf 0x40000000 → the Viridian leaf ("Microsoft Hv", Xen's {@code cpuid_viridian_leaves}); every
     * other leaf → zeros.
     */
    public static VcpuOutcome.CpuidResult cpuid(CpuidIdentity id, long leaf) {
        if (leaf == 1) {
            return new VcpuOutcome.CpuidResult(0, 0, id.hypervisorBit() ? HYPERVISOR_BIT : 0, 0);
        }
        long base = id.base();
        if (leaf == base) {
            return new VcpuOutcome.CpuidResult(base + id.leaves(), CpuidIdentity.register(id.signature(), 0),
                    CpuidIdentity.register(id.signature(), 1), CpuidIdentity.register(id.signature(), 2));
        }
        if (leaf > base && leaf <= base + id.leaves()) {
            if (id.personality() == CpuidIdentity.Personality.XEN) {
                if (leaf == base + 1) {
                    return new VcpuOutcome.CpuidResult(VERSION, 0, 0, 0);
                }
                if (leaf == base + 2) {
                    return new VcpuOutcome.CpuidResult(1, id.hypercallMsr(), 0, 0);
                }
            } else if (leaf == base + 1) {
                return new VcpuOutcome.CpuidResult(KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_PV_EOI, 0, 0, 0);
            }
        }
        if (leaf == CpuidIdentity.FIRST && base > CpuidIdentity.FIRST) {
            String v = CpuidIdentity.VIRIDIAN_SIGNATURE;
            return new VcpuOutcome.CpuidResult(CpuidIdentity.VIRIDIAN_MAX_LEAF, CpuidIdentity.register(v, 0),
                    CpuidIdentity.register(v, 1), CpuidIdentity.register(v, 2));
        }
        return new VcpuOutcome.CpuidResult(0, 0, 0, 0);
    }
}
