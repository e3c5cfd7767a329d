package org.hybridv.guest;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.Hypercall;

/**
 * Where the kernel runs: bare metal ({@link NativePlatform}), a vCPU of the hypervisor ({@link XenPlatform}), or
 * software-only x86-64 PV without VMX ({@link PvPlatform}). The
 * kernel sees both only through instructions and what they return ({@code post = execute(pre, insn)}); it learns
 * which one it is on from CPUID, as a real kernel does.
 */
public sealed interface Platform permits NativePlatform, XenPlatform, PvPlatform {
    /** Executes one instruction; {@code regs} are the registers a VMCALL passes (ignored by other instructions). */
    Executed execute(GuestInstruction insn, Hypercall regs);

    default Executed execute(GuestInstruction insn) {
        return execute(insn, Hypercall.of(0));
    }

    /**
     * A ring transition: SYSCALL/SYSRET, IRET, an interrupt or exception delivered through the IDT. None of them
     * causes a VM exit in any configuration of this model (SDM Vol. 3C §25.1.2 lists the instructions that exit
     * unconditionally, §25.1.3 those that exit by control; SYSCALL, SYSRET and IRET are in neither), so the
     * transition is a change of CPL and costs no exit. The model does not execute the instructions themselves.
     */
    Platform withCpl(int cpl);

    /** The current privilege level. */
    int cpl();

    /**
     * An interrupt ends HLT (SDM Vol. 2A HLT: "an enabled interrupt … will resume execution"): the wake-up of the idle
     * loop without a timer period ({@link GuestOp.Idle} with 0 ticks, BOOT-6), whose interrupt the model does not
     * produce; a timed idle period is woken by its timer's event or interrupt ({@link #advanceTime}, BOOT-10). No
     * instruction, no exit.
     */
    Platform wake();

    /** The number of processors the kernel has: 1, or 2 for the SMP kernel (docs/smp.md, "The SMP hybrid kernel"). */
    int cpus();

    /** The processor that executes the next instruction (0: the boot CPU). */
    int cpu();

    /**
     * This platform with processor {@code cpu} executing from now on: another logical processor of the same machine
     * (memory shared, its own registers and TLB), or the domain's vCPU {@code cpu} under the hypervisor. Nothing is
     * executed: the kernel is already running there (or, for an AP being brought up, waiting for its startup IPI).
     *
     * @throws IllegalArgumentException for a processor the platform does not have (API misuse)
     */
    Platform onCpu(int cpu);

    /** A short name for reports: "native", "shadow", "direct", "HAP". */
    String name();

    /**
     * Time passes: {@code ticks} of the machine's clock, with no instruction executed (time advances only by this
     * explicit step: deterministic). Bare metal: the local APIC timer counts down ({@link LocalApic}); under the
     * hypervisor: machine time (TIME-1), which fires single-shot timers (VIRQ_TIMER) and the emulated APIC timers
     * (EMU-5). Delivery happens at the next instruction ({@link #interruptsDelivered}).
     */
    Platform advanceTime(long ticks);

    /**
     * The interrupts delivered through the IDT to the executing processor so far: its timer's vector natively, the
     * event upcall (EVT-9) and the emulated APIC timer's vector (EMU-5) under the hypervisor. The kernel's interrupt
     * handler runs when this grows (the instruction that grew it was the handler's first).
     */
    int interruptsDelivered();

    /**
     * IRET at the end of an interrupt handler: RFLAGS.IF, cleared by the delivery through an interrupt gate (SDM Vol.
     * 3A §6.12.1.3), is 1 again. No instruction exits (see {@link #withCpl}).
     */
    Platform interruptReturn();
}
