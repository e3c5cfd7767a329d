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
     * The SMP kernel on bare metal: {@link #onBareMetal(int)} with {@code cpus} logical processors sharing the memory;
     * the boot processor executes, each application processor waits at its reset state with an empty TLB until the
     * kernel starts it ({@link GuestOp.StartAp}).
     */
    public static GuestSystem onBareMetal(int frames, int cpus) {
        Checks.inRange("CPUs", cpus, 1, MAX_CPUS);
        GuestSystem one = onBareMetal(frames);
        NativePlatform p = (NativePlatform) one.platform();
        SortedMap<Integer, NativePlatform.Parked> aps = new TreeMap<>();
        for (int c = 1; c < cpus; c++) {
            aps.put(c, new NativePlatform.Parked(CpuState.reset(XenMachine.MAX_PHYS_ADDR), p.machine().tlb()));
        }
        return new GuestSystem(one.kernel(), new NativePlatform(p.machine(), 0, aps));
    }

    /** The most processors the SMP kernel is built for (docs/smp.md, "The SMP hybrid kernel"). */
    public static final int MAX_CPUS = 2;

    /**
     * The SMP kernel under the hypervisor: {@link #underXen(MmuMode, int, int, Faults)} on a machine of {@code cpus}
     * pCPUs whose domain has {@code cpus} vCPUs, vCPU i with VPID i + 1 placed on pCPU i (the domain builder's
     * initial placement). Each application processor's vCPU is at reset, as the domain builder leaves an HVM
     * domain's secondary vCPUs; it does not run until the kernel starts it ({@link GuestOp.StartAp}). With
     * {@code cpus} = 1 this is exactly {@link #underXen(MmuMode, int, int, Faults)}.
     */
    public static GuestSystem underXen(MmuMode mode, int frames, int xenFrames, Faults faults, int cpus) {
        Checks.inRange("CPUs", cpus, 1, MAX_CPUS);
        if (cpus == 1) {
            return underXen(mode, frames, xenFrames, faults);
        }
        XenMachine m = XenMachine.boot(1 + frames + xenFrames, 0).withPcpus(cpus).withFaults(faults);
        m = addDomain(m, 1, mode, Domains.range(1, frames), 1);
        for (int c = 1; c < cpus; c++) {
            m = done(Domains.addVcpu(m, 1, c + 1, CpuState.reset(XenMachine.MAX_PHYS_ADDR)));
            VcpuId ap = new VcpuId(1, c);
            m = m.withVcpu(m.vcpu(ap).withPcpu(c));
        }
        return new GuestSystem(KernelState.initial(frames), new XenPlatform(m, new VcpuId(1, 0)));
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
     * The SMP kernel ({@link #underXen(MmuMode, int, int, Faults, int)}) with its domain presenting {@code identity}
     * through CPUID (BOOT-2, BOOT-7).
     */
    public static GuestSystem underXen(MmuMode mode, int frames, int xenFrames, Faults faults, int cpus,
            org.hybridv.xen.CpuidIdentity identity) {
        Checks.notNull("CPUID identity", identity);
        GuestSystem g = underXen(mode, frames, xenFrames, faults, cpus);
        XenPlatform x = (XenPlatform) g.platform();
        XenMachine m = x.machine().withDomain(x.machine().domain(1).withIdentity(identity));
        return new GuestSystem(g.kernel(), new XenPlatform(m, x.vcpu()));
    }

    /**
     * {@link #underXen(MmuMode, int, int, Faults, org.hybridv.xen.CpuidIdentity)} on a machine that also runs the
     * block back-end (docs/pv-interfaces.md, "The split block driver"): {@link org.hybridv.xen.BlkBack#FRAMES} more
     * frames at the top of memory become driver domain {@link XenPlatform#BLOCK_BACK_END} (HAP, one vCPU with VPID
     * {@link #BACK_END_VPID}; its EPT from the free frames), built after the kernel's domain so that the kernel's
     * frames and p2m are those of the machine without it. The toolstack's xenstore names it as the kernel's virtual
     * block device's back-end.
     */
    public static GuestSystem underXenWithBlockBackEnd(MmuMode mode, int frames, int xenFrames, Faults faults,
            org.hybridv.xen.CpuidIdentity identity) {
        Checks.notNull("faults", faults);
        Checks.notNull("CPUID identity", identity);
        Checks.inRange("frames", frames, Layout.MIN_FRAMES, Layout.MAX_FRAMES);
        int total = 1 + frames + xenFrames + org.hybridv.xen.BlkBack.FRAMES;
        XenMachine m = XenMachine.boot(total, 0).withFaults(faults);
        m = addDomain(m, 1, mode, Domains.range(1, frames), 1);
        m = m.withDomain(m.domain(1).withIdentity(identity));
        m = done(org.hybridv.xen.BlkBack.create(m, XenPlatform.BLOCK_BACK_END,
                Domains.range(total - org.hybridv.xen.BlkBack.FRAMES, total - 1), BACK_END_VPID));
        return new GuestSystem(KernelState.initial(frames), new XenPlatform(m, new VcpuId(1, 0)));
    }

    /** The back-end domain's vCPU's VPID (the kernel's vCPUs have 1 and 2). */
    public static final int BACK_END_VPID = 0x10;

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
