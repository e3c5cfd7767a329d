package org.hybridv.compare;

import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.Kernel;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Loader;
import org.hybridv.guest.PvPlatform;
import org.hybridv.xen.MmuMode;

/**
 * The platforms compared, each with how the same kernel is booted on it: bare metal; software-only x86-64 PV (no VMX,
 * {@link PvPlatform}); a VMX domain with shadow paging or with HAP (EPT), both stopped before SWITCH_MMU; and the
 * hybrid — a VMX domain after SWITCH_MMU, direct paging.
 */
public enum Target {
    NATIVE("native", 4),
    PV("PV", 4),
    SHADOW("shadow", 4),
    HAP("HAP", Target.TWO_D_REFS),
    HYBRID("hybrid", 4);

    /** The kernel's frames on every platform. */
    public static final int FRAMES = 64;

    /**
     * Memory references of a 2-D walk with 4-level guest paging and 4-level EPT: each of the 4 guest paging-structure
     * entries is read at a guest-physical address translated by a 4-level EPT walk (4 + 1 references each), and the
     * final guest-physical address is translated too (4): 4 × 5 + 4 = 24 (Intel SDM Vol. 3C §28.2.1, 2016-era
     * numbering: "guest-physical addresses … are translated by traversing a set of EPT paging structures", which
     * applies to the addresses of the guest's paging structures as well as to the final address).
     */
    public static final int TWO_D_REFS = 4 * (4 + 1) + 4;

    private final String label;
    private final int walkRefs;

    Target(String label, int walkRefs) {
        this.label = label;
        this.walkRefs = walkRefs;
    }

    public String label() {
        return label;
    }

    /**
     * Memory references of one page walk after a TLB miss: 4 for a 4-level walk (SDM Vol. 3A §4.5: PML4E, PDPTE, PDE,
     * PTE) — natively, under PV and direct paging (the hardware walks the guest's own tables with machine frames) and
     * under shadow paging (it walks the shadow tables) — and {@link #TWO_D_REFS} under HAP.
     */
    public int walkRefs() {
        return walkRefs;
    }

    /** The kernel booted on this platform (at its final stage), fresh. */
    public GuestSystem boot() {
        GuestSystem s;
        BootStage to;
        switch (this) {
            case NATIVE -> {
                s = Loader.onBareMetal(FRAMES);
                to = BootStage.NATIVE;
            }
            case PV -> {
                s = PvPlatform.load(FRAMES);
                to = BootStage.NATIVE;
            }
            case SHADOW -> {
                s = Loader.underXen(MmuMode.SHADOW, FRAMES, 64);
                to = BootStage.HYPERCALL_PAGE_INSTALLED;
            }
            case HAP -> {
                s = Loader.underXen(MmuMode.HAP, FRAMES, 64);
                to = BootStage.HYPERCALL_PAGE_INSTALLED;
            }
            default -> {
                s = Loader.underXen(MmuMode.SHADOW, FRAMES, 64);
                to = BootStage.DIRECT;
            }
        }
        KernelStep b = Kernel.apply(s, new GuestOp.Boot(to));
        if (!(b.result() instanceof KernelResult.Booted booted) || booted.stage() != to) {
            throw new IllegalStateException(label + ": boot ended with " + b.result());
        }
        return b.post();
    }
}
