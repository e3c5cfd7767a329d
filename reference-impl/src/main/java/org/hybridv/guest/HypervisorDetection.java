package org.hybridv.guest;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.CpuidLeaves;
import org.hybridv.xen.Fault;

/**
 * How the kernel finds its hypervisor (BOOT-2, docs/rules/hybrid.md), as Linux does it: leaf 1 ECX[31]
 * ({@code X86_FEATURE_HYPERVISOR}) must be set; then {@code hypervisor_cpuid_base} (arch/x86/include/asm/processor.h)
 * scans the bases 0x40000000, 0x40000100 … 0x4000FF00 and takes the first whose EBX:ECX:EDX equal a known signature
 * in all twelve bytes and whose EAX (the largest leaf) satisfies {@code (eax - base) >= leaves} in 32-bit unsigned
 * arithmetic, with {@code leaves} = 2 for Xen ({@code xen_cpuid_base}) and 0 for KVM ({@code kvm_cpuid_base}). The
 * model scans once for both signatures and takes the lowest base that matches either.
 */
final class HypervisorDetection {
    private HypervisorDetection() {}

    /** What the scan found. */
    enum Found {
        NONE, XEN, KVM
    }

    /** The scan's result: which hypervisor, at which base (0 for none). */
    record Result(Found found, long base) {
        static final Result NONE = new Result(Found.NONE, 0);
    }

    /** Xen needs leaves base+1 (version) and base+2 (hypercall page): {@code hypervisor_cpuid_base(XEN_SIGNATURE, 2)}. */
    static final long XEN_LEAVES = 2;

    /**
     * BOOT-2: the scan, with leaf 1 first when {@code leafOne} (at detection; the re-scan of
     * {@code init_hvm_pv_info} uses the feature bit the boot CPU already recorded).
     */
    static Result scan(Kernel.Run r, boolean leafOne) {
        if (leafOne) {
            Observed o = r.exec(new GuestInstruction.Cpuid(1, 0));
            if (!(o instanceof Observed.Cpuid c) || (c.ecx() & CpuidLeaves.HYPERVISOR_BIT) == 0) {
                return Result.NONE;
            }
        }
        boolean prefixOnly = r.platform instanceof XenPlatform x
                && x.machine().faults().breaks(Fault.DETECT_SIGNATURE_PREFIX_MATCH);
        for (long base = CpuidIdentity.FIRST; base <= CpuidIdentity.LAST; base += CpuidIdentity.STEP) {
            Observed o = r.exec(new GuestInstruction.Cpuid(base, 0));
            if (!(o instanceof Observed.Cpuid c)) {
                return Result.NONE;
            }
            if (signatureIs(c, CpuidIdentity.XEN_SIGNATURE, prefixOnly) && ((c.eax() - base) & 0xFFFF_FFFFL)
                    >= XEN_LEAVES) {
                return new Result(Found.XEN, base);
            }
            if (signatureIs(c, CpuidIdentity.KVM_SIGNATURE, prefixOnly)) {
                return new Result(Found.KVM, base);
            }
        }
        return Result.NONE;
    }

    /**
     * BOOT-2: EBX:ECX:EDX equal {@code sig} in all twelve bytes ({@code memcmp(sig, signature, 12)}). With the seeded
     * fault {@link Fault#DETECT_SIGNATURE_PREFIX_MATCH} only EBX, the first four bytes, is compared.
     */
    static boolean signatureIs(Observed.Cpuid c, String sig, boolean prefixOnly) {
        long[] regs = {c.ebx(), c.ecx(), c.edx()};
        for (int k = 0; k < (prefixOnly ? 1 : 3); k++) {
            if ((regs[k] & 0xFFFF_FFFFL) != CpuidIdentity.register(sig, k)) {
                return false;
            }
        }
        return true;
    }
}
