package org.hybridv.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.Domains;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Puts the hybrid kernel into memory and starts its CPU at reset — the boot loader's and the domain builder's job.
 * The kernel image carries its early page tables (Linux builds {@code early_top_pgt} and friends at compile time):
 * frames 0–3 map the direct map of every frame with 4-KByte pages, as guest-physical frame numbers. The CPU starts
 * in real mode at CPL 0 (SDM Vol. 3A §9.1.1).
 */
public final class Loader {
    private Loader() {}

    /** The early tables as (pfn, index, entry): PML4[272] → PDPT, PDPT[0] → PD, PD[0] → PT, PT[f] → frame f. */
    public static List<long[]> earlyImage(int frames) {
        Checks.inRange("frames", frames, Layout.MIN_FRAMES, Layout.MAX_FRAMES);
        long rw = Layout.P | Layout.RW;
        List<long[]> w = new ArrayList<>();
        w.add(new long[] {Layout.EARLY_L4, Layout.DIRECT_MAP_SLOT, Layout.entry(Layout.EARLY_L3, rw)});
        w.add(new long[] {Layout.EARLY_L3, 0, Layout.entry(Layout.EARLY_L2, rw)});
        w.add(new long[] {Layout.EARLY_L2, 0, Layout.entry(Layout.EARLY_L1, rw)});
        for (long f = 0; f < frames; f++) {
            w.add(new long[] {Layout.EARLY_L1, f, Layout.entry(f, rw)});
        }
        return w;
    }

    /** The kernel on bare metal with {@code frames} frames (identity p2m), the same MAXPHYADDR as the hypervisor's. */
    public static GuestSystem onBareMetal(int frames) {
        X86Machine m = X86Machine.create(frames, XenMachine.MAX_PHYS_ADDR, TlbPolicy.ADVERSARIAL);
        PhysicalMemory mem = m.memory();
        for (long[] w : earlyImage(frames)) {
            mem = mem.write(w[0], (int) w[1], w[2]);
        }
        return new GuestSystem(KernelState.initial(frames), new NativePlatform(m.withMemory(mem)));
    }

    /**
     * The kernel as domain {@code domain} of a fresh hypervisor: a machine of {@code frames + xenFrames + 1} frames,
     * frame 0 the hypervisor's, the domain in {@code mode} owning the next {@code frames} frames with the p2m
     * {@code gfn → base + (frames - 1 - gfn)} (reversed, so that guest and machine frame numbers differ), one vCPU
     * at reset with VPID 1, and the image loaded through the p2m. The remaining frames are free (shadow tables, EPT).
     */
    public static GuestSystem underXen(MmuMode mode, int frames, int xenFrames) {
        return underXen(mode, frames, xenFrames, Faults.NONE);
    }

    /**
     * {@link #underXen(MmuMode, int, int)} on a hypervisor with the seeded faults {@code faults} (docs/faults.md),
     * injected before the domain is built.
     */
    public static GuestSystem underXen(MmuMode mode, int frames, int xenFrames, Faults faults) {
        Checks.notNull("faults", faults);
        Checks.inRange("frames", frames, Layout.MIN_FRAMES, Layout.MAX_FRAMES);
        XenMachine m = XenMachine.boot(1 + frames + xenFrames, 0).withFaults(faults);
        m = addDomain(m, 1, mode, Domains.range(1, frames), 1);
        return new GuestSystem(KernelState.initial(frames), new XenPlatform(m, new VcpuId(1, 0)));
    }

    /**
     * {@link #underXen(MmuMode, int, int, Faults)} with the domain presenting {@code identity} through CPUID and
     * offering its personality's interfaces (BOOT-2, BOOT-7): Xen at another base, KVM (HAP only), or any signature.
     */
    public static GuestSystem underXen(MmuMode mode, int frames, int xenFrames, Faults faults,
            org.hybridv.xen.CpuidIdentity identity) {
        Checks.notNull("CPUID identity", identity);
        GuestSystem g = underXen(mode, frames, xenFrames, faults);
        XenPlatform x = (XenPlatform) g.platform();
        XenMachine m = x.machine().withDomain(x.machine().domain(1).withIdentity(identity));
        return new GuestSystem(g.kernel(), new XenPlatform(m, x.vcpu()));
    }

    /**
     * Adds the kernel to {@code m} as domain {@code id} in {@code mode} (shadow or HAP) owning {@code frames} (all
     * free), with the p2m {@code gfn → frames[n - 1 - gfn]} (reversed, so that guest and machine frame numbers
     * differ), the image loaded through it, and one vCPU at reset with VPID {@code vpid}. The kernel's
     * {@code KernelState.initial(frames.length)} and {@code VcpuId(id, 0)} go with it.
     *
     * @throws IllegalStateException if the domain builder refuses (a frame not free, the VPID taken)
     */
    public static XenMachine addDomain(XenMachine m, int id, MmuMode mode, long[] frames, int vpid) {
        HvResult r = build(m, id, mode, frames, vpid);
        if (r instanceof HvResult.Done d) {
            return d.machine();
        }
        throw new IllegalStateException("the domain builder refused: " + r);
    }

    /** {@link #addDomain} with the domain builder's refusal as a value (a frame not free, the VPID taken). */
    public static HvResult build(XenMachine m, int id, MmuMode mode, long[] frames, int vpid) {
        Checks.notNull("mode", mode);
        Checks.inRange("frames", frames.length, Layout.MIN_FRAMES, Layout.MAX_FRAMES);
        if (mode == MmuMode.DIRECT) {
            throw new IllegalArgumentException("the hybrid kernel starts in shadow or HAP mode, not " + mode
                    + " (it reaches direct paging with SWITCH_MMU)");
        }
        SortedMap<Long, Long> p2m = new TreeMap<>();
        for (int g = 0; g < frames.length; g++) {
            p2m.put((long) g, frames[frames.length - 1 - g]);
        }
        HvResult created = Domains.create(m, id, mode, frames, p2m);
        if (!(created instanceof HvResult.Done d)) {
            return created;
        }
        m = d.machine();
        PhysicalMemory mem = m.memory();
        for (long[] w : earlyImage(frames.length)) {
            mem = mem.write(p2m.get(w[0]), (int) w[1], w[2]);
        }
        m = m.withPaging(m.paging().withMemory(mem));
        return Domains.addVcpu(m, id, vpid, CpuState.reset(XenMachine.MAX_PHYS_ADDR));
    }

    private static XenMachine done(HvResult r) {
        if (r instanceof HvResult.Done d) {
            return d.machine();
        }
        throw new IllegalStateException("the domain builder refused: " + r);
    }
}
