package org.hybridv.xen;

import java.util.List;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.IoBitmaps;
import org.hybridv.vmx.MsrBitmap;
import org.hybridv.vmx.PinBasedControls;
import org.hybridv.vmx.PrimaryControls;
import org.hybridv.vmx.SecondaryControls;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.ErrorCode;

/**
 * The VM-execution controls of a vCPU in each MMU mode (Xen {@code construct_vmcs}, {@code vmx_update_guest_cr}; the
 * hybrid choices CTL-1..5 of docs/rules/hybrid.md). Each value is documented in docs/hypervisor.md.
 */
public final class VmcsSetup {
    private VmcsSetup() {}

    /** {@code HVM_TRAP_MASK} (Xen asm/hvm/hvm.h): #DB (1), #AC (17), #MC (18) always exit (XSA-156). */
    public static final int HVM_TRAP_MASK = (1 << 1) | (1 << 17) | (1 << 18);
    /** Exception-bitmap bit 14: #PF. */
    public static final int PF_BIT = 1 << 14;
    /**
     * The hybrid #PF filter of direct mode (CTL-1, SDM 24.6.3): with bit 14 = 1 a #PF exits iff
     * {@code (PFEC & MASK) == MATCH}. MASK = P|W/R|U/S, MATCH = P|W/R: only a supervisor-mode write to a present page
     * (a protection fault, U/S = 0) exits — the ptwr case PTW-1 needs. Not-present faults, reads, fetches and every
     * user-mode fault go straight to the guest IDT.
     */
    public static final int DIRECT_PFEC_MASK = ErrorCode.P | ErrorCode.WR | ErrorCode.US;
    public static final int DIRECT_PFEC_MATCH = ErrorCode.P | ErrorCode.WR;
    /** CR0 guest/host mask in direct mode: WP (bit 16) is host-owned (MISC-1). */
    public static final long DIRECT_CR0_MASK = 1L << Cr0.WP_BIT;

    /**
     * CTL-4, EMU-1: "use MSR bitmaps" with only the x2APIC range intercepted ({@link DeviceIntercepts#msrBitmap});
     * MSR 0x40000000 lies outside both ranges, so exits.
     */
    static MsrBitmap msrBitmap() {
        return DeviceIntercepts.msrBitmap(Faults.NONE);
    }

    /** Controls every mode shares: HLT exiting, all I/O ports intercepted (CTL-4, EMU-2), MSR bitmap, VPID. */
    static ExecutionControls common(int vpid) {
        return common(vpid, Faults.NONE);
    }

    /** {@link #common(int)} as the hypervisor with {@code faults} sets it up (EMU-1, EMU-2). */
    static ExecutionControls common(int vpid, Faults faults) {
        PrimaryControls primary = PrimaryControls.NONE.withHltExiting(true).withUseIoBitmaps(true)
                .withUseMsrBitmaps(true).withActivateSecondaryControls(true);
        return ExecutionControls.none().withPin(new PinBasedControls(true, true)).withPrimary(primary)
                .withSecondary(SecondaryControls.NONE.withEnableVpid(true))
                .withIoBitmaps(DeviceIntercepts.ioBitmaps(faults)).withMsrBitmap(DeviceIntercepts.msrBitmap(faults))
                .withCr3TargetValues(List.of()).withVpid(vpid);
    }

    /**
     * Shadow mode (Xen {@code construct_vmcs} without HAP, ~1146 and ~1329): every #PF exits (bit 14 = 1, PFEC_MASK =
     * PFEC_MATCH = 0, so the equality always holds), CR3-load, CR3-store and INVLPG exiting, no EPT.
     */
    public static ExecutionControls shadow(int vpid) {
        return shadow(vpid, Faults.NONE);
    }

    /** {@link #shadow(int)} as the hypervisor with {@code faults} sets it up (EMU-1, EMU-2). */
    public static ExecutionControls shadow(int vpid, Faults faults) {
        ExecutionControls c = common(vpid, faults);
        return c.withPrimary(c.primary().withCr3LoadExiting(true).withCr3StoreExiting(true).withInvlpgExiting(true))
                .withExceptionControls(HVM_TRAP_MASK | PF_BIT, 0, 0);
    }

    /**
     * A shadow-mode vCPU's controls: {@link #shadow(int)} with CR0.WP host-owned (Xen {@code hvm_update_guest_cr}
     * forces WP in the hardware CR0 when not using HAP: a read-only shadow leaf — SH-2's write trapping of guest page
     * tables — must stop supervisor writes too); the read shadow keeps the guest's WP.
     */
    public static ExecutionControls shadow(int vpid, Cr0 guestCr0) {
        return shadow(vpid, guestCr0, Faults.NONE);
    }

    /** {@link #shadow(int, Cr0)} as the hypervisor with {@code faults} sets it up. */
    public static ExecutionControls shadow(int vpid, Cr0 guestCr0, Faults faults) {
        return shadow(vpid, faults).withCr0Ownership(DIRECT_CR0_MASK, guestCr0.bits() & DIRECT_CR0_MASK);
    }

    /**
     * HAP mode (HAP-5): EPT on with {@code eptp} (built from the p2m, HAP-1), no #PF exits (bit 14 = 0, MASK = MATCH
     * = 0: the equality always holds, so no #PF exits — the pitfall of CTL-2 avoided), no CR3-load,
     * CR3-store or INVLPG exiting.
     */
    public static ExecutionControls hap(int vpid, long eptp) {
        return hap(vpid, eptp, Faults.NONE);
    }

    /**
     * {@link #hap(int, long)} as the hypervisor with {@code faults} sets it up. Seeded fault
     * {@link Fault#HAP_PFEC_WITHOUT_PF_BIT}: PFEC_MASK = PFEC_MATCH = P|W with bit 14 still clear — written as if the
     * filter only acted with the bit set (KVM commit b502e6ecdc3b), so every #PF whose error code is not P|W… exits.
     */
    public static ExecutionControls hap(int vpid, long eptp, Faults faults) {
        ExecutionControls c = common(vpid, faults);
        int pfec = faults.breaks(Fault.HAP_PFEC_WITHOUT_PF_BIT) ? ErrorCode.P | ErrorCode.WR : 0;
        return c.withSecondary(c.secondary().withEnableEpt(true)).withEptp(eptp)
                .withExceptionControls(HVM_TRAP_MASK, pfec, pfec);
    }

    /**
     * Direct mode (CTL-1, CTL-3): EPT off; CR3-load exiting with no CR3-target values (every MOV to CR3
     * exits and is validated like MX-3); INVLPG not intercepted (the guest's INVLPG only affects its own VPID's
     * translations); CR0.WP host-owned with the read shadow as the guest set it (MISC-1); the #PF filter
     * {@link #DIRECT_PFEC_MASK}/{@link #DIRECT_PFEC_MATCH}.
     *
     * @param guestCr0 CR0 as the guest set it: the read shadow
     */
    public static ExecutionControls direct(int vpid, Cr0 guestCr0) {
        return direct(vpid, guestCr0, Faults.NONE);
    }

    /**
     * {@link #direct(int, Cr0)} as the hypervisor with {@code faults} sets it up. Seeded fault
     * {@link Fault#PFEC_SUPERVISOR_WRITE_BYPASS}: PFEC_MATCH = P|W|U, so supervisor write-protection faults do not
     * exit (and user write faults do).
     */
    public static ExecutionControls direct(int vpid, Cr0 guestCr0, Faults faults) {
        ExecutionControls c = common(vpid, faults);
        int match = faults.breaks(Fault.PFEC_SUPERVISOR_WRITE_BYPASS) ? DIRECT_PFEC_MATCH | ErrorCode.US
                : DIRECT_PFEC_MATCH;
        return c.withPrimary(c.primary().withCr3LoadExiting(true))
                .withExceptionControls(HVM_TRAP_MASK | PF_BIT, DIRECT_PFEC_MASK, match)
                .withCr0Ownership(DIRECT_CR0_MASK, guestCr0.bits() & DIRECT_CR0_MASK);
    }

    /** MISC-1: the guest CR0 the hardware uses in direct mode: WP forced to 1 whatever the guest set. */
    public static CpuState forceWp(CpuState guest) {
        return guest.withCr0(guest.cr0().withWp(true));
    }
}
