package org.hybridv.invariants;

import java.nio.charset.StandardCharsets;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.NativePlatform;
import org.hybridv.guest.Observed;
import org.hybridv.guest.Platform;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domain;
import org.hybridv.xen.MmuMode;

/**
 * I8 Hybrid boot, over one kernel operation from {@code pre}, stated from BOOT-1..5 of docs/rules/hybrid.md over what
 * can be observed — the instructions the kernel executed, what it saw, the domain's mode and hypercall-page flag, the
 * memory, the kernel's stage — with the rules' own constants and order. It calls none of the code that implements the
 * boot (the stage machine of {@code BootStage}, {@code CpuidLeaves}, {@code HypercallPage}, {@code Kernel}: see
 * {@code InvariantsArchitectureTest}).
 * <ol>
 * <li><b>I8-transition</b> (BOOT-1, BOOT-5) — a {@code Boot} moves the stage forward along REAL → PROTECTED → LONG →
 * NATIVE, or LONG → HYPERVISOR_DETECTED → HYPERCALL_PAGE_INSTALLED → DIRECT; SWITCH_MMU moves it only
 * HYPERCALL_PAGE_INSTALLED → DIRECT; nothing else moves it; a stage from HYPERCALL_PAGE_INSTALLED on needs the
 * domain's hypercall page, DIRECT needs a direct-mode domain;</li>
 * <li><b>I8-switch</b> (BOOT-5, PRE-1: SWITCH_MMU only after the hypercall page, once) — the domain's paging mode
 * changes only to DIRECT, by a VMCALL at CPL 0 with the hypercall page installed, from a domain not yet direct; the
 * stage becomes DIRECT in the operation iff such a switch happened in it;</li>
 * <li><b>I8-hypercall</b> (BOOT-3) — no VMCALL before the hypercall page is installed, unless the operation is a
 * deliberately forced SWITCH_MMU; a WRMSR to the hypercall MSR with page index 0 that is accepted sets the flag and
 * leaves one stub per hypercall in the frame it named ({@code mov $i,%eax; vmcall; ret} at i·32, {@code ud2} for
 * {@code __HYPERVISOR_iret}); another page index is refused;</li>
 * <li><b>I8-cpl</b> (BOOT-4) — a VMCALL from CPL ≠ 0 returns -EPERM and changes neither the domain's mode nor its
 * hypercall-page flag;</li>
 * <li><b>I8-detect</b> (BOOT-2, BOOT-7) — over the CPUID answers the kernel observed in the operation that took it
 * past LONG: it asked leaf 1, and if ECX[31] was set it asked the bases 0x40000000, 0x40000100, … in order, each
 * once, until the first whose EBX:ECX:EDX is "XenVMMXenVMM" in all twelve bytes with (EAX − base) mod 2^32 ≥ 2, or
 * "KVMKVMKVM\0\0\0" in all twelve bytes, or through 0x4000FF00; it went to HYPERVISOR_DETECTED exactly for the
 * first, to KVM exactly for the second, and to NATIVE otherwise (leaf 1 ECX[31] clear, no match);</li>
 * <li><b>I8-native</b> (BOOT-5) — on bare metal the kernel never issues an unforced VMCALL or writes the hypercall
 * MSR, never gets past NATIVE, and a boot that completes past LONG completes at NATIVE.</li>
 * </ol>
 */
public final class HybridBoot {
    private HybridBoot() {}

    /** BOOT-2: the first base of the scan ({@code XEN_CPUID_FIRST_LEAF}, public/arch-x86/cpuid.h). */
    private static final long FIRST_BASE = 0x4000_0000L;
    /** BOOT-2: the last base (Linux {@code hypervisor_cpuid_base}: base < 0x40010000) and the step. */
    private static final long LAST_BASE = 0x4000_FF00L;
    private static final long BASE_STEP = 0x100;
    /** BOOT-2: the signatures, as the bytes of EBX, ECX, EDX (each little-endian). */
    private static final byte[] SIGNATURE = "XenVMMXenVMM".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KVM_SIGNATURE = "KVMKVMKVM\0\0\0".getBytes(StandardCharsets.US_ASCII);
    /** BOOT-2: Xen needs two leaves after its base (version, hypercall page). */
    private static final long XEN_LEAVES = 2;
    /** BOOT-2: leaf 1 ECX bit 31, "hypervisor present". */
    private static final long HYPERVISOR_PRESENT = 1L << 31;
    /** BOOT-3: the MSRs leaf base+2 EBX names: Xen's MSR base, without and with Viridian. */
    private static final long HYPERCALL_MSR = 0x4000_0000L;
    private static final long HYPERCALL_MSR_VIRIDIAN = 0x4000_0200L;
    /** BOOT-3: Xen's stubs are 32 bytes apart; slot 23 ({@code __HYPERVISOR_iret}) is ud2 for HVM guests. */
    private static final int STUB_BYTES = 32;
    private static final int IRET_SLOT = 23;
    /** BOOT-4: Xen's EPERM. */
    private static final long EPERM = 1;

    public static InvariantResult check(GuestSystem pre, KernelStep step) {
        BootStage from = pre.kernel().stage();
        BootStage to = step.post().kernel().stage();
        GuestOp op = step.op();
        boolean forced = op instanceof GuestOp.SwitchMmu s && s.force();
        if (to != from && !allowedMove(op, from, to)) {
            return violated("I8-transition", op + " moved the boot stage " + from + " → " + to);
        }
        java.util.List<Observed.Cpuid> scan = new java.util.ArrayList<>();
        java.util.List<Long> scanned = new java.util.ArrayList<>();
        Boolean leafOne = null;
        boolean switched = false;
        for (Executed e : step.trace()) {
            GuestInstruction i = e.instruction();
            if (e.pre() instanceof NativePlatform) {
                if (i instanceof GuestInstruction.Vmcall && !forced) {
                    return violated("I8-native", op + ": VMCALL on bare metal");
                }
                if (i instanceof GuestInstruction.Wrmsr w && isHypercallMsr(w.msr())) {
                    return violated("I8-native", op + ": WRMSR to the hypercall MSR on bare metal");
                }
            }
            if (e.pre() instanceof XenPlatform x && e.platform() instanceof XenPlatform y) {
                Domain before = x.machine().domain(x.vcpu().domain());
                Domain after = y.machine().domain(y.vcpu().domain());
                if (i instanceof GuestInstruction.Vmcall) {
                    if (!forced && !before.hypercallPageInstalled()) {
                        return violated("I8-hypercall", op + ": " + e.regs()
                                + " before the hypercall page was installed");
                    }
                    if (e.pre().cpl() != 0 && (!(e.observed() instanceof Observed.Value v) || v.value() != -EPERM
                            || before.mode() != after.mode()
                            || before.hypercallPageInstalled() != after.hypercallPageInstalled())) {
                        return violated("I8-cpl", op + ": " + e.regs() + " from CPL " + e.pre().cpl() + " observed "
                                + e.observed() + ", mode " + before.mode() + " → " + after.mode());
                    }
                }
                if (before.mode() != after.mode()) {
                    String why = switchRefusal(i, e.pre(), before, after, switched);
                    if (why != null) {
                        return violated("I8-switch", op + ": " + i + " changed the paging mode " + before.mode()
                                + " → " + after.mode() + ": " + why);
                    }
                    switched = true;
                }
                if (i instanceof GuestInstruction.Wrmsr w && isHypercallMsr(w.msr())) {
                    String bad = hypercallPageWrite(w, e, before, y);
                    if (bad != null) {
                        return violated("I8-hypercall", op + ": " + bad);
                    }
                }
            }
            if (i instanceof GuestInstruction.Cpuid c && e.observed() instanceof Observed.Cpuid r) {
                if (c.leaf() == 1 && leafOne == null) {
                    leafOne = (r.ecx() & HYPERVISOR_PRESENT) != 0;
                } else if (leafOne != null && c.leaf() == FIRST_BASE + scanned.size() * BASE_STEP
                        && c.leaf() <= LAST_BASE && scanMatch(scan, scanned) == null) {
                    // the scan: the bases in order from the first, up to the first match (a later re-scan is not it)
                    scan.add(r);
                    scanned.add(c.leaf());
                }
            }
        }
        if (step.post().platform() instanceof XenPlatform y) {
            Domain d = y.machine().domain(y.vcpu().domain());
            if (to != from && (to == BootStage.HYPERCALL_PAGE_INSTALLED || to == BootStage.DIRECT)
                    && !d.hypercallPageInstalled()) {
                return violated("I8-transition", op + " reached " + to + " without the hypercall page");
            }
            if (to != from && to == BootStage.DIRECT && d.mode() != MmuMode.DIRECT) {
                return violated("I8-transition", op + " reached DIRECT in a " + d.mode() + " domain");
            }
            if (switched != (to == BootStage.DIRECT && from != BootStage.DIRECT)) {
                return violated("I8-switch", op + (switched ? " switched the domain to direct paging, yet the stage is "
                        + to : " moved the stage to DIRECT without a switch"));
            }
        }
        if (!beyondLong(from) && beyondLong(to)) {
            String bad = detection(leafOne, scan, scanned, to);
            if (bad != null) {
                return violated("I8-detect", op + ": " + bad);
            }
        }
        if (step.post().platform() instanceof NativePlatform) {
            if (to != BootStage.REAL && to != BootStage.PROTECTED && to != BootStage.LONG && to != BootStage.NATIVE) {
                return violated("I8-native", "on bare metal the kernel reached " + to);
            }
            if (op instanceof GuestOp.Boot b && step.result() instanceof KernelResult.Booted
                    && beyondLong(b.target()) && to != BootStage.NATIVE) {
                return violated("I8-native", op + " completed on bare metal at " + to + ", not NATIVE");
            }
        }
        return InvariantResult.HOLDS;
    }

    private static InvariantResult violated(String rule, String why) {
        return new InvariantResult.Violated(rule, why);
    }

    /** BOOT-1, BOOT-5: the stages in order; SWITCH_MMU has one edge; no other operation moves the stage. */
    private static boolean allowedMove(GuestOp op, BootStage from, BootStage to) {
        if (op instanceof GuestOp.Boot) {
            for (BootStage s = firstAfter(from, to); s != null; s = firstAfter(s, to)) {
                if (s == to) {
                    return true;
                }
            }
            return false;
        }
        return op instanceof GuestOp.SwitchMmu && from == BootStage.HYPERCALL_PAGE_INSTALLED
                && to == BootStage.DIRECT;
    }

    /** The stage after {@code s} on the way to {@code goal} (LONG branches on detection), or null: no stage after. */
    private static BootStage firstAfter(BootStage s, BootStage goal) {
        return switch (s) {
            case REAL -> BootStage.PROTECTED;
            case PROTECTED -> BootStage.LONG;
            case LONG -> goal == BootStage.NATIVE ? BootStage.NATIVE : goal == BootStage.KVM ? BootStage.KVM
                    : BootStage.HYPERVISOR_DETECTED;
            case HYPERVISOR_DETECTED -> BootStage.HYPERCALL_PAGE_INSTALLED;
            case HYPERCALL_PAGE_INSTALLED -> BootStage.DIRECT;
            case NATIVE, DIRECT, KVM -> null;
        };
    }

    private static boolean beyondLong(BootStage s) {
        return s != BootStage.REAL && s != BootStage.PROTECTED && s != BootStage.LONG;
    }

    /** BOOT-3: one of Xen's hypercall-page MSRs. */
    private static boolean isHypercallMsr(long msr) {
        return msr == HYPERCALL_MSR || msr == HYPERCALL_MSR_VIRIDIAN;
    }

    /**
     * BOOT-2: the stage the scan's answers call for — HYPERVISOR_DETECTED for the first base with Xen's signature
     * and enough leaves, KVM for the first with KVM's — or null while no answer matched.
     */
    private static BootStage scanMatch(java.util.List<Observed.Cpuid> scan, java.util.List<Long> bases) {
        for (int k = 0; k < scan.size(); k++) {
            Observed.Cpuid r = scan.get(k);
            if (signatureIs(r, SIGNATURE) && ((r.eax() - bases.get(k)) & 0xFFFF_FFFFL) >= XEN_LEAVES) {
                return BootStage.HYPERVISOR_DETECTED;
            }
            if (signatureIs(r, KVM_SIGNATURE)) {
                return BootStage.KVM;
            }
        }
        return null;
    }

    /** BOOT-2, BOOT-7: what is wrong with going to {@code to} after these answers, or null. */
    private static String detection(Boolean leafOne, java.util.List<Observed.Cpuid> scan, java.util.List<Long> bases,
            BootStage to) {
        if (leafOne == null || !leafOne) {
            return to == BootStage.NATIVE ? null : "leaf 1 ECX[31] " + (leafOne == null ? "was not asked" : "is clear")
                    + ", yet the kernel went to " + to;
        }
        BootStage expected = scanMatch(scan, bases);
        if (expected == null) {
            if (to != BootStage.NATIVE) {
                return "no base of the scan answered a known signature, yet the kernel went to " + to;
            }
            long last = bases.isEmpty() ? 0 : bases.get(bases.size() - 1);
            return last == LAST_BASE ? null : "the scan stopped after base " + Long.toHexString(last)
                    + " without a known signature (the bases run through 4000ff00) and the kernel went NATIVE";
        }
        BootStage branch = to == BootStage.NATIVE || to == BootStage.KVM ? to : BootStage.HYPERVISOR_DETECTED;
        return expected == branch ? null : "base " + Long.toHexString(bases.get(bases.size() - 1)) + " answered "
                + (expected == BootStage.KVM ? "KVM's" : "Xen's") + " signature, yet the kernel went to " + to;
    }

    /** BOOT-2: EBX:ECX:EDX spell {@code sig}, four little-endian bytes each, all twelve. */
    private static boolean signatureIs(Observed.Cpuid r, byte[] sig) {
        long[] regs = {r.ebx(), r.ecx(), r.edx()};
        for (int k = 0; k < sig.length; k++) {
            if (((regs[k / 4] >>> (8 * (k % 4))) & 0xFF) != (sig[k] & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    /** BOOT-5, PRE-1, BOOT-4: why this mode change is not the one allowed SWITCH_MMU, or null if it is. */
    private static String switchRefusal(GuestInstruction i, Platform pre, Domain before, Domain after,
            boolean alreadySwitched) {
        if (!(i instanceof GuestInstruction.Vmcall)) {
            return "not a hypercall";
        }
        if (pre.cpl() != 0) {
            return "from CPL " + pre.cpl();
        }
        if (!before.hypercallPageInstalled()) {
            return "before the hypercall page was installed";
        }
        if (before.mode() == MmuMode.DIRECT || alreadySwitched) {
            return "a second switch";
        }
        return after.mode() == MmuMode.DIRECT ? null : "to " + after.mode();
    }

    /**
     * BOOT-3: a WRMSR to the hypercall MSR. Page index (bits 11:0) 0 accepted → the flag is set and the frame the
     * guest frame names (the frame itself in direct mode, through the p2m otherwise) holds the stubs; another index
     * → refused, nothing installed. Returns what is wrong, or null.
     */
    private static String hypercallPageWrite(GuestInstruction.Wrmsr w, Executed e, Domain before, XenPlatform post) {
        Domain after = post.machine().domain(post.vcpu().domain());
        boolean accepted = e.observed() instanceof Observed.Value;
        if ((w.value() & 0xFFF) != 0) {
            return accepted ? "WRMSR hypercall page with page index " + (w.value() & 0xFFF) + " was accepted" : null;
        }
        if (!accepted) {
            return after.hypercallPageInstalled() != before.hypercallPageInstalled()
                    ? "a refused WRMSR changed the hypercall-page flag" : null;
        }
        if (!after.hypercallPageInstalled()) {
            return "WRMSR hypercall page accepted, yet the flag is not set";
        }
        long gfn = w.value() >>> 12;
        Long mfn = before.mode() == MmuMode.DIRECT ? Long.valueOf(gfn) : before.p2m().get(gfn);
        if (mfn == null) {
            return "WRMSR hypercall page of gfn " + Long.toHexString(gfn) + " (no RAM) was accepted";
        }
        return stubError(post.machine().memory(), mfn);
    }

    /** BOOT-3: one stub per hypercall i at i·32: B8 i(4 bytes LE) 0F 01 C1 C3; slot 23 starts 0F 0B. */
    private static String stubError(PhysicalMemory m, long mfn) {
        for (int i = 0; i < PhysicalMemory.FRAME_SIZE / STUB_BYTES; i++) {
            int[] expect = i == IRET_SLOT ? new int[] {0x0F, 0x0B}
                    : new int[] {0xB8, i & 0xFF, (i >>> 8) & 0xFF, (i >>> 16) & 0xFF, i >>> 24, 0x0F, 0x01, 0xC1,
                        0xC3};
            for (int k = 0; k < expect.length; k++) {
                int at = i * STUB_BYTES + k;
                int got = (int) ((m.read(mfn, at / 8) >>> (8 * (at % 8))) & 0xFF);
                if (got != expect[k]) {
                    return "hypercall page frame " + Long.toHexString(mfn) + ", stub " + i + ", byte " + k + " is "
                            + Integer.toHexString(got) + ", not " + Integer.toHexString(expect[k]);
                }
            }
        }
        return null;
    }
}
