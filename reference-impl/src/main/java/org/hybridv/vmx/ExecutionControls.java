package org.hybridv.vmx;

import java.util.List;

/**
 * The VM-execution control fields this reference models (Intel SDM Vol. 3C §24.6).
 *
 * @param pin               pin-based controls (§24.6.1)
 * @param primary           primary processor-based controls (§24.6.2)
 * @param secondary         secondary processor-based controls (§24.6.2), effective only with "activate secondary
 *                          controls"
 * @param exceptionBitmap   32 bits, one per exception vector (§24.6.3)
 * @param pfecMask          page-fault error-code mask (§24.6.3)
 * @param pfecMatch         page-fault error-code match (§24.6.3)
 * @param cr0GuestHostMask  CR0 bits owned by the host (§24.6.6)
 * @param cr0ReadShadow     what the guest reads for host-owned CR0 bits (§24.6.6)
 * @param cr4GuestHostMask  CR4 bits owned by the host
 * @param cr4ReadShadow     what the guest reads for host-owned CR4 bits
 * @param cr3TargetValues   the first CR3-target-count CR3-target values, at most 4 (§24.6.7)
 * @param ioBitmaps         I/O bitmaps A and B (§24.6.4)
 * @param msrBitmap         the MSR bitmap (§24.6.9)
 * @param eptp              the extended-page-table pointer (§24.6.11), raw 64-bit field
 * @param vpid              the virtual-processor identifier, 16 bits (§24.6.12)
 */
public record ExecutionControls(PinBasedControls pin, PrimaryControls primary, SecondaryControls secondary,
        int exceptionBitmap, int pfecMask, int pfecMatch, long cr0GuestHostMask, long cr0ReadShadow,
        long cr4GuestHostMask, long cr4ReadShadow, List<Long> cr3TargetValues, IoBitmaps ioBitmaps,
        MsrBitmap msrBitmap, long eptp, int vpid) {
    /** SDM 26.2.1.1: "The CR3-target count must not be greater than 4." */
    public static final int MAX_CR3_TARGETS = 4;

    public ExecutionControls {
        if (pin == null || primary == null || secondary == null || ioBitmaps == null || msrBitmap == null
                || cr3TargetValues == null) {
            throw new IllegalArgumentException("VM-execution controls must not be null");
        }
        cr3TargetValues = List.copyOf(cr3TargetValues);
        if (vpid < 0 || vpid > 0xFFFF) {
            throw new IllegalArgumentException("VPID = " + vpid + " is outside 0..0xffff (16 bits)");
        }
    }

    /** No exiting control set, no bitmaps, no EPT, VPID 0. */
    public static ExecutionControls none() {
        return new ExecutionControls(PinBasedControls.NONE, PrimaryControls.NONE, SecondaryControls.NONE, 0, 0, 0, 0,
                0, 0, 0, List.of(), IoBitmaps.none(), MsrBitmap.none(), 0, 0);
    }

    /** The secondary controls in effect: as set if "activate secondary controls" is 1, otherwise all 0 (§24.6.2). */
    public SecondaryControls effectiveSecondary() {
        return primary.activateSecondaryControls() ? secondary : SecondaryControls.NONE;
    }

    public boolean eptEnabled() {
        return effectiveSecondary().enableEpt();
    }

    public boolean vpidEnabled() {
        return effectiveSecondary().enableVpid();
    }

    public ExecutionControls withPrimary(PrimaryControls v) {
        return new ExecutionControls(pin, v, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withSecondary(SecondaryControls v) {
        return new ExecutionControls(pin, primary, v, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withPin(PinBasedControls v) {
        return new ExecutionControls(v, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, vpid);
    }

    /** These controls with the exception bitmap, PFEC_MASK and PFEC_MATCH replaced. */
    public ExecutionControls withExceptionControls(int bitmap, int mask, int match) {
        return new ExecutionControls(pin, primary, secondary, bitmap, mask, match, cr0GuestHostMask, cr0ReadShadow,
                cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withCr0Ownership(long mask, long shadow) {
        if (mask == cr0GuestHostMask && shadow == cr0ReadShadow) {
            return this; // the same controls: passed on, not copied
        }
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, mask, shadow,
                cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withCr4Ownership(long mask, long shadow) {
        if (mask == cr4GuestHostMask && shadow == cr4ReadShadow) {
            return this; // the same controls: passed on, not copied
        }
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, mask, shadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withCr3TargetValues(List<Long> v) {
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, v, ioBitmaps, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withIoBitmaps(IoBitmaps v) {
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, v, msrBitmap, eptp, vpid);
    }

    public ExecutionControls withMsrBitmap(MsrBitmap v) {
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, v, eptp, vpid);
    }

    public ExecutionControls withEptp(long v) {
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, v, vpid);
    }

    public ExecutionControls withVpid(int v) {
        return new ExecutionControls(pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask,
                cr0ReadShadow, cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmaps, msrBitmap, eptp, v);
    }
}
