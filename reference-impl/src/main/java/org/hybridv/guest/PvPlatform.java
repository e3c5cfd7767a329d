package org.hybridv.guest;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Checks;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Processor;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.DirectPaging;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Errno;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuResult;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * The same kernel built for software-only x86-64 PV, as XenLinux ran before VMX: no VMX at all. The kernel and its
 * processes both run in ring 3 (x86-64 has only two paging privilege levels, so Xen keeps ring 0 and the guest kernel
 * is "ring-compressed" into ring 3); they are kept apart by two page tables per address space — the kernel's L4, which
 * maps everything, and a user L4 holding only the user half (Linux {@code xen_get_user_pgd}; Xen
 * {@code guest_table_user}) — and Xen switches between them on every kernel entry and exit ({@code toggle_guest_mode}).
 *
 * <p>What the kernel's instructions become here (Linux's {@code xen_*} pv-ops, bound at start of day by
 * {@code xen_start_kernel}, not by a boot stage):
 * <ul>
 * <li>a memory access: executed by the x86 layer's {@link Processor} at CPL 3 on the kernel's or the user's L4;
 * a #PF or #GP traps to Xen, which bounces it to the guest kernel (a hypervisor-mediated trap, switching to the
 * kernel's table if the guest was in user mode) with the error code's U/S bit taken from the guest's mode;</li>
 * <li>a return to user mode ({@link #withCpl} 3): {@code HYPERVISOR_iret} and a switch to the user L4; an entry from
 * user mode ({@link #withCpl} 0): a trap through Xen's SYSCALL or exception entry, bounced to the kernel, and a switch
 * to the kernel's L4;</li>
 * <li>a page-table write ({@code set_pte}): {@code mmu_update}; a new table ({@code alloc_pt}, {@code pgd_alloc}):
 * {@code update_va_mapping} read-only and {@code MMUEXT_PIN_L4_TABLE}, which also makes and pins the user L4;
 * {@code write_cr3}: one {@code mmuext_op} with {@code MMUEXT_NEW_BASEPTR} and {@code MMUEXT_NEW_USER_BASEPTR}
 * (Linux {@code xen_write_cr3} batches both); {@code flush_tlb_single}: {@code MMUEXT_INVLPG_LOCAL};
 * {@code safe_halt}: {@code SCHEDOP_block}; {@code read_cr2}: the CR2 Xen saved in {@code vcpu_info} (no trap).
 * Every table update and base-pointer change is validated by the direct-paging core ({@link DirectPaging}, Xen rules
 * MU-*, MX-*, UVA-*, L1-*, LN-*);</li>
 * <li>Xen's {@code adjust_guest_l1e} … {@code adjust_guest_l4e} for a 64-bit PV guest: every present entry gets
 * U/S = 1 (the kernel runs in ring 3, so its own mappings must be user-accessible; the separate user L4 is what hides
 * them from user code), applied to the value of each update and to a table's entries when it is first validated.
 * Because the kernel's mappings are user pages present only in the kernel's L4, they cannot be global: a page-table
 * switch flushes them ("no global pages for the kernel");</li>
 * <li>CPUID: the bare processor's leaves (no CPUID faulting on the seed's hardware; a PV kernel learns that it runs
 * on Xen from its start-of-day information, not from CPUID); privileged instructions a PV kernel never executes (MOV
 * to CR0/CR4, WRMSR, port I/O) trap with #GP and are emulated or refused, as Xen's {@code emulate_privileged_op}
 * does.</li>
 * </ul>
 *
 * <p>Abstractions: the domain builder ({@link #load}) starts the kernel in long mode with paging on (stage
 * {@link BootStage#LONG}); the p2m is the identity (the domain owns machine frames 0..frames-1, so frame numbers in
 * entries are the kernel's pfns); the user L4s come from a pool of {@link #POOL} frames after the kernel's, so that the
 * kernel's own allocator hands out the same frames as on bare metal (I3); writable page tables (ptwr) are not used
 * (this kernel writes every entry with {@code mmu_update}); one vCPU, no events, no global pages.
 *
 * @param xen        the direct-paging core's state: machine memory, frame table, the vCPU's {@code guest_table}
 * @param hw         the processor as the guest runs on it (CPL 3 always; CR3 the kernel's or the user's L4), its TLB;
 *                   its memory is always {@code xen.memory()}
 * @param cpl        the guest's own notion of its privilege level: 0 in the kernel, 3 in a process
 * @param kernelRoot the L4 of the current address space ({@code guest_table})
 * @param userTables kernel L4 → its user L4 ({@code guest_table_user} when that L4 is the base)
 * @param nextPool   the next free frame of the user-L4 pool
 * @param frames     the kernel's frames
 * @param cr2        the faulting address Xen saved for the guest's {@code read_cr2}
 * @param events     everything counted so far
 */
public record PvPlatform(DirectPagingState xen, X86Machine hw, int cpl, long kernelRoot,
        SortedMap<Long, Long> userTables, long nextPool, int frames, long cr2, PvEvents events) implements Platform {

    /** The guest's only vCPU. */
    public static final VcpuId VCPU = new VcpuId(1, 0);
    /** Frames after the kernel's for the user L4s (one per pinned L4). */
    public static final int POOL = 24;
    /** Xen's {@code ROOT_PAGETABLE_FIRST_XEN_SLOT}: the user L4 copies the slots below it. */
    public static final int USER_HALF = 256;

    public PvPlatform {
        Checks.notNull("direct-paging state", xen);
        Checks.notNull("processor", hw);
        Checks.notNull("user tables", userTables);
        Checks.notNull("events", events);
        if (cpl != 0 && cpl != 3) {
            throw new IllegalArgumentException("guest CPL " + cpl + " (0 or 3)");
        }
        userTables = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(userTables));
    }

    /**
     * The domain builder: a machine of {@code frames + POOL} frames all owned by domain 1, the kernel image's early
     * tables written with the page-table frames read-only in the direct map (L1-3) and U/S set (adjust_guest), the
     * early L4 pinned with its (empty) user L4 and loaded as the vCPU's base, the CPU in long mode at CPL 3 — and the
     * kernel's bookkeeping at stage {@link BootStage#LONG}.
     */
    public static GuestSystem load(int frames) {
        Checks.inRange("frames", frames, Layout.MIN_FRAMES, Layout.MAX_FRAMES);
        int total = frames + POOL;
        long[] all = new long[total];
        for (int f = 0; f < total; f++) {
            all[f] = f;
        }
        DirectPagingState s = DirectPagingState.initial(total).assign(VCPU.domain(), all);
        KernelState k = KernelState.initial(frames);
        for (long[] w : Loader.earlyImage(frames)) {
            Entry e = new Entry(w[2]);
            if (w[0] == Layout.EARLY_L1 && k.pageTables().contains(w[1])) {
                e = e.withWritable(false);
            }
            s = s.write(w[0], (int) w[1], adjust(e));
        }
        X86Machine hw = X86Machine.create(total, XenMachine.MAX_PHYS_ADDR, TlbPolicy.ADVERSARIAL);
        hw = hw.withCpu(CpuState.longMode(Layout.EARLY_L4, XenMachine.MAX_PHYS_ADDR).withCpl(3))
                .withMemory(s.memory());
        PvPlatform p = new PvPlatform(s, hw, 0, Layout.EARLY_L4, new TreeMap<>(), frames, frames, 0, PvEvents.NONE);
        Pinned pinned = p.pinL4(Layout.EARLY_L4);
        if (!(pinned.result instanceof MmuResult.Success)) {
            throw new IllegalStateException("the domain builder could not pin the early L4: " + pinned.result);
        }
        p = pinned.platform;
        MmuResult base = DirectPaging.newBaseptr(p.xen, VCPU, Layout.EARLY_L4);
        if (!(base instanceof MmuResult.Success ok)) {
            throw new IllegalStateException("the domain builder could not load the early L4: " + base);
        }
        p = p.withXen(ok.state());
        return new GuestSystem(k.withStage(BootStage.LONG), new PvPlatform(p.xen, p.hw, 0, Layout.EARLY_L4,
                p.userTables, p.nextPool, frames, 0, PvEvents.NONE));
    }

    /**
     * Xen's {@code adjust_guest_l1e} … {@code adjust_guest_l4e} for a 64-bit PV guest (xen/arch/x86/mm.c): a present
     * entry gets U/S = 1 — the guest kernel runs in ring 3 and must reach its own mappings.
     */
    public static Entry adjust(Entry e) {
        return e.present() ? e.with(Entry.US, true) : e;
    }

    // ---- instructions ----------------------------------------------------------------------------------------------

    @Override
    public Executed execute(GuestInstruction insn, Hypercall regs) {
        Checks.notNull("instruction", insn);
        if (insn instanceof GuestInstruction.MemoryAccess a) {
            AccessStep s = Processor.access(hw, a.access());
            PvPlatform p = withHw(s.machine()).count(PvEvents.TLB_MISS, s.tlbHit() ? 0 : 1);
            AccessOutcome o = s.outcome();
            if (o instanceof AccessOutcome.Completed c) {
                return done(insn, regs, p, new Observed.Value(c.value()));
            }
            if (o instanceof PageFault pf) {
                // Xen reports the guest's mode in U/S, not the hardware's CPL 3 (pv_inject_page_fault).
                int ec = pf.errorCode().bits() & ~ErrorCode.US | (cpl == 3 ? ErrorCode.US : 0);
                PvPlatform b = p.bounce(PvEvents.TRAP_PAGE_FAULT);
                b = new PvPlatform(b.xen, b.hw, b.cpl, b.kernelRoot, b.userTables, b.nextPool, b.frames,
                        pf.linearAddress(), b.events);
                return done(insn, regs, b, new Observed.Fault(PageFault.VECTOR, ec, pf.linearAddress()));
            }
            return done(insn, regs, p.bounce(PvEvents.TRAP_GP), gp());
        }
        if (insn instanceof GuestInstruction.Cpuid) {
            // Not intercepted: the bare processor answers, with no hypervisor leaves (as NativePlatform).
            return done(insn, regs, this, new Observed.Cpuid(0, 0, 0, 0));
        }
        if (cpl == 3) {
            if (insn instanceof GuestInstruction.Vmcall) {
                // From user mode SYSCALL enters the guest kernel (a system call), not Xen's hypercall path.
                return done(insn, regs, bounce(PvEvents.TRAP_ENTRY), new Observed.Value(-Errno.ENOSYS.value()));
            }
            // A privileged instruction in a process: #GP, bounced to the kernel (SDM Vol. 2: #GP(0) if CPL > 0).
            return done(insn, regs, bounce(PvEvents.TRAP_GP), gp());
        }
        if (insn instanceof GuestInstruction.Vmcall) {
            return hypercall(insn, regs);
        }
        if (insn instanceof GuestInstruction.MovToCr m && m.cr() == 3) {
            // xen_write_cr3: one mmuext_op carrying MMUEXT_NEW_BASEPTR and MMUEXT_NEW_USER_BASEPTR.
            PvPlatform p = count(PvEvents.HYPERCALL + "mmuext_op", 1);
            Switched sw = p.newBase(m.value() >>> 12);
            return done(insn, regs, sw.platform, sw.result instanceof MmuResult.Success ? new Observed.Value(m.value())
                    : gp());
        }
        if (insn instanceof GuestInstruction.MovFromCr m) {
            return switch (m.cr()) {
                case 2 -> done(insn, regs, this, new Observed.Value(cr2)); // vcpu_info->arch.cr2, no trap
                case 3 -> done(insn, regs, this, new Observed.Value(Layout.entry(kernelRoot, 0))); // cached
                case 0 -> done(insn, regs, count(PvEvents.TRAP_GP, 1), new Observed.Value(Kernel.CR0_LONG));
                case 4 -> done(insn, regs, count(PvEvents.TRAP_GP, 1), new Observed.Value(Kernel.CR4_LONG));
                default -> throw new IllegalArgumentException("MOV from CR" + m.cr() + " is not modelled");
            };
        }
        if (insn instanceof GuestInstruction.Invlpg i) {
            PvPlatform p = count(PvEvents.HYPERCALL + "mmuext_op", 1);
            MmuResult r = DirectPaging.mmuextOp(xen, VCPU, Hypercalls.MMUEXT_INVLPG_LOCAL, i.linear());
            return done(insn, regs, p.apply(r), new Observed.Value(0));
        }
        if (insn instanceof GuestInstruction.Hlt) {
            // safe_halt: HYPERVISOR_sched_op(SCHEDOP_block).
            return done(insn, regs, count(PvEvents.HYPERCALL + "sched_op", 1), new Observed.Idle());
        }
        if (insn instanceof GuestInstruction.Io io) {
            // Port I/O at CPL 3 traps; Xen's emulate_privileged_op finds no device: the floating bus.
            long ones = io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1;
            return done(insn, regs, count(PvEvents.TRAP_GP, 1), new Observed.Value(io.in() ? ones : 0));
        }
        if (insn instanceof GuestInstruction.Rdmsr r) {
            // Trapped and emulated: the only MSR the model's processor has is IA32_EFER.
            return done(insn, regs, count(PvEvents.TRAP_GP, 1), r.msr() == org.hybridv.x86.Efer.MSR_INDEX
                    ? new Observed.Value(hw.cpu().eferBits()) : gp());
        }
        if (insn instanceof GuestInstruction.MovToCr || insn instanceof GuestInstruction.Wrmsr) {
            // Paging and long mode are the domain builder's: Xen refuses to change them (emulate_privileged_op).
            return done(insn, regs, count(PvEvents.TRAP_GP, 1), gp());
        }
        throw new IllegalArgumentException("instruction not modelled on the PV platform: " + insn);
    }

    /** A hypercall from the guest kernel (SYSCALL into Xen): the direct-paging core does the work. */
    private Executed hypercall(GuestInstruction insn, Hypercall regs) {
        long nr = regs.number();
        if (nr == Hypercalls.HYPERVISOR_MMU_UPDATE) {
            PvPlatform p = count(PvEvents.HYPERCALL + "mmu_update", 1);
            long ptr = regs.arg(0);
            long mfn = ptr >>> 12;
            Entry val = new Entry(regs.arg(1));
            boolean table = xen.isFrame(mfn) && xen.frame(mfn).typeCount() > 0 && xen.frame(mfn).validated()
                    && xen.frame(mfn).type() != PageType.WRITABLE;
            Entry adjusted = table ? adjust(val) : val;
            MmuResult r = DirectPaging.mmuUpdate(xen, VCPU, ptr, adjusted.raw());
            p = p.apply(r);
            int index = (int) ((ptr & 0xFFF) >>> 3);
            Long user = userTables.get(mfn);
            if (r instanceof MmuResult.Success && user != null && index < USER_HALF) {
                // xen_set_pgd: the user L4 mirrors the user half (same batch, no extra hypercall).
                p = p.apply(DirectPaging.mmuUpdate(p.xen, VCPU, (user << 12) + index * 8L, adjusted.raw()));
            }
            return done(insn, regs, p, new Observed.Value(r.returnValue()));
        }
        if (nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING) {
            PvPlatform p = count(PvEvents.HYPERCALL + "update_va_mapping", 1);
            MmuResult r = DirectPaging.updateVaMapping(xen, VCPU, regs.arg(0), adjust(new Entry(regs.arg(1))).raw(),
                    regs.arg(2));
            return done(insn, regs, p.apply(r), new Observed.Value(r.returnValue()));
        }
        if (nr == Hypercalls.HYPERVISOR_MMUEXT_OP) {
            PvPlatform p = count(PvEvents.HYPERCALL + "mmuext_op", 1);
            int cmd = (int) regs.arg(0);
            long arg = regs.arg(1);
            if (cmd == Hypercalls.MMUEXT_PIN_L4_TABLE) {
                Pinned pinned = p.pinL4(arg);
                return done(insn, regs, pinned.platform, new Observed.Value(pinned.result.returnValue()));
            }
            if (cmd == Hypercalls.MMUEXT_NEW_BASEPTR) {
                Switched sw = p.newBase(arg);
                return done(insn, regs, sw.platform, new Observed.Value(sw.result.returnValue()));
            }
            MmuResult r = DirectPaging.mmuextOp(xen, VCPU, cmd, arg);
            return done(insn, regs, p.apply(r), new Observed.Value(r.returnValue()));
        }
        if (nr == Hypercalls.HYPERVISOR_MEMORY_OP && regs.arg(0) == Hypercalls.XENMEM_TRANSLATE_GPFN_LIST) {
            PvPlatform p = count(PvEvents.HYPERCALL + "memory_op", 1);
            long gfn = regs.arg(1);
            return done(insn, regs, p, new Observed.Value(gfn >= 0 && gfn < frames ? gfn : -Errno.EINVAL.value()));
        }
        // SWITCH_MMU and everything else: no such hypercall for a PV guest.
        return done(insn, regs, count(PvEvents.HYPERCALL + "other", 1), new Observed.Value(-Errno.ENOSYS.value()));
    }

    private record Pinned(PvPlatform platform, MmuResult result) {}

    private record Switched(PvPlatform platform, MmuResult result) {}

    /**
     * {@code MMUEXT_PIN_L4_TABLE} as a 64-bit PV guest issues it (Linux {@code xen_pgd_pin} pins the kernel's L4 and
     * its user L4): the tables not yet validated get adjust_guest's U/S (Xen does it while validating them), the L4 is
     * pinned, then a user L4 holding the user half is made from the pool and pinned.
     */
    private Pinned pinL4(long mfn) {
        DirectPagingState s = adjustTree(xen, mfn, 4);
        MmuResult r = DirectPaging.pin(s, VCPU.domain(), mfn, PageType.L4);
        if (!(r instanceof MmuResult.Success ok)) {
            return new Pinned(this, r);
        }
        if (nextPool >= frames + POOL) {
            return new Pinned(this, new MmuResult.Refused(Errno.ENOMEM, "MX-1", "no frame left for a user L4"));
        }
        long user = nextPool;
        DirectPagingState u = ok.state();
        for (int i = 0; i < USER_HALF; i++) {
            Entry e = u.entry(mfn, i);
            if (e.present()) {
                u = u.write(user, i, e);
            }
        }
        MmuResult ur = DirectPaging.pin(u, VCPU.domain(), user, PageType.L4);
        if (!(ur instanceof MmuResult.Success uok)) {
            return new Pinned(this, ur);
        }
        SortedMap<Long, Long> t = new TreeMap<>(userTables);
        t.put(mfn, user);
        PvPlatform p = new PvPlatform(uok.state(), hw.withMemory(uok.state().memory()), cpl, kernelRoot, t,
                nextPool + 1, frames, cr2, events);
        return new Pinned(p, ur);
    }

    /** adjust_guest on every present entry of the tables below {@code mfn} that are not validated yet. */
    private static DirectPagingState adjustTree(DirectPagingState s, long mfn, int level) {
        if (!s.isFrame(mfn) || s.frame(mfn).typeCount() > 0) {
            return s;
        }
        for (int i = 0; i < 512; i++) {
            Entry e = s.entry(mfn, i);
            if (!e.present()) {
                continue;
            }
            s = s.write(mfn, i, adjust(e));
            if (level > 1 && !e.pageSize()) {
                s = adjustTree(s, e.frame(), level - 1);
            }
        }
        return s;
    }

    /** MMUEXT_NEW_BASEPTR (MX-3) with its user L4: the kernel's CR3 if the guest is in the kernel. */
    private Switched newBase(long mfn) {
        MmuResult r = DirectPaging.newBaseptr(xen, VCPU, mfn);
        if (!(r instanceof MmuResult.Success) || !userTables.containsKey(mfn)) {
            return new Switched(this, r instanceof MmuResult.Success
                    ? new MmuResult.Refused(Errno.EINVAL, "MX-3", "no user L4 for " + mfn) : r);
        }
        PvPlatform p = new PvPlatform(xen, hw, cpl, mfn, userTables, nextPool, frames, cr2, events).apply(r);
        return new Switched(p, r);
    }

    /** Applies a direct-paging result: its state, and the TLB effects Xen performs for the caller. */
    private PvPlatform apply(MmuResult r) {
        if (!(r instanceof MmuResult.Success ok)) {
            return this;
        }
        PvPlatform p = withXen(ok.state());
        for (Effect e : ok.effects()) {
            if (e instanceof Effect.LoadBase) {
                if (p.cpl == 0) {
                    p = p.loadCr3(p.kernelRoot);
                }
            } else if (e instanceof Effect.FlushLocal || e instanceof Effect.FlushDomain) {
                p = p.withHw(p.hw.withTlb(p.hw.tlb().invalidateVpid(0))).count(PvEvents.FLUSH_FULL, 1);
            } else if (e instanceof Effect.InvlpgLocal i) {
                p = p.withHw(p.hw.withTlb(p.hw.tlb().invalidatePage(0, 0, i.linear()))).count(PvEvents.FLUSH_PAGE, 1);
            } else if (e instanceof Effect.InvlpgDomain i) {
                p = p.withHw(p.hw.withTlb(p.hw.tlb().invalidatePage(0, 0, i.linear()))).count(PvEvents.FLUSH_PAGE, 1);
            }
        }
        return p;
    }

    /** Xen loads CR3 (from ring 0): a page-table switch, and with no global pages a full TLB flush. */
    private PvPlatform loadCr3(long mfn) {
        X86Machine ring0 = hw.withCpu(hw.cpu().withCpl(0));
        InstructionStep s = Processor.movToCr3(ring0, Layout.entry(mfn, 0));
        if (!(s.outcome() instanceof InstructionOutcome.Retired)) {
            throw new IllegalStateException("Xen could not load CR3 with " + mfn + ": " + s.outcome());
        }
        X86Machine back = s.machine().withCpu(s.machine().cpu().withCpl(3));
        return withHw(back).count(PvEvents.CR3_SWITCH, 1).count(PvEvents.FLUSH_FULL, 1);
    }

    /** A trap through Xen, bounced to the guest kernel: from user mode it switches to the kernel's L4. */
    private PvPlatform bounce(String kind) {
        PvPlatform p = count(kind, 1);
        if (cpl == 3) {
            p = new PvPlatform(p.xen, p.hw, 0, p.kernelRoot, p.userTables, p.nextPool, p.frames, p.cr2, p.events)
                    .loadCr3(p.kernelRoot);
        }
        return p;
    }

    // ---- ring transitions ------------------------------------------------------------------------------------------

    /**
     * A ring transition of the guest. To user mode: {@code HYPERVISOR_iret} (x86-64 PV returns to user through Xen),
     * which switches to the user L4. To the kernel: the entry traps to Xen (SYSCALL lands in Xen's entry point, an
     * interrupt or exception in Xen's IDT), which switches to the kernel's L4 and bounces to the guest's callback.
     */
    @Override
    public Platform withCpl(int c) {
        if (c == cpl) {
            return this;
        }
        if (c == 3) {
            PvPlatform p = count(PvEvents.HYPERCALL + "iret", 1);
            p = new PvPlatform(p.xen, p.hw, 3, p.kernelRoot, p.userTables, p.nextPool, p.frames, p.cr2, p.events);
            return p.loadCr3(userTables.get(kernelRoot));
        }
        return bounce(PvEvents.TRAP_ENTRY);
    }

    @Override
    public int cpl() {
        return cpl;
    }

    @Override
    public Platform wake() {
        return this;
    }

    /** One processor: the PV platform runs the one-CPU kernel (the SMP kernel is the hybrid one, docs/smp.md). */
    @Override
    public int cpus() {
        return 1;
    }

    @Override
    public int cpu() {
        return 0;
    }

    @Override
    public Platform onCpu(int next) {
        org.hybridv.x86.Checks.inRange("CPU", next, 0, 0);
        return this;
    }

    @Override
    public String name() {
        return "PV";
    }

    /** The L4 the processor walks now: the kernel's or, in user mode, its user L4. */
    public long hardwareRoot() {
        return hw.cpu().cr3().pml4Frame();
    }

    /** The user L4 of the current address space. */
    public long userRoot() {
        return userTables.get(kernelRoot);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private PvPlatform count(String kind, int n) {
        return new PvPlatform(xen, hw, cpl, kernelRoot, userTables, nextPool, frames, cr2, events.plus(kind, n));
    }

    private PvPlatform withHw(X86Machine m) {
        return new PvPlatform(xen.withMemory(m.memory()), m, cpl, kernelRoot, userTables, nextPool, frames, cr2,
                events);
    }

    private PvPlatform withXen(DirectPagingState s) {
        return new PvPlatform(s, hw.withMemory(s.memory()), cpl, kernelRoot, userTables, nextPool, frames, cr2,
                events);
    }

    private static Observed gp() {
        return new Observed.Fault(GeneralProtection.VECTOR, 0, 0);
    }

    private Executed done(GuestInstruction insn, Hypercall regs, PvPlatform after, Observed o) {
        return new Executed(insn, regs, this, after, o, ExitCount.NONE, java.util.Optional.empty());
    }

    /** The user L4 of each pinned kernel L4, for tests. */
    public Map<Long, Long> userL4s() {
        return userTables;
    }

    /** The software-only PV platform models no time and no events (see the class comment): nothing changes. */
    @Override
    public Platform advanceTime(long ticks) {
        return this;
    }

    /** No event is ever delivered here. */
    @Override
    public int interruptsDelivered() {
        return 0;
    }

    @Override
    public Platform interruptReturn() {
        return this;
    }
}
