package org.hybridv.guest;

import org.hybridv.x86.Hex;

/** What a kernel operation returned — compared between the guest and its native twin by I3. */
public sealed interface KernelResult {
    record Done() implements KernelResult {}

    /** A new process. */
    record Created(int pid) implements KernelResult {}

    /** An access or system call returned {@code value}. */
    record Read(long value) implements KernelResult {
        @Override
        public String toString() {
            return "Read[" + Hex.of(value) + "]";
        }
    }

    /** A bad user access killed the process (SIGSEGV), with what the kernel received (a #PF with CR2, a #GP). */
    record Killed(int pid, Observed why) implements KernelResult {}

    /** A kernel-mode fault or a failed para-virtual operation: the kernel oopses (and carries on, for the model). */
    record Oops(String what) implements KernelResult {}

    /** Boot reached {@code stage}. */
    record Booted(BootStage stage) implements KernelResult {}

    /** SWITCH_MMU accepted. */
    record Switched(long root) implements KernelResult {}

    /** SWITCH_MMU refused: RAX, or what the instruction raised. */
    record SwitchRefused(String why) implements KernelResult {}

    /** The CPU idled and woke. */
    record Idled() implements KernelResult {}

    /** The operation does not apply (no such process, not booted far enough, no hypervisor …); nothing was done. */
    record NotApplicable(String why) implements KernelResult {}

    /** A block read returned sector {@code sector}'s words. */
    record Sector(long sector, java.util.List<Long> words) implements KernelResult {
        public Sector {
            words = java.util.List.copyOf(words);
        }
    }

    /**
     * A timer tick was handled: the kernel's tick count ({@code jiffies}) and its clock (the ticks accounted), read
     * back from its data page after the handler.
     */
    record Ticked(long jiffies, long clock) implements KernelResult {}
}
