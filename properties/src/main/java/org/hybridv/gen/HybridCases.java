package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.MmuMode;

/**
 * Hybrid-kernel runs: a kernel in a shadow-mode or HAP domain (with its native twin) and a plain list of kernel
 * operations — boots to random stages, processes, context switches, maps and unmaps, user accesses (good pages,
 * NULL, the kernel's data, non-canonical, fetches), kernel accesses, system calls, idle, and SWITCH_MMU at random
 * points with often unsuitable roots (superpage, writable page table, foreign frame, Xen slot, writable self-map,
 * an explicit frame), from user mode, or forced before the hypercall page or a second time. A plain list so that a
 * shrunk run can be written as a scenario. Choice 0 everywhere: a shadow-mode kernel that boots to DIRECT.
 *
 * <p>About one run in four is of the SMP kernel (two vCPUs on two pCPUs, a twin on two processors; docs/smp.md): the
 * same operations, drawn first and so the same as a one-CPU run's, then turned into an SMP run by choices drawn after
 * them ({@link #smp}) — the AP brought up after the boot, a boot to DIRECT made a boot to the hypercall page, the AP
 * running an operation on pCPU 1, then SWITCH_MMU with the sibling running; later operations moved to CPU 1 at
 * random, and often the first switch to a process made on both CPUs, followed by a page CPU 1 demand-pages and CPU 0
 * unmaps (a cross-CPU flush). A one-CPU run is therefore exactly what it was before SMP runs existed.
 */
public final class HybridCases {
    private HybridCases() {}

    /** The most operations in a run. */
    public static final int MAX_OPS = 16;
    /** Xen frames besides the domain's (shadow tables, EPT). */
    public static final int XEN_FRAMES = 96;

    /**
     * A generated run: {@code cpus} the kernel's processors (2: the SMP kernel, docs/smp.md), {@code identity} what
     * the hypervisor presents through CPUID (BOOT-2, BOOT-7).
     */
    public record Run(MmuMode mode, int frames, List<GuestOp> ops, int cpus, CpuidIdentity identity,
            boolean blockBackEnd) {
        public Run {
            ops = List.copyOf(ops);
            if (blockBackEnd && cpus != 1) {
                throw new IllegalArgumentException("the block back-end runs beside a one-CPU kernel");
            }
        }

        /** A run without the block back-end domain (block operations, if any, use the ATA disk). */
        public Run(MmuMode mode, int frames, List<GuestOp> ops, int cpus, CpuidIdentity identity) {
            this(mode, frames, ops, cpus, identity, false);
        }

        /** A run of the one-CPU kernel under Xen at CPUID base 0x40000000. */
        public Run(MmuMode mode, int frames, List<GuestOp> ops) {
            this(mode, frames, ops, 1, CpuidIdentity.XEN);
        }

        /** A run of the {@code cpus}-CPU kernel under Xen at CPUID base 0x40000000. */
        public Run(MmuMode mode, int frames, List<GuestOp> ops, int cpus) {
            this(mode, frames, ops, cpus, CpuidIdentity.XEN);
        }

        /** A run of the one-CPU kernel under {@code identity}. */
        public Run(MmuMode mode, int frames, List<GuestOp> ops, CpuidIdentity identity) {
            this(mode, frames, ops, 1, identity);
        }

        public Lockstep start() {
            return start(org.hybridv.xen.Faults.NONE);
        }

        /** The lockstep pair of this run with {@code faults} injected (the back-end domain d0 if asked for). */
        public Lockstep start(org.hybridv.xen.Faults faults) {
            return blockBackEnd ? Lockstep.startWithBlockBackEnd(mode, frames, XEN_FRAMES, faults, identity)
                    : Lockstep.start(mode, frames, XEN_FRAMES, faults, cpus, identity);
        }
    }

    public static Run generate(Choices c) {
        MmuMode mode = c.weighted(4, 1) == 0 ? MmuMode.SHADOW : MmuMode.HAP;
        int frames = Layout.MIN_FRAMES + 26 + 8 * c.below(3);
        List<GuestOp> ops = new ArrayList<>();
        ops.add(new GuestOp.Boot(bootTarget(c)));
        int[] processes = {0, 0};
        if (c.flag(true, 20)) {
            ops.add(new GuestOp.NewProcess());
            ops.add(new GuestOp.SwitchTo(1));
            processes[0] = 1;
        }
        int n = ops.size() + 2 + c.below(MAX_OPS - ops.size() - 1);
        while (ops.size() < n) {
            ops.add(op(c, frames, processes));
        }
        if (c.weighted(3, 1) != 0) {
            return new Run(mode, frames, smp(c, ops), 2); // the SMP kernel runs under Xen at 0x40000000
        }
        // Drawn last, so that the runs of the choices before it are those of a Xen-only generator.
        CpuidIdentity identity = identity(c);
        // Then block I/O (BLK-6, EMU-7), drawn after everything else for the same reason: under Xen a third of the
        // runs have the back-end domain (the split driver from the hypercall page on), and a fifth of all runs do
        // block requests without it (the ATA disk: emulated under a hypervisor, the device natively)
        boolean backEnd = identity.personality() == CpuidIdentity.Personality.XEN && c.weighted(2, 1) == 1;
        if (backEnd || c.weighted(4, 1) == 1) {
            blockOps(c, ops);
        }
        return new Run(identity.personality() == CpuidIdentity.Personality.KVM ? MmuMode.HAP : mode, frames, ops,
                1, identity, backEnd);
    }

    /**
     * One to three block reads and writes of sectors 0..15 inserted at random places after the boot (the first
     * request also sets the driver up), so that they interleave with timer ticks, idle periods, context switches and
     * SWITCH_MMU.
     */
    static void blockOps(Choices c, List<GuestOp> ops) {
        int n = 1 + c.below(3);
        for (int i = 0; i < n; i++) {
            long sector = c.below(org.hybridv.xen.Blkif.DISK_SECTORS);
            GuestOp op = c.flag(true, 50) ? new GuestOp.BlockRead(sector)
                    : new GuestOp.BlockWrite(sector, 0x100L * (1 + c.below(15)));
            ops.add(1 + c.below(ops.size()), op);
        }
    }

    /**
     * The SMP form of {@code ops} (which start with a boot): the AP brought up after the boot; a boot to DIRECT
     * becomes a boot to the hypercall page, the AP's bring-up, an operation of the AP on pCPU 1 (so that it runs
     * there, with translations cached) — a third of the time a process of its own, created, switched to and written
     * — and SWITCH_MMU — with the sibling running; each later operation that a CPU
     * other than the boot CPU may run is moved to CPU 1 with probability 1/3.
     */
    static List<GuestOp> smp(Choices c, List<GuestOp> ops) {
        List<GuestOp> out = new ArrayList<>();
        GuestOp.Boot boot = (GuestOp.Boot) ops.get(0);
        if (boot.target() == BootStage.DIRECT) {
            out.add(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
            out.add(new GuestOp.StartAp(1));
            if (c.weighted(2, 1) == 1) {
                // the AP on a process of its own while the boot CPU stays on the kernel's tables: after the switch
                // the AP reloads its own (now pinned) tables (MX-3), and its process's pages must still be there
                out.add(new GuestOp.NewProcess());
                out.add(new GuestOp.OnCpu(1, new GuestOp.SwitchTo(1)));
                out.add(new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(0), AccessKind.WRITE, 0x77)));
            } else {
                out.add(new GuestOp.OnCpu(1, c.flag(true, 50) ? new GuestOp.Syscall()
                        : new GuestOp.KernelAccess(Layout.directMap(Layout.FIRST_FREE + c.below(8)), AccessKind.READ,
                                0)));
            }
            out.add(GuestOp.SwitchMmu.kernelBuilt());
        } else {
            out.add(boot);
            out.add(new GuestOp.StartAp(1));
        }
        boolean shared = false;
        for (GuestOp op : ops.subList(1, ops.size())) {
            boolean movable = !(op instanceof GuestOp.Boot || op instanceof GuestOp.SwitchMmu);
            out.add(movable && c.weighted(2, 1) == 1 ? new GuestOp.OnCpu(1, op) : op);
            if (!shared && op instanceof GuestOp.SwitchTo t && t.pid() != 0 && c.weighted(1, 2) == 1) {
                // the other CPU runs the same process too (a second thread): its unmaps need a cross-CPU flush
                out.add(new GuestOp.OnCpu(out.get(out.size() - 1) instanceof GuestOp.OnCpu ? 0 : 1, op));
                shared = true;
                // one CPU demand-pages a page, writes it and caches it, the other unmaps it: the flush must reach
                // the first, whose next read finds a fresh page of zeros (KRN-4, KRN-8), not the word it wrote
                int page = c.below(12);
                boolean apCaches = c.flag(true, 50);
                GuestOp write = new GuestOp.UserAccess(Layout.userPage(page), AccessKind.WRITE, 0x5A5A);
                out.add(apCaches ? new GuestOp.OnCpu(1, write) : write);
                GuestOp unmap = new GuestOp.Unmap(page);
                out.add(apCaches ? unmap : new GuestOp.OnCpu(1, unmap));
                if (c.flag(true, 50)) {
                    GuestOp read = new GuestOp.UserAccess(Layout.userPage(page), AccessKind.READ, 0);
                    out.add(apCaches ? new GuestOp.OnCpu(1, read) : read);
                }
            }
        }
        return out;
    }

    /** Other hypervisors' signatures (VMware, Hyper-V, QEMU's TCG, ACRN, bhyve). */
    static final List<String> OTHER_SIGNATURES = List.of("VMwareVMware", "Microsoft Hv", "TCGTCGTCGTCG",
            "ACRNACRNACRN", "bhyve bhyve ");

    /**
     * Every kind of answer to the kernel's CPUID scan (BOOT-2): Xen at 0x40000000 (most runs) or behind Viridian at
     * 0x40000100, KVM (BOOT-7), another hypervisor's signature, Xen's or KVM's signature with one of its twelve bytes
     * changed (at either base), no signature, leaf 1 ECX[31] clear, Xen with fewer than two leaves after its base.
     */
    static CpuidIdentity identity(Choices c) {
        switch (c.weighted(20, 3, 3, 1, 3, 1, 1, 1)) {
            case 0:
                return CpuidIdentity.XEN;
            case 1:
                return CpuidIdentity.XEN_VIRIDIAN;
            case 2:
                return CpuidIdentity.KVM;
            case 3:
                return CpuidIdentity.XEN.withSignature(OTHER_SIGNATURES.get(c.below(OTHER_SIGNATURES.size())));
            case 4: {
                CpuidIdentity id = c.flag(true, 50) ? (c.flag(true, 50) ? CpuidIdentity.XEN
                        : CpuidIdentity.XEN_VIRIDIAN) : CpuidIdentity.XEN;
                String known = c.flag(true, 50) ? CpuidIdentity.XEN_SIGNATURE : CpuidIdentity.KVM_SIGNATURE;
                char[] sig = known.toCharArray();
                int k = c.below(12);
                sig[k] = (char) ((sig[k] + 1 + c.below(255)) & 0xFF);
                return id.withSignature(new String(sig));
            }
            case 5:
                return CpuidIdentity.XEN.withSignature("\0\0\0\0\0\0\0\0\0\0\0\0").withLeaves(0);
            case 6:
                return CpuidIdentity.XEN.withHypervisorBit(false);
            default:
                return (c.flag(true, 50) ? CpuidIdentity.XEN : CpuidIdentity.XEN_VIRIDIAN).withLeaves(c.below(2));
        }
    }

    private static BootStage bootTarget(Choices c) {
        return switch (c.weighted(4, 5, 1, 1, 1)) {
            case 0 -> BootStage.DIRECT;
            case 1 -> BootStage.HYPERCALL_PAGE_INSTALLED;
            case 2 -> BootStage.HYPERVISOR_DETECTED;
            case 3 -> BootStage.LONG;
            default -> BootStage.PROTECTED;
        };
    }

    /**
     * One operation; {@code processes[0]} counts the processes created so far (at most 4, the reserve's room), and
     * {@code processes[1]}, if there, the last user word written ({@link #userAccess}).
     */
    static GuestOp op(Choices c, int frames, int[] processes) {
        return op(c, frames, processes, 1, frames + 1 + XEN_FRAMES);
    }

    /**
     * {@link #op(Choices, int, int[])} for a kernel whose domain owns the machine frames {@code first ..
     * first + frames - 1} of a machine of {@code machineFrames} frames: the frame a {@link SwitchRoot#FOREIGN_FRAME}
     * root maps must not be the domain's, or the root has no defect (and is rightly accepted).
     */
    static GuestOp op(Choices c, int frames, int[] processes, long first, long machineFrames) {
        switch (c.weighted(8, 2, 3, 2, 1, 2, 2, 1, 3, 1)) {
            case 1:
                if (processes[0] < 4) {
                    processes[0]++;
                    return new GuestOp.NewProcess();
                }
                return new GuestOp.SwitchTo(c.below(processes[0] + 1));
            case 2:
                return new GuestOp.SwitchTo(c.below(processes[0] + 1));
            default:
                break;
        }
        return switch (c.weighted(8, 0, 0, 2, 1, 2, 2, 1, 4, 1)) {
            case 0 -> userAccess(c, processes);
            case 3 -> new GuestOp.Map(userPage(c), c.flag(true, 30));
            case 1, 2 -> throw new AssertionError("weight 0");
            case 4 -> new GuestOp.Unmap(userPage(c));
            case 5 -> kernelAccess(c, frames);
            case 6 -> new GuestOp.Syscall();
            case 7 -> idle(c);
            case 8 -> switchMmu(c, frames, first, machineFrames);
            default -> new GuestOp.Boot(bootTarget(c));
        };
    }

    /**
     * The idle loop's HLT, or (BOOT-9, BOOT-10) a timer tick or an idle period of 1..16 ticks, the PV way where
     * offered or not (a kernel configured without the PV timer and idle).
     */
    private static GuestOp idle(Choices c) {
        return switch (c.weighted(2, 3, 2)) {
            case 0 -> new GuestOp.Idle();
            case 1 -> new GuestOp.TimerTick(1 + c.below(16), c.flag(true, 30));
            default -> new GuestOp.Idle(1 + c.below(16), c.flag(true, 30));
        };
    }

    private static AccessKind kind(Choices c) {
        return switch (c.weighted(5, 4, 1)) {
            case 0 -> AccessKind.WRITE;
            case 1 -> AccessKind.READ;
            default -> AccessKind.FETCH;
        };
    }

    /**
     * A user page of 0..11, two times in three one of 0..3: so that a run's maps, accesses and unmaps often meet on
     * one page — a write to a page mapped read-only, a word read back after a write, an access after the unmap —
     * which is where the workload contract (KRN-4, KRN-5, KRN-8) has something to say.
     */
    private static int userPage(Choices c) {
        return c.weighted(2, 1) == 0 ? c.below(4) : c.below(12);
    }

    /**
     * A user access; a read or fetch goes half the time to the word the run's last user write went to
     * ({@code processes[1]}, if that array has a second slot: the address + 1, 0 for none), so that a word written
     * is read back (KRN-8).
     */
    private static GuestOp userAccess(Choices c, int[] processes) {
        AccessKind kind = kind(c);
        boolean again = processes.length > 1 && processes[1] != 0 && kind != AccessKind.WRITE && c.flag(false, 50);
        long linear = again ? processes[1] - 1L : userAddress(c);
        long value = c.below(4) * 0x1111L;
        if (kind == AccessKind.WRITE && processes.length > 1 && Layout.userPageOf(linear) >= 0) {
            processes[1] = (int) linear + 1;
        }
        return new GuestOp.UserAccess(linear, kind, value);
    }

    private static long userAddress(Choices c) {
        return switch (c.weighted(12, 1, 1, 1, 1)) {
            case 0 -> Layout.userPage(userPage(c)) + 8L * c.below(4);
            case 1 -> 0; // NULL
            case 2 -> Layout.CURRENT_VAR; // the kernel's data: a supervisor page
            case 3 -> 0x0000_8000_0000_0000L; // non-canonical: #GP
            default -> Layout.userPage(Layout.USER_PAGES) ; // just past the user region: not present
        };
    }

    /** Kernel accesses that mean the same on every platform: its data, user pages, unmapped addresses. */
    private static GuestOp kernelAccess(Choices c, int frames) {
        return switch (c.weighted(3, 3, 1, 1)) {
            case 0 -> c.flag(true, 50) ? new GuestOp.KernelAccess(Layout.CURRENT_VAR, AccessKind.READ, 0)
                    : new GuestOp.KernelAccess(Layout.CURRENT_VAR, AccessKind.WRITE, c.below(8));
            case 1 -> new GuestOp.KernelAccess(Layout.userPage(userPage(c)), kind(c) == AccessKind.WRITE
                    ? AccessKind.WRITE : AccessKind.READ, 0x22);
            case 2 -> new GuestOp.KernelAccess(0, AccessKind.READ, 0);
            default -> new GuestOp.KernelAccess(Layout.directMap(frames + c.below(8)), AccessKind.READ, 0);
        };
    }

    private static GuestOp switchMmu(Choices c, int frames, long first, long machineFrames) {
        SwitchRoot root = switch (c.weighted(3, 1, 1, 1, 1, 1, 1)) {
            case 0 -> SwitchRoot.KERNEL_BUILT;
            case 1 -> SwitchRoot.SUPERPAGE;
            case 2 -> SwitchRoot.WRITABLE_PAGE_TABLE;
            case 3 -> SwitchRoot.FOREIGN_FRAME;
            case 4 -> SwitchRoot.XEN_SLOT;
            case 5 -> SwitchRoot.WRITABLE_SELF_MAP;
            default -> SwitchRoot.EXPLICIT;
        };
        // FOREIGN_FRAME: the machine's frame 0 (never a domain's) or one after the domain's. EXPLICIT: any frame from
        // just before the domain's to a few after them.
        long after = first + frames;
        long mfn = root == SwitchRoot.FOREIGN_FRAME ? (c.flag(true, 50) ? 0 : after + c.below((int) (machineFrames
                - after))) : root == SwitchRoot.EXPLICIT ? first - 1 + c.below(frames + 8) : 0;
        return new GuestOp.SwitchMmu(root, mfn, c.flag(false, 10), c.flag(false, 15));
    }
}
