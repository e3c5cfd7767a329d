package org.hybridv.guest;

import org.hybridv.x86.Checks;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;

/**
 * The guest and its native twin, driven by the same operations (invariant I3 compares them step by step). Once an
 * explicit SWITCH_MMU root has been accepted the kernel runs on tables its bookkeeping does not describe — a choice no
 * native kernel can make — and the pair is {@code diverged}: I3 is no longer compared.
 *
 * @param guest    the kernel under the hypervisor
 * @param twin     the same kernel on bare metal
 * @param diverged whether the comparison has ended
 */
public record Lockstep(GuestSystem guest, GuestSystem twin, boolean diverged) {
    public Lockstep {
        Checks.notNull("guest", guest);
        Checks.notNull("twin", twin);
        if (!(twin.platform() instanceof NativePlatform)) {
            throw new IllegalArgumentException("the twin must run on bare metal, not " + twin.platform().name());
        }
    }

    /** A kernel of {@code frames} frames in a fresh domain in {@code mode}, and its twin on bare metal. */
    public static Lockstep start(MmuMode mode, int frames, int xenFrames) {
        return start(mode, frames, xenFrames, Faults.NONE);
    }

    /** {@link #start(MmuMode, int, int)} with the hypervisor carrying the seeded faults {@code faults}. */
    public static Lockstep start(MmuMode mode, int frames, int xenFrames, Faults faults) {
        return new Lockstep(Loader.underXen(mode, frames, xenFrames, faults), Loader.onBareMetal(frames), false);
    }

    /**
     * {@link #start(MmuMode, int, int, Faults)} with the domain presenting {@code identity} through CPUID (BOOT-2):
     * Xen at 0x40000000 or 0x40000100, KVM (BOOT-7, HAP only), another signature or none.
     */
    public static Lockstep start(MmuMode mode, int frames, int xenFrames, Faults faults,
            org.hybridv.xen.CpuidIdentity identity) {
        return new Lockstep(Loader.underXen(mode, frames, xenFrames, faults, identity), Loader.onBareMetal(frames),
                false);
    }

    /**
     * The kernel built for software-only x86-64 PV ({@link PvPlatform}, no VMX) with {@code frames} frames, and its
     * twin on bare metal.
     */
    public static Lockstep startPv(int frames) {
        return new Lockstep(PvPlatform.load(frames), Loader.onBareMetal(frames), false);
    }

    /**
     * The SMP kernel and its twin: the domain with {@code cpus} vCPUs on as many pCPUs
     * ({@link Loader#underXen(MmuMode, int, int, Faults, int)}), the twin on {@code cpus} logical processors sharing
     * its memory ({@link Loader#onBareMetal(int, int)}). With {@code cpus} = 1 this is
     * {@link #start(MmuMode, int, int, Faults)}.
     */
    public static Lockstep start(MmuMode mode, int frames, int xenFrames, Faults faults, int cpus) {
        return new Lockstep(Loader.underXen(mode, frames, xenFrames, faults, cpus), Loader.onBareMetal(frames, cpus),
                false);
    }

    /** The SMP kernel and its twin ({@link #start(MmuMode, int, int, Faults, int)}) under {@code identity}. */
    public static Lockstep start(MmuMode mode, int frames, int xenFrames, Faults faults, int cpus,
            org.hybridv.xen.CpuidIdentity identity) {
        return new Lockstep(Loader.underXen(mode, frames, xenFrames, faults, cpus, identity),
                Loader.onBareMetal(frames, cpus), false);
    }

    /**
     * The kernel on a machine with the block back-end ({@link Loader#underXenWithBlockBackEnd}) and its twin on bare
     * metal, whose ATA disk ships with the same sectors.
     */
    public static Lockstep startWithBlockBackEnd(MmuMode mode, int frames, int xenFrames, Faults faults,
            org.hybridv.xen.CpuidIdentity identity) {
        return new Lockstep(Loader.underXenWithBlockBackEnd(mode, frames, xenFrames, faults, identity),
                Loader.onBareMetal(frames), false);
    }

    /** One operation on both. */
    public LockstepStep step(GuestOp op) {
        KernelStep g = Kernel.apply(guest, op);
        KernelStep t = Kernel.apply(twin, op);
        boolean explicitAccepted = op instanceof GuestOp.SwitchMmu s && s.root() == SwitchRoot.EXPLICIT
                && g.result() instanceof KernelResult.Switched;
        return new LockstepStep(this, g, t, new Lockstep(g.post(), t.post(), diverged || explicitAccepted));
    }

    /** One operation on both: the pair before, each side's step, the pair after. */
    public record LockstepStep(Lockstep pre, KernelStep guest, KernelStep twin, Lockstep post) {}
}
