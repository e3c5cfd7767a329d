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
}
