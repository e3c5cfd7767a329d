package org.hybridv.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageFault;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;

/**
 * The hybrid kernel: {@code post = apply(pre, op)} turns one workload operation into instructions on the platform,
 * reacting to what they return as a kernel does (demand paging, killing a process, oopsing). Which instructions it
 * uses for the MMU follows {@link PvOps}: plain stores, MOV to CR3 and INVLPG natively, in shadow mode and under HAP;
 * {@code mmu_update}, {@code update_va_mapping} and {@code mmuext_op} once SWITCH_MMU has been accepted.
 */
public final class Kernel {
    private Kernel() {}

    /** CR0 as the kernel sets it in protected mode: PE (SDM Vol. 3A §9.9.1). */
    static final long CR0_PROTECTED = 1L << Cr0.PE_BIT;
    /** CR0 in long mode: PE, WP (Linux always sets it), PG (SDM §9.8.5 step 4). */
    static final long CR0_LONG = CR0_PROTECTED | (1L << Cr0.WP_BIT) | (1L << Cr0.PG_BIT);
    /** CR4 for IA-32e paging: PAE (SDM §9.8.5 step 1). */
    static final long CR4_LONG = 1L << Cr4.PAE_BIT;
    /** IA32_EFER.LME (SDM §9.8.5 step 3). */
    static final long EFER_LONG = 1L << Efer.LME_BIT;

    /** Applies {@code op} to {@code pre}. */
    public static KernelStep apply(GuestSystem pre, GuestOp op) {
        Checks.notNull("system", pre);
        Checks.notNull("operation", op);
        Run r = new Run(pre);
        int cpu = op instanceof GuestOp.OnCpu o ? o.cpu() : 0;
        GuestOp inner = op instanceof GuestOp.OnCpu o ? o.op() : op;
        KernelResult result;
        if (cpu >= r.platform.cpus() || !r.kernel.online(cpu)) {
            result = new KernelResult.NotApplicable("CPU " + cpu + " is not online");
        } else {
            r.onCpu(cpu);
            result = dispatch(r, inner);
        }
        return new KernelStep(op, new GuestSystem(r.kernel, r.platform), result, r.trace);
    }

    private static KernelResult dispatch(Run r, GuestOp op) {
        if (op instanceof GuestOp.Boot b) {
            return boot(r, b.target());
        }
        if (op instanceof GuestOp.SwitchMmu s) {
            return switchMmu(r, s);
        }
        if (!r.kernel.stage().pagingOn()) {
            return new KernelResult.NotApplicable("the kernel is still in " + r.kernel.stage() + " mode");
        }
        if (op instanceof GuestOp.StartAp a) {
            return startAp(r, a.cpu());
        }
        if (op instanceof GuestOp.NewProcess) {
            return newProcess(r);
        }
        if (op instanceof GuestOp.SwitchTo s) {
            return switchTo(r, s.pid());
        }
        if (op instanceof GuestOp.Map m) {
            return map(r, m.page(), m.writable());
        }
        if (op instanceof GuestOp.Unmap u) {
            return unmap(r, u.page());
        }
        if (op instanceof GuestOp.UserAccess a) {
            return userAccess(r, a.linear(), a.kind(), a.value());
        }
        if (op instanceof GuestOp.KernelAccess a) {
            Observed o = r.exec(new GuestInstruction.MemoryAccess(access(a.linear(), a.kind(), a.value())));
            return o instanceof Observed.Value v ? new KernelResult.Read(v.value())
                    : new KernelResult.Oops("kernel access " + Hex.of(a.linear()) + ": " + o);
        }
        if (op instanceof GuestOp.Syscall) {
            return syscall(r);
        }
        if (op instanceof GuestOp.Idle i && i.ticks() > 0) {
            return KernelTimer.idle(r, i);
        }
        if (op instanceof GuestOp.TimerTick t) {
            return KernelTimer.tick(r, t);
        }
        if (op instanceof GuestOp.Idle) {
            Observed o = r.exec(new GuestInstruction.Hlt());
            r.platform = r.platform.wake();
            return o instanceof Observed.Idle ? new KernelResult.Idled() : new KernelResult.Oops("HLT: " + o);
        }
        if (op instanceof GuestOp.BlockRead b) {
            return BlockFront.transfer(r, b.sector(), false, 0);
        }
        if (op instanceof GuestOp.BlockWrite b) {
            return BlockFront.transfer(r, b.sector(), true, b.value());
        }
        throw new IllegalArgumentException("unknown operation " + op);
    }

    // ---- boot ------------------------------------------------------------------------------------------------------

    /** Boot stage by stage until {@code target}, or until a stage does not advance. */
    static KernelResult boot(Run r, BootStage target) {
        while (r.kernel.stage() != target && !r.kernel.stage().next().isEmpty()) {
            BootStage before = r.kernel.stage();
            KernelResult failed = bootStep(r);
            if (failed != null) {
                return failed;
            }
            if (r.kernel.stage() == before) {
                break;
            }
        }
        return new KernelResult.Booted(r.kernel.stage());
    }

    /** One boot transition; null when it went as planned (the stage may still be unchanged: SWITCH_MMU refused). */
    private static KernelResult bootStep(Run r) {
        switch (r.kernel.stage()) {
            case REAL: {
                // SDM §9.9.1: set CR0.PE (the model has no segmentation to load).
                Observed o = r.exec(new GuestInstruction.MovToCr(0, CR0_PROTECTED, 0));
                return advanceIf(r, o, BootStage.PROTECTED, "MOV to CR0.PE");
            }
            case PROTECTED: {
                // SDM §9.8.5: with paging off, 1. CR4.PAE = 1, 2. CR3 = the PML4, 3. EFER.LME = 1, 4. CR0.PG = 1.
                GuestInstruction[] seq = {new GuestInstruction.MovToCr(4, CR4_LONG, 0),
                    new GuestInstruction.MovToCr(3, Layout.entry(r.kernel.frameOf(Layout.EARLY_L4), 0), 0),
                    new GuestInstruction.Wrmsr(Efer.MSR_INDEX, EFER_LONG),
                    new GuestInstruction.MovToCr(0, CR0_LONG, 0)};
                for (GuestInstruction i : seq) {
                    Observed o = r.exec(i);
                    if (!(o instanceof Observed.Value)) {
                        return new KernelResult.Oops("entering long mode: " + i + ": " + o);
                    }
                }
                Observed o = r.exec(new GuestInstruction.MemoryAccess(Access.write(Layout.CURRENT_VAR, 0)));
                return advanceIf(r, o, BootStage.LONG, "first write to kernel data");
            }
            case LONG: {
                // BOOT-2: leaf 1 ECX[31], then the scan of 0x40000000..0x4000FF00 (HypervisorDetection).
                HypervisorDetection.Result found = HypervisorDetection.scan(r, true);
                if (found.found() == HypervisorDetection.Found.KVM) {
                    return KvmGuest.enable(r, found.base());
                }
                r.kernel = r.kernel.withStage(found.found() == HypervisorDetection.Found.XEN
                        ? BootStage.HYPERVISOR_DETECTED : BootStage.NATIVE);
                return null;
            }
            case HYPERVISOR_DETECTED: {
                // Linux init_hvm_pv_info: xen_cpuid_base() again, then leaf base+2: EAX = number of hypercall pages,
                // EBX = the MSR that installs them (BOOT-2, BOOT-3).
                HypervisorDetection.Result xen = HypervisorDetection.scan(r, false);
                if (xen.found() != HypervisorDetection.Found.XEN) {
                    return new KernelResult.Oops("Xen's CPUID leaves are gone: " + xen);
                }
                Observed o = r.exec(new GuestInstruction.Cpuid(xen.base() + 2, 0));
                if (!(o instanceof Observed.Cpuid c) || c.eax() < 1) {
                    return new KernelResult.Oops("CPUID " + Hex.of(xen.base() + 2) + ": " + o);
                }
                Observed w = r.exec(new GuestInstruction.Wrmsr(c.ebx(),
                        Layout.entry(r.kernel.frameOf(Layout.HYPERCALL_PAGE), 0)));
                KernelResult page = advanceIf(r, w, BootStage.HYPERCALL_PAGE_INSTALLED, "WRMSR hypercall page");
                // BOOT-8: the event channels' upcall and the timer's VIRQ, once hypercalls may be made
                return page != null ? page : KernelTimer.setUpEvents(r);
            }
            case HYPERCALL_PAGE_INSTALLED: {
                KernelResult s = switchMmu(r, GuestOp.SwitchMmu.kernelBuilt());
                return s instanceof KernelResult.Switched || s instanceof KernelResult.SwitchRefused ? null : s;
            }
            default:
                return null;
        }
    }

    private static KernelResult advanceIf(Run r, Observed o, BootStage next, String what) {
        if (!(o instanceof Observed.Value)) {
            return new KernelResult.Oops(what + ": " + o);
        }
        r.kernel = r.kernel.withStage(next);
        return null;
    }

    // ---- application processors ------------------------------------------------------------------------------------

    /**
     * Brings up application processor {@code ap} from the boot CPU (Linux {@code do_boot_cpu}): the INIT and startup
     * IPIs (Intel SDM Vol. 3A §8.4.4.1; not modelled — there is no local APIC: the AP is simply the next to execute),
     * then the AP's trampoline: protected mode (§9.9.1), then long mode on the kernel's own tables (§9.8.5 steps 1–4,
     * CR3 = the kernel's L4, as Linux's trampoline loads its kernel page table), then its {@code current} = 0. Under
     * the hypervisor the AP is the domain's vCPU {@code ap} on its own pCPU; its paging-off instructions are emulated
     * (BOOT-1) and turning paging on builds its shadow, or in direct mode validates the L4 (MX-3).
     */
    static KernelResult startAp(Run r, int ap) {
        if (ap >= r.platform.cpus() || r.kernel.online(ap)) {
            return new KernelResult.NotApplicable("CPU " + ap + " does not exist or is online already");
        }
        int self = r.cpu;
        r.onCpu(ap);
        GuestInstruction[] seq = {new GuestInstruction.MovToCr(0, CR0_PROTECTED, 0),
            new GuestInstruction.MovToCr(4, CR4_LONG, 0),
            new GuestInstruction.MovToCr(3, Layout.entry(r.kernel.frameOf(r.kernel.kernel().l4()), 0), 0),
            new GuestInstruction.Wrmsr(Efer.MSR_INDEX, EFER_LONG), new GuestInstruction.MovToCr(0, CR0_LONG, 0)};
        for (GuestInstruction i : seq) {
            Observed o = r.exec(i);
            if (!(o instanceof Observed.Value)) {
                r.onCpu(self);
                return new KernelResult.Oops("CPU " + ap + " entering long mode: " + i + ": " + o);
            }
        }
        r.kernel = r.kernel.withCurrent(ap, 0);
        KernelResult bad = r.store(Layout.currentVar(ap), 0);
        r.onCpu(self);
        return bad != null ? bad : new KernelResult.Done();
    }

    // ---- processes and mappings ------------------------------------------------------------------------------------

    /**
     * Fork-like: new tables (PML4 sharing the kernel's direct map, a path to the user region), no user pages yet;
     * the next pid (KRN-2).
     */
    static KernelResult newProcess(Run r) {
        KernelState k = r.kernel;
        long[] f = r.allocate(4);
        if (f == null) {
            return new KernelResult.Oops("out of memory: no frames for a new process");
        }
        Tables t = new Tables(f[0], f[1], f[2], f[3]);
        long user = Layout.P | Layout.RW | Layout.US;
        // The new frames are not page tables yet: ordinary stores in every mode.
        long[][] writes = {{t.l2(), Layout.USER_L2_INDEX, Layout.entry(k.frameOf(t.l1()), user)},
            {t.l3(), 0, Layout.entry(k.frameOf(t.l2()), user)}, {t.l4(), 0, Layout.entry(k.frameOf(t.l3()), user)},
            {t.l4(), Layout.DIRECT_MAP_SLOT, Layout.entry(k.frameOf(k.kernel().l3()), Layout.P | Layout.RW)}};
        for (long[] w : writes) {
            KernelResult bad = r.store(Layout.directMap(w[0]) + w[1] * 8, w[2]);
            if (bad != null) {
                return bad;
            }
        }
        if (PvOps.pinPageTables(k.stage(), r.platform)) {
            KernelResult bad = r.allocPageTables(t.frames());
            if (bad != null) {
                return bad;
            }
            bad = r.pinL4(t.l4());
            if (bad != null) {
                return bad;
            }
        }
        int pid = r.kernel.nextPid();
        SortedSet<Long> pts = new TreeSet<>(r.kernel.pageTables());
        pts.addAll(t.frames());
        r.kernel = r.kernel.withProcess(new Process(pid, t, new TreeMap<>(), false)).withPageTables(pts);
        return new KernelResult.Created(pid);
    }

    /** Context switch: {@code write_cr3}, then {@code current = pid} (KRN-3). */
    static KernelResult switchTo(Run r, int pid) {
        KernelState k = r.kernel;
        if (pid != 0 && (k.process(pid) == null || k.process(pid).killed())) {
            return new KernelResult.NotApplicable("no runnable process " + pid);
        }
        long cr3 = Layout.entry(k.frameOf(k.tables(pid).l4()), 0);
        Observed o = r.exec(new GuestInstruction.MovToCr(3, cr3, 0));
        if (!(o instanceof Observed.Value)) {
            return new KernelResult.Oops("write_cr3 " + Hex.of(cr3) + ": " + o);
        }
        r.kernel = r.kernel.withCurrent(r.cpu, pid);
        KernelResult bad = r.store(Layout.currentVar(r.cpu), pid);
        return bad != null ? bad : new KernelResult.Done();
    }

    /** Maps user page {@code page} of the current process in a fresh frame, with the permission asked (KRN-4). */
    static KernelResult map(Run r, int page, boolean writable) {
        Process p = r.currentProcess();
        if (p == null || page < 0 || page >= Layout.USER_PAGES || p.pages().containsKey(page)) {
            return new KernelResult.NotApplicable("map " + page + ": no current process, or mapped already");
        }
        return mapPage(r, p, page, writable);
    }

    private static KernelResult mapPage(Run r, Process p, int page, boolean writable) {
        long[] f = r.allocate(1);
        if (f == null) {
            return new KernelResult.Oops("out of memory: no frame for user page " + page);
        }
        long flags = Layout.P | Layout.US | (writable ? Layout.RW : 0);
        KernelResult bad = r.setPte(p.tables().l1(), page, Layout.entry(r.kernel.frameOf(f[0]), flags));
        if (bad != null) {
            return bad;
        }
        r.kernel = r.kernel.withProcess(p.withPage(page, new Process.UserPage(f[0], writable)));
        return new KernelResult.Done();
    }

    /** Unmaps user page {@code page} of the current process from every CPU's view (KRN-4). */
    static KernelResult unmap(Run r, int page) {
        Process p = r.currentProcess();
        if (p == null || !p.pages().containsKey(page)) {
            return new KernelResult.NotApplicable("unmap " + page + ": not mapped");
        }
        KernelResult bad = r.setPte(p.tables().l1(), page, 0);
        if (bad != null) {
            return bad;
        }
        Observed o = r.exec(new GuestInstruction.Invlpg(Layout.userPage(page)));
        if (!(o instanceof Observed.Value)) {
            return new KernelResult.Oops("INVLPG: " + o);
        }
        bad = flushOthers(r, p.pid(), Layout.userPage(page));
        if (bad != null) {
            return bad;
        }
        r.kernel = r.kernel.withProcess(p.withPage(page, null));
        return new KernelResult.Done();
    }

    /**
     * The cross-CPU part of an unmap (Linux {@code flush_tlb_mm_range}: the local INVLPG done, the other CPUs of the
     * address space's {@code mm_cpumask} are flushed with {@code flush_tlb_multi}): every other online CPU that has
     * {@code pid}'s tables loaded may cache {@code linear}. A CPU that loaded other tables since holds nothing of it:
     * a MOV to CR3 invalidates the non-global translations (Intel SDM Vol. 3A §4.10.4.1; with VPIDs, those of the
     * current VPID). Natively, in shadow mode and under HAP, an IPI whose handler executes INVLPG on that CPU (the
     * IPI's delivery is not modelled: there is no local APIC; under the hypervisor the handler's INVLPG exits in
     * shadow mode, SH-4, and not under HAP). In direct mode one {@code mmuext_op MMUEXT_INVLPG_MULTI} with the mask of
     * those vCPUs (Linux {@code xen_flush_tlb_multi}; Xen rule MX-7). Null when done, an oops otherwise.
     */
    static KernelResult flushOthers(Run r, int pid, long linear) {
        List<Integer> others = new ArrayList<>();
        for (int c : r.kernel.onlineCpus()) {
            if (c != r.cpu && r.kernel.current(c) == pid) {
                others.add(c);
            }
        }
        if (others.isEmpty()) {
            return null;
        }
        if (PvOps.flushMulti(r.kernel.stage()) == PvOps.FlushOthers.INVLPG_MULTI) {
            long mask = 0;
            for (int c : others) {
                mask |= 1L << c;
            }
            Observed o = r.hypercall(org.hybridv.xen.Hypercall.mmuextMulti(Hypercalls.MMUEXT_INVLPG_MULTI, linear,
                    mask));
            return o instanceof Observed.Value v && v.value() == 0 ? null
                    : new KernelResult.Oops("mmuext_op INVLPG_MULTI " + Hex.of(linear) + ": " + o);
        }
        int self = r.cpu;
        for (int c : others) {
            r.onCpu(c);
            Observed o = r.exec(new GuestInstruction.Invlpg(linear));
            r.onCpu(self);
            if (!(o instanceof Observed.Value)) {
                return new KernelResult.Oops("INVLPG on CPU " + c + " (flush IPI): " + o);
            }
        }
        return null;
    }

    /**
     * A user-mode access. On #PF the kernel's handler reads CR2 (SDM Vol. 3A §6.15: the faulting linear address) and
     * the error code: a not-present fault in the user region is demand-paged (a writable page) and the access
     * retried; anything else kills the process (KRN-5).
     */
    static KernelResult userAccess(Run r, long linear, AccessKind kind, long value) {
        Process p = r.currentProcess();
        if (p == null) {
            return new KernelResult.NotApplicable("no user process is current");
        }
        Observed o = r.userExec(access(linear, kind, value));
        if (o instanceof Observed.Value v) {
            return new KernelResult.Read(v.value());
        }
        if (!o.isPageFault()) {
            return kill(r, p, o);
        }
        Observed.Fault pf = (Observed.Fault) o;
        Observed cr2 = r.exec(new GuestInstruction.MovFromCr(2, 0));
        long address = cr2 instanceof Observed.Value v ? v.value() : -1;
        int page = Layout.userPageOf(address);
        boolean notPresent = (pf.errorCode() & 1) == 0;
        if (!notPresent || page < 0 || p.pages().containsKey(page)) {
            return kill(r, p, new Observed.Fault(PageFault.VECTOR, pf.errorCode(), address));
        }
        KernelResult bad = mapPage(r, p, page, true);
        if (bad instanceof KernelResult.Oops) {
            return bad;
        }
        Observed again = r.userExec(access(linear, kind, value));
        return again instanceof Observed.Value v ? new KernelResult.Read(v.value())
                : kill(r, r.currentProcess(), again);
    }

    /** SIGSEGV: the process dies and the CPU moves to the kernel's own tables (the scheduler picks the idle task). */
    private static KernelResult kill(Run r, Process p, Observed why) {
        r.kernel = r.kernel.withProcess(p.kill());
        int self = r.cpu;
        for (int c : r.kernel.onlineCpus()) {
            // the process's other threads die with it: a CPU running it moves to the kernel's tables too
            if (c != self && r.kernel.current(c) == p.pid()) {
                r.onCpu(c);
                KernelResult other = switchTo(r, 0);
                r.onCpu(self);
                if (!(other instanceof KernelResult.Done)) {
                    return other;
                }
            }
        }
        KernelResult bad = switchTo(r, 0);
        return bad instanceof KernelResult.Done ? new KernelResult.Killed(p.pid(), why) : bad;
    }

    /** getpid(): SYSCALL, read {@code current} in kernel mode, SYSRET — ring transitions only, no exit (KRN-6). */
    static KernelResult syscall(Run r) {
        r.platform = r.platform.withCpl(3).withCpl(0);
        Observed o = r.exec(new GuestInstruction.MemoryAccess(Access.read(Layout.currentVar(r.cpu))));
        r.platform = r.platform.withCpl(3).withCpl(0);
        return o instanceof Observed.Value v ? new KernelResult.Read(v.value())
                : new KernelResult.Oops("getpid: " + o);
    }

    private static Access access(long linear, AccessKind kind, long value) {
        return kind == AccessKind.WRITE ? Access.write(linear, value) : Access.of(linear, kind);
    }

    // ---- SWITCH_MMU ------------------------------------------------------------------------------------------------

    /**
     * SWITCH_MMU as the hybrid kernel prepares it (PRE-2, POST-3): read the p2m
     * ({@code XENMEM_translate_gpfn_list}, one frame per call), build new tables holding machine frame numbers for
     * exactly the mappings it has now — the direct map with 4-KByte pages only and every new page-table frame
     * read-only (L1-3), each live process's user mappings — and issue SWITCH_MMU with the root of the current
     * address space. On acceptance the other roots are pinned and the kernel uses the direct-paging pv-ops from then
     * on. The tables are built with ordinary stores: they are not page tables until the switch.
     */
    static KernelResult switchMmu(Run r, GuestOp.SwitchMmu op) {
        KernelState k = r.kernel;
        if (!op.force() && k.stage() != BootStage.HYPERCALL_PAGE_INSTALLED) {
            return new KernelResult.NotApplicable("SWITCH_MMU in stage " + k.stage());
        }
        if (op.root() == SwitchRoot.EXPLICIT) {
            return issueSwitch(r, op, op.explicitRoot(), null);
        }
        if (!k.stage().pagingOn()) {
            return new KernelResult.NotApplicable("cannot build tables in " + k.stage() + " mode");
        }
        List<Long> p2m = new ArrayList<>();
        for (long pfn = 0; pfn < k.frames(); pfn++) {
            Observed o = r.hypercall(Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, Hypercalls.XENMEM_TRANSLATE_GPFN_LIST,
                    k.frameOf(pfn)));
            if (!(o instanceof Observed.Value v) || v.value() < 0) {
                return new KernelResult.SwitchRefused("p2m lookup of pfn " + Hex.of(pfn) + ": " + o);
            }
            p2m.add(((Observed.Value) o).value());
        }
        List<Process> live = k.processes().values().stream().filter(p -> !p.killed()).toList();
        long[] f = r.reserve(4 * (1 + live.size()));
        if (f == null) {
            return new KernelResult.Oops("the SWITCH_MMU reserve (" + Layout.SWITCH_RESERVE + " frames) is too small for "
                    + live.size() + " processes");
        }
        Tables kt = new Tables(f[0], f[1], f[2], f[3]);
        SortedMap<Integer, Process> processes = new TreeMap<>(k.processes());
        SortedSet<Long> pts = new TreeSet<>(kt.frames());
        for (int i = 0; i < live.size(); i++) {
            Tables t = new Tables(f[4 + 4 * i], f[5 + 4 * i], f[6 + 4 * i], f[7 + 4 * i]);
            processes.put(live.get(i).pid(), live.get(i).withTables(t));
            pts.addAll(t.frames());
        }
        Tables rootTables = k.current() == 0 ? kt : processes.get(k.current()).tables();
        List<long[]> writes = directPagingTables(r.kernel.frames(), p2m, kt, processes, pts, rootTables.l4(), op);
        for (long[] w : writes) {
            KernelResult bad = r.store(Layout.directMap(w[0]) + w[1] * 8, w[2]);
            if (bad != null) {
                return bad;
            }
        }
        KernelResult result = issueSwitch(r, op, p2m.get((int) rootTables.l4()), new Prepared(p2m, kt, processes,
                pts));
        if (result instanceof KernelResult.SwitchRefused) {
            // Give the reserve back clean: clear every entry written, so the next attempt starts from zeroed frames.
            for (long[] w : writes) {
                KernelResult bad = r.store(Layout.directMap(w[0]) + w[1] * 8, 0);
                if (bad != null) {
                    return bad;
                }
            }
            r.kernel = r.kernel.withSwitchNext(k.switchNext());
        }
        return result;
    }

    private record Prepared(List<Long> p2m, Tables kernel, SortedMap<Integer, Process> processes,
            SortedSet<Long> pageTables) {}

    /**
     * The new tables' entries as (pfn, index, value): the direct map (every frame, read-only if it is a new page
     * table), the kernel path, each live process's path and user pages, and the defect {@code op} asks for — in the
     * tables reachable from the root {@code rootL4} (the L4-level defects in the root itself).
     */
    static List<long[]> directPagingTables(int frames, List<Long> p2m, Tables kt, SortedMap<Integer, Process> ps,
            SortedSet<Long> pts, long rootL4, GuestOp.SwitchMmu op) {
        List<long[]> w = new ArrayList<>();
        for (long pfn = 0; pfn < frames; pfn++) {
            boolean ro = pts.contains(pfn) && !(op.root() == SwitchRoot.WRITABLE_PAGE_TABLE && pfn == kt.l1());
            w.add(new long[] {kt.l1(), pfn, Layout.entry(p2m.get((int) pfn), Layout.P | (ro ? 0 : Layout.RW))});
        }
        long rw = Layout.P | Layout.RW;
        w.add(new long[] {kt.l2(), 0, Layout.entry(p2m.get((int) kt.l1()), rw)});
        w.add(new long[] {kt.l3(), 0, Layout.entry(p2m.get((int) kt.l2()), rw)});
        w.add(new long[] {kt.l4(), Layout.DIRECT_MAP_SLOT, Layout.entry(p2m.get((int) kt.l3()), rw)});
        long user = rw | Layout.US;
        for (Process p : ps.values()) {
            if (p.killed()) {
                continue;
            }
            Tables t = p.tables();
            for (var e : p.pages().entrySet()) {
                long flags = Layout.P | Layout.US | (e.getValue().writable() ? Layout.RW : 0);
                w.add(new long[] {t.l1(), e.getKey(), Layout.entry(p2m.get((int) e.getValue().pfn()), flags)});
            }
            w.add(new long[] {t.l2(), Layout.USER_L2_INDEX, Layout.entry(p2m.get((int) t.l1()), user)});
            w.add(new long[] {t.l3(), 0, Layout.entry(p2m.get((int) t.l2()), user)});
            w.add(new long[] {t.l4(), 0, Layout.entry(p2m.get((int) t.l3()), user)});
            w.add(new long[] {t.l4(), Layout.DIRECT_MAP_SLOT, Layout.entry(p2m.get((int) kt.l3()), rw)});
        }
        switch (op.root()) {
            case SUPERPAGE -> w.add(new long[] {kt.l2(), 1, Layout.entry(p2m.get(0) & ~511L, rw | Layout.PS)});
            case FOREIGN_FRAME -> w.add(new long[] {kt.l1(), Layout.MAX_FRAMES - 1,
                Layout.entry(op.explicitRoot(), rw)});
            case XEN_SLOT -> w.add(new long[] {rootL4, 256, Layout.entry(p2m.get((int) kt.l3()), rw)});
            case WRITABLE_SELF_MAP -> w.add(new long[] {rootL4, 1, Layout.entry(p2m.get((int) rootL4), rw)});
            default -> {
            }
        }
        return w;
    }

    private static KernelResult issueSwitch(Run r, GuestOp.SwitchMmu op, long rootMfn, Prepared prepared) {
        Hypercall call = Hypercall.of(Hypercalls.HYPERVISOR_SWITCH_MMU, rootMfn);
        Observed o = op.fromUser() ? r.userHypercall(call) : r.hypercall(call);
        if (!(o instanceof Observed.Value v) || v.value() != 0) {
            return new KernelResult.SwitchRefused(o.toString());
        }
        if (prepared == null) {
            // An explicit root was accepted: the kernel's bookkeeping does not describe it. Only the stage moves.
            r.kernel = r.kernel.withStage(BootStage.DIRECT);
            return new KernelResult.Switched(rootMfn);
        }
        r.kernel = r.kernel.switched(prepared.p2m(), prepared.kernel(), prepared.processes(), prepared.pageTables());
        List<Tables> others = new ArrayList<>();
        if (r.kernel.current() != 0) {
            others.add(prepared.kernel());
        }
        for (Process p : prepared.processes().values()) {
            if (!p.killed() && p.pid() != r.kernel.current()) {
                others.add(p.tables());
            }
        }
        for (Tables t : others) {
            KernelResult bad = r.pinL4(t.l4());
            if (bad != null) {
                return bad;
            }
        }
        // Every vCPU resumed on the root (PRE-3); an AP that runs another address space reloads its own tables, now
        // pinned: write_cr3 on that CPU (MX-3), as after any change of its mm.
        for (int c : r.kernel.onlineCpus()) {
            if (c != 0 && r.kernel.current(c) != r.kernel.current()) {
                r.onCpu(c);
                KernelResult back = switchTo(r, r.kernel.current(c));
                r.onCpu(0);
                if (!(back instanceof KernelResult.Done)) {
                    return back;
                }
            }
        }
        return new KernelResult.Switched(rootMfn);
    }

    // ---- the running kernel's CPU ----------------------------------------------------------------------------------

    /** The state of one operation in progress: local to {@link #apply}, never shared. */
    static final class Run {
        KernelState kernel;
        Platform platform;
        /** The processor executing ({@link Platform#cpu}): the operation's, or another one's for a flush IPI. */
        int cpu;
        final List<Executed> trace = new ArrayList<>();

        Run(GuestSystem s) {
            kernel = s.kernel();
            platform = s.platform();
        }

        Observed exec(GuestInstruction insn) {
            return exec(insn, Hypercall.of(0));
        }

        Observed exec(GuestInstruction insn, Hypercall regs) {
            Executed e = platform.execute(insn, regs);
            trace.add(e);
            platform = e.platform();
            return e.observed();
        }

        Observed hypercall(Hypercall call) {
            return exec(new GuestInstruction.Vmcall(), call);
        }

        Observed userHypercall(Hypercall call) {
            platform = platform.withCpl(3);
            Observed o = hypercall(call);
            platform = platform.withCpl(0);
            return o;
        }

        /** A user-mode access: to CPL 3 (IRET/SYSRET), the access, back to CPL 0 (the next event enters the kernel). */
        Observed userExec(Access a) {
            platform = platform.withCpl(3);
            Observed o = exec(new GuestInstruction.MemoryAccess(a));
            platform = platform.withCpl(0);
            return o;
        }

        Process currentProcess() {
            int pid = kernel.current(cpu);
            return pid == 0 ? null : kernel.process(pid);
        }

        /** The next instructions execute on processor {@code c}. */
        void onCpu(int c) {
            platform = platform.onCpu(c);
            cpu = c;
        }

        /**
         * {@code n} fresh frames from the bump allocator (below the SWITCH_MMU reserve and the shared-info frame under
         * it, {@link Layout#sharedInfo}), or null.
         */
        long[] allocate(int n) {
            if (kernel.nextFree() + n > Layout.sharedInfo(kernel.frames())) { // below the shared-info frame
                return null;
            }
            long[] f = new long[n];
            for (int i = 0; i < n; i++) {
                f[i] = kernel.nextFree() + i;
            }
            kernel = kernel.withNextFree(kernel.nextFree() + n);
            return f;
        }

        /** {@code n} frames of the SWITCH_MMU reserve, or null. */
        long[] reserve(int n) {
            if (kernel.switchNext() + n > kernel.frames()) {
                return null;
            }
            long[] f = new long[n];
            for (int i = 0; i < n; i++) {
                f[i] = kernel.switchNext() + i;
            }
            kernel = kernel.withSwitchNext(kernel.switchNext() + n);
            return f;
        }

        /** A kernel store; null if it completed, an oops otherwise. */
        KernelResult store(long linear, long value) {
            Observed o = exec(new GuestInstruction.MemoryAccess(Access.write(linear, value)));
            return o instanceof Observed.Value ? null
                    : new KernelResult.Oops("store " + Hex.of(value) + " to " + Hex.of(linear) + ": " + o);
        }

        /** pv-op {@code set_pte}: entry {@code index} of table {@code pfn} := {@code value} ({@link PvOps}). */
        KernelResult setPte(long pfn, int index, long value) {
            if (PvOps.pteWrite(kernel.stage(), platform) == PvOps.PteWrite.STORE) {
                return store(Layout.directMap(pfn) + index * 8L, value);
            }
            long ptr = (kernel.frameOf(pfn) << 12) + index * 8L + Hypercalls.MMU_NORMAL_PT_UPDATE;
            return expectZero(hypercall(Hypercall.mmuUpdate(ptr, value)), "mmu_update " + Hex.of(ptr));
        }

        /** pv-op {@code alloc_pt}: make each new page-table frame read-only in the direct map (L1-3). */
        KernelResult allocPageTables(List<Long> pfns) {
            for (long pfn : pfns) {
                Observed o = hypercall(Hypercall.updateVaMapping(Layout.directMap(pfn),
                        Layout.entry(kernel.frameOf(pfn), Layout.P), Hypercalls.UVMF_INVLPG));
                KernelResult bad = expectZero(o, "update_va_mapping " + Hex.of(Layout.directMap(pfn)));
                if (bad != null) {
                    return bad;
                }
            }
            return null;
        }

        /** {@code MMUEXT_PIN_L4_TABLE} (Linux {@code xen_pgd_pin}). */
        KernelResult pinL4(long pfn) {
            return expectZero(hypercall(Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, kernel.frameOf(pfn))),
                    "pin L4 " + Hex.of(kernel.frameOf(pfn)));
        }

        private static KernelResult expectZero(Observed o, String what) {
            return o instanceof Observed.Value v && v.value() == 0 ? null : new KernelResult.Oops(what + ": " + o);
        }
    }
}
