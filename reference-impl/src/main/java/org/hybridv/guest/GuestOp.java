package org.hybridv.guest;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Checks;

/**
 * The operations a workload asks of the kernel (what scenario {@code kernel} steps and the properties generate). Each
 * becomes a short sequence of instructions on the platform ({@link Kernel#apply}).
 */
public sealed interface GuestOp {
    /** Boot until {@code target} is reached or boot cannot go further (NATIVE, a refused SWITCH_MMU). */
    record Boot(BootStage target) implements GuestOp {
        public Boot {
            Checks.notNull("target", target);
        }
    }

    /** Create a process (fork-like: new tables sharing the kernel half). */
    record NewProcess() implements GuestOp {}

    /** Context switch to {@code pid} (0: the kernel's own tables). */
    record SwitchTo(int pid) implements GuestOp {}

    /** Map user page {@code page} of the current process to a new frame. */
    record Map(int page, boolean writable) implements GuestOp {}

    /** Unmap user page {@code page} of the current process (and INVLPG it). */
    record Unmap(int page) implements GuestOp {}

    /** A user-mode access by the current process (CPL 3); a #PF is handled by the kernel (demand paging or kill). */
    record UserAccess(long linear, AccessKind kind, long value) implements GuestOp {}

    /** A kernel-mode access (CPL 0); a #PF is an oops. */
    record KernelAccess(long linear, AccessKind kind, long value) implements GuestOp {}

    /** A system call (getpid: reads {@code current} in kernel mode): ring transitions, no exit. */
    record Syscall() implements GuestOp {}

    /**
     * The idle loop. With {@code ticks} = 0: HLT, woken by an interrupt the model does not produce (the platform's
     * {@link Platform#wake}). With {@code ticks} &gt; 0 an idle period of that length on the boot CPU
     * ({@link KernelTimer#idle}): the kernel programs its timer to fire after {@code ticks}, idles until it does — with
     * {@code pv} and the hypervisor's PV interface set up, {@code SCHEDOP_block} instead of HLT — and handles the
     * timer's interrupt or event; {@code pv} false is a kernel configured not to use the PV timer and idle (Linux's
     * {@code xen_nopv}): the local APIC timer and HLT, as natively.
     */
    record Idle(long ticks, boolean pv) implements GuestOp {
        public Idle {
            Checks.inRange("idle ticks", ticks, 0, KernelTimer.MAX_TICKS);
            pv = pv || ticks == 0; // without a period there is no timer or idle to choose
        }

        /** HLT, woken without a timer (ticks 0). */
        public Idle() {
            this(0, true);
        }
    }

    /**
     * Bring up application processor {@code cpu} (the SMP kernel, docs/smp.md): from the boot CPU, the startup IPIs
     * (INIT, SIPI; Intel SDM Vol. 3A §8.4.4.1), then on the AP the same path to long mode as the boot CPU's, with the
     * kernel's own tables in CR3. The AP then runs the kernel's tables (current pid 0).
     */
    record StartAp(int cpu) implements GuestOp {
        public StartAp {
            Checks.inRange("CPU", cpu, 1, Loader.MAX_CPUS - 1);
        }
    }

    /**
     * Operation {@code op} executed on processor {@code cpu} (an online application processor, or 0: the boot CPU,
     * the same as {@code op} alone). Boot, SWITCH_MMU and AP bring-up are the boot CPU's, and do not nest.
     */
    record OnCpu(int cpu, GuestOp op) implements GuestOp {
        public OnCpu {
            Checks.inRange("CPU", cpu, 0, Loader.MAX_CPUS - 1);
            Checks.notNull("operation", op);
            if (op instanceof Boot || op instanceof SwitchMmu || op instanceof StartAp || op instanceof OnCpu) {
                throw new IllegalArgumentException(op + " runs on the boot CPU only");
            }
        }
    }

    /**
     * SWITCH_MMU with the tables the kernel builds for it ({@link SwitchRoot#KERNEL_BUILT}) or an unsuitable root
     * (the other {@link SwitchRoot}s; {@code explicitRoot} for {@link SwitchRoot#EXPLICIT}); {@code fromUser}: issued
     * at CPL 3; {@code force}: issued even if the kernel's boot stage says it must not be (before the hypercall page,
     * a second time) — what an adversarial or buggy kernel would do.
     */
    record SwitchMmu(SwitchRoot root, long explicitRoot, boolean fromUser, boolean force) implements GuestOp {
        public SwitchMmu {
            Checks.notNull("root", root);
        }

        public static SwitchMmu kernelBuilt() {
            return new SwitchMmu(SwitchRoot.KERNEL_BUILT, 0, false, false);
        }
    }

    /**
     * Read sector {@code sector} of the disk into a kernel buffer ({@link BlockFront}): through the split driver under
     * the Xen-like hypervisor once its hypercall page is installed and a back-end is configured, else by ATA PIO
     * (the device natively, emulated under a hypervisor). The kernel observes the sector's 64 words.
     */
    record BlockRead(long sector) implements GuestOp {}

    /** Write sector {@code sector} with the words {@code value + i} (i = 0..63) from a kernel buffer (as {@link BlockRead}). */
    record BlockWrite(long sector, long value) implements GuestOp {}

    /**
     * One timer tick on the boot CPU ({@link KernelTimer#tick}): the kernel programs its clock event device to fire
     * after {@code ticks} — under the hypervisor with {@code pv}, {@code VCPUOP_set_singleshot_timer}, else the local
     * APIC timer's initial count — time passes by {@code ticks} while it runs, and its handler takes the interrupt
     * (natively and with the emulated APIC: the timer's vector, then EOI or PV EOI; with PV: the event upcall,
     * clearing the pending bits in the shared-info page) and counts the tick. {@code pv} false: a kernel configured
     * not to use the PV timer (Linux's {@code xen_nopv}).
     */
    record TimerTick(long ticks, boolean pv) implements GuestOp {
        public TimerTick {
            Checks.inRange("timer ticks", ticks, 1, KernelTimer.MAX_TICKS);
        }
    }
}
