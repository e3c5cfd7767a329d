package org.hybridv.scenario.vmx;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.IoBitmaps;
import org.hybridv.vmx.MsrBitmap;
import org.hybridv.vmx.PinBasedControls;
import org.hybridv.vmx.PrimaryControls;
import org.hybridv.vmx.SecondaryControls;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;

/**
 * {@code {"op": "vmcs", "primary": {…}, "exceptionBitmap": …, "guest": {…}, …}}: write the VMCS fields the step
 * names, by their SDM names (Intel SDM Vol. 3C chapter 24), leaving every other field as it is — what a hypervisor's
 * VMWRITEs do, in VMX root operation. Guest and host state are written as VMCS fields, with no MOV semantics: nothing
 * is flushed, nothing is checked until VM entry (SDM §26.2, §26.3), except that the reference cannot hold a state it
 * does not model (such as CR0.PG = 1 with CR0.PE = 0).
 *
 * <p>Every field is null when the step does not name it.
 *
 * @param pin              pin-based controls (§24.6.1)
 * @param primary          primary processor-based controls (§24.6.2)
 * @param secondary        secondary processor-based controls (§24.6.2)
 * @param exceptionBitmap  the exception bitmap (§24.6.3)
 * @param pfecMask         PFEC_MASK (§24.6.3)
 * @param pfecMatch        PFEC_MATCH (§24.6.3)
 * @param cr0GuestHostMask CR0 guest/host mask (§24.6.6)
 * @param cr0ReadShadow    CR0 read shadow (§24.6.6)
 * @param cr4GuestHostMask CR4 guest/host mask (§24.6.6)
 * @param cr4ReadShadow    CR4 read shadow (§24.6.6)
 * @param cr3TargetValues  the CR3-target values; their number is the CR3-target count (§24.6.7)
 * @param ioBitmap         changes to I/O bitmaps A and B (§24.6.4)
 * @param msrBitmap        changes to the MSR bitmap (§24.6.9)
 * @param eptp             the EPTP, all 64 bits (§24.6.11)
 * @param vpid             the VPID (§24.6.12)
 * @param guest            guest-state fields (§24.4)
 * @param host             host-state fields (§24.5)
 */
public record VmcsStep(PinBits pin, PrimaryBits primary, SecondaryBits secondary, Integer exceptionBitmap,
        Integer pfecMask, Integer pfecMatch, Long cr0GuestHostMask, Long cr0ReadShadow, Long cr4GuestHostMask,
        Long cr4ReadShadow, List<Long> cr3TargetValues, IoBitmapChange ioBitmap, MsrBitmapChange msrBitmap, Long eptp,
        Integer vpid, StateFields guest, StateFields host) implements VmxStep {
    public VmcsStep {
        cr3TargetValues = cr3TargetValues == null ? null : List.copyOf(cr3TargetValues);
    }

    /** Pin-based controls; null leaves a control unchanged. */
    public record PinBits(Boolean externalInterruptExiting, Boolean nmiExiting) {
        PinBasedControls applyTo(PinBasedControls old) {
            return new PinBasedControls(or(externalInterruptExiting, old.externalInterruptExiting()),
                    or(nmiExiting, old.nmiExiting()));
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"externalInterruptExiting", "nmiExiting"}, externalInterruptExiting,
                    nmiExiting);
        }
    }

    /** Primary processor-based controls; null leaves a control unchanged. */
    public record PrimaryBits(Boolean hltExiting, Boolean invlpgExiting, Boolean cr3LoadExiting,
            Boolean cr3StoreExiting, Boolean unconditionalIoExiting, Boolean useIoBitmaps, Boolean useMsrBitmaps,
            Boolean activateSecondaryControls) {
        static final String[] NAMES = {"hltExiting", "invlpgExiting", "cr3LoadExiting", "cr3StoreExiting",
            "unconditionalIoExiting", "useIoBitmaps", "useMsrBitmaps", "activateSecondaryControls"};

        PrimaryControls applyTo(PrimaryControls o) {
            return new PrimaryControls(or(hltExiting, o.hltExiting()), or(invlpgExiting, o.invlpgExiting()),
                    or(cr3LoadExiting, o.cr3LoadExiting()), or(cr3StoreExiting, o.cr3StoreExiting()),
                    or(unconditionalIoExiting, o.unconditionalIoExiting()), or(useIoBitmaps, o.useIoBitmaps()),
                    or(useMsrBitmaps, o.useMsrBitmaps()), or(activateSecondaryControls, o.activateSecondaryControls()));
        }

        @Override
        public String toString() {
            return Render.flags(NAMES, hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting,
                    unconditionalIoExiting, useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
        }
    }

    /** Secondary processor-based controls; null leaves a control unchanged. */
    public record SecondaryBits(Boolean enableEpt, Boolean enableVpid, Boolean unrestrictedGuest) {
        static final String[] NAMES = {"enableEpt", "enableVpid", "unrestrictedGuest"};

        SecondaryControls applyTo(SecondaryControls o) {
            return new SecondaryControls(or(enableEpt, o.enableEpt()), or(enableVpid, o.enableVpid()),
                    or(unrestrictedGuest, o.unrestrictedGuest()));
        }

        @Override
        public String toString() {
            return Render.flags(NAMES, enableEpt, enableVpid, unrestrictedGuest);
        }
    }

    /**
     * Changes to I/O bitmaps A and B: start from all bits set ({@code all} true), all clear (false) or the current
     * bitmaps (null); then set the bit of each port in {@code intercept} and clear the bit of each in {@code clear}.
     */
    public record IoBitmapChange(Boolean all, List<Integer> intercept, List<Integer> clear) {
        public IoBitmapChange {
            intercept = List.copyOf(intercept);
            clear = List.copyOf(clear);
        }

        IoBitmaps applyTo(IoBitmaps old) {
            IoBitmaps b = all == null ? old : all ? IoBitmaps.all() : IoBitmaps.none();
            for (int port : intercept) {
                b = b.with(port, true);
            }
            for (int port : clear) {
                b = b.with(port, false);
            }
            return b;
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (all != null) {
                parts.add(all ? "all set" : "all clear");
            }
            if (!intercept.isEmpty()) {
                parts.add("set " + hexList(intercept.stream().map(Integer::longValue).toList()));
            }
            if (!clear.isEmpty()) {
                parts.add("clear " + hexList(clear.stream().map(Integer::longValue).toList()));
            }
            return String.join(", ", parts);
        }
    }

    /**
     * Changes to the MSR bitmap: start from all four regions set ({@code all} true), clear (false) or the current
     * bitmap (null); then set the read bit of each MSR in {@code read} and the write bit of each in {@code write}.
     */
    public record MsrBitmapChange(Boolean all, List<Long> read, List<Long> write) {
        public MsrBitmapChange {
            read = List.copyOf(read);
            write = List.copyOf(write);
        }

        MsrBitmap applyTo(MsrBitmap old) {
            MsrBitmap b = all == null ? old : all ? MsrBitmap.all() : MsrBitmap.none();
            for (long msr : read) {
                b = b.with(msr, false, true);
            }
            for (long msr : write) {
                b = b.with(msr, true, true);
            }
            return b;
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (all != null) {
                parts.add(all ? "all set" : "all clear");
            }
            if (!read.isEmpty()) {
                parts.add("read " + hexList(read));
            }
            if (!write.isEmpty()) {
                parts.add("write " + hexList(write));
            }
            return String.join(", ", parts);
        }
    }

    /**
     * Guest- or host-state fields: the control registers (only the named bits change), CR3's PML4 frame and bits
     * 11:0, IA32_EFER, the CPL, RFLAGS.AC and RIP; null leaves a field unchanged. (The host-state area has no CPL or
     * RFLAGS: a VM exit loads CPL 0 and clears RFLAGS, SDM §27.5; PKRU and CR2 are in neither area. The decoder
     * refuses them where they do not belong.)
     */
    public record StateFields(org.hybridv.scenario.x86.X86Step.Cr0Bits cr0, Long cr3Frame, Integer cr3Pcid, org.hybridv.scenario.x86.X86Step.Cr4Bits cr4,
            org.hybridv.scenario.x86.X86Step.EferBits efer, Integer cpl, Boolean ac, Long rip) {
        /** {@code old} with these fields; the reference's CpuState rejects a state it does not model. */
        CpuState applyTo(CpuState old) {
            Cr3 cr3 = cr3Frame == null && cr3Pcid == null ? old.cr3()
                    : new Cr3(cr3Frame != null ? cr3Frame << 12 : old.cr3().pml4Base(),
                            cr3Pcid != null ? cr3Pcid : old.cr3().pcid());
            return new CpuState(cr0 != null ? cr0.applyTo(old.cr0()) : old.cr0(), old.cr2(), cr3,
                    cr4 != null ? cr4.applyTo(old.cr4()) : old.cr4(),
                    efer != null ? efer.applyTo(old.efer()) : old.efer(), ac != null ? ac : old.ac(),
                    cpl != null ? cpl : old.cpl(), old.pkru(), old.maxPhysAddr());
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (cr0 != null) {
                parts.add("cr0 " + cr0);
            }
            if (cr3Frame != null || cr3Pcid != null) {
                parts.add("cr3" + (cr3Frame != null ? " frame " + Render.hex(cr3Frame) : "")
                        + (cr3Pcid != null ? " pcid " + Render.hex(cr3Pcid) : ""));
            }
            if (cr4 != null) {
                parts.add("cr4 " + cr4);
            }
            if (efer != null) {
                parts.add("efer " + efer);
            }
            if (cpl != null) {
                parts.add("cpl " + cpl);
            }
            if (ac != null) {
                parts.add("ac " + (ac ? 1 : 0));
            }
            if (rip != null) {
                parts.add("rip " + Render.hex(rip));
            }
            return String.join(" ", parts);
        }
    }

    @Override
    public String op() {
        return "vmcs";
    }

    @Override
    public String describe() {
        List<String> parts = new ArrayList<>();
        add(parts, "pinBased", pin);
        add(parts, "primary", primary);
        add(parts, "secondary", secondary);
        hex(parts, "exceptionBitmap", exceptionBitmap == null ? null : exceptionBitmap & 0xFFFF_FFFFL);
        hex(parts, "pfecMask", pfecMask == null ? null : pfecMask & 0xFFFF_FFFFL);
        hex(parts, "pfecMatch", pfecMatch == null ? null : pfecMatch & 0xFFFF_FFFFL);
        hex(parts, "cr0GuestHostMask", cr0GuestHostMask);
        hex(parts, "cr0ReadShadow", cr0ReadShadow);
        hex(parts, "cr4GuestHostMask", cr4GuestHostMask);
        hex(parts, "cr4ReadShadow", cr4ReadShadow);
        if (cr3TargetValues != null) {
            parts.add("cr3TargetValues " + hexList(cr3TargetValues));
        }
        add(parts, "ioBitmap", ioBitmap);
        add(parts, "msrBitmap", msrBitmap);
        hex(parts, "eptp", eptp);
        hex(parts, "vpid", vpid == null ? null : vpid.longValue());
        add(parts, "guest", guest);
        add(parts, "host", host);
        return String.join(", ", parts);
    }

    private static void add(List<String> parts, String name, Object value) {
        if (value != null) {
            parts.add(name + " " + value);
        }
    }

    private static void hex(List<String> parts, String name, Long value) {
        if (value != null) {
            parts.add(name + " " + Render.hex(value));
        }
    }

    static String hexList(List<Long> values) {
        return "[" + String.join(", ", values.stream().map(Render::hex).toList()) + "]";
    }

    private static boolean or(Boolean v, boolean old) {
        return v != null ? v : old;
    }
}
