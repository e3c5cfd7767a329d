package org.hybridv.guest;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Processor;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.AtaDisk;
import org.hybridv.xen.Hypercall;

/**
 * The kernel on bare metal: the x86 layer's {@link Processor} with no VMX. The reference point of native
 * equivalence (I3): its memory is the guest's "physical" memory with the identity p2m.
 *
 * <p>With several logical processors (the SMP twin) they share the memory and each has its own registers and TLB
 * (Intel SDM Vol. 3A §4.10: the TLBs are per logical processor; §8.1: memory is shared): {@code machine} is the
 * executing processor's view — its registers and TLB with the shared memory — and {@code parked} holds the others'
 * registers and TLBs, as the hypervisor model's {@code XenMachine.processor()} is the active pCPU's view. An
 * application processor that has not been started waits at its reset state (SDM Vol. 3A §8.4: wait-for-SIPI).
 *
 * @param machine the executing processor, the memory and its TLB
 * @param cpu     the executing processor's index (0: the boot processor)
 * @param parked  the other processors' registers and TLBs, by index
 * @param disk    the ATA PIO disk at ports 1F0H–1F7H ({@link AtaDisk}, rule EMU-7: the device the hypervisor
 *                emulates is this one), shared by the processors
 * @param apic    the boot processor's local APIC timer ({@link LocalApic}; the kernel's clock event device is the
 *                boot CPU's)
 */
public record NativePlatform(X86Machine machine, int cpu, SortedMap<Integer, Parked> parked, AtaDisk disk,
        LocalApic apic)
        implements Platform {
    /** Exception vector of #UD (SDM Vol. 3A §6.15). */
    public static final int UD_VECTOR = 6;

    /** A logical processor that is not executing now: its registers and its TLB. */
    public record Parked(CpuState cpu, Tlb tlb) {
        public Parked {
            Checks.notNull("CPU state", cpu);
            Checks.notNull("TLB", tlb);
        }
    }

    public NativePlatform {
        Checks.notNull("machine", machine);
        Checks.notNull("disk", disk);
        Checks.notNull("local APIC", apic);
        Checks.notNull("parked processors", parked);
        parked = Collections.unmodifiableSortedMap(new TreeMap<>(parked));
        if (parked.containsKey(cpu) || cpu < 0 || cpu > parked.size()
                || !parked.isEmpty() && (parked.firstKey() < 0 || parked.lastKey() > parked.size())) {
            throw new IllegalArgumentException("processors must be numbered 0.." + parked.size() + ", executing "
                    + cpu + ", parked " + parked.keySet());
        }
    }

    /** One processor: the kernel on a uniprocessor machine. */
    public NativePlatform(X86Machine machine) {
        this(machine, 0, new TreeMap<>());
    }

    /** Processors sharing a disk as shipped ({@link AtaDisk#RESET}), the local APIC at its reset state. */
    public NativePlatform(X86Machine machine, int cpu, SortedMap<Integer, Parked> parked) {
        this(machine, cpu, parked, AtaDisk.RESET, LocalApic.RESET);
    }

    @Override
    public int cpus() {
        return 1 + parked.size();
    }

    @Override
    public Platform onCpu(int next) {
        Checks.inRange("CPU", next, 0, cpus() - 1);
        if (next == cpu) {
            return this;
        }
        SortedMap<Integer, Parked> p = new TreeMap<>(parked);
        Parked there = p.remove(next);
        p.put(cpu, new Parked(machine.cpu(), machine.tlb()));
        return new NativePlatform(machine.withCpu(there.cpu()).withTlb(there.tlb()), next, p, disk, apic);
    }

    @Override
    public Executed execute(GuestInstruction insn, Hypercall regs) {
        Checks.notNull("instruction", insn);
        if (this.cpu == 0 && apic.deliver() != apic) {
            // SDM Vol. 3A §6.6: a pending interrupt is taken at an instruction boundary, before the instruction; the
            // handler runs (the kernel's next instructions are its), and this instruction is the handler's first
            Executed e = new NativePlatform(machine, cpu, parked, disk, apic.deliver()).execute(insn, regs);
            return new Executed(insn, regs, this, e.platform(), e.observed(), e.exits(), e.hv());
        }
        CpuState cpu = machine.cpu();
        if (insn instanceof GuestInstruction.MemoryAccess a) {
            AccessStep s = Processor.access(machine, a.access());
            AccessOutcome o = s.outcome();
            if (o instanceof AccessOutcome.Completed c) {
                return done(insn, regs, s.machine(), new Observed.Value(c.value()));
            }
            if (o instanceof PageFault pf) {
                return done(insn, regs, s.machine(), new Observed.Fault(PageFault.VECTOR, pf.errorCode().bits(),
                        pf.linearAddress()));
            }
            return done(insn, regs, s.machine(), gp());
        }
        if (insn instanceof GuestInstruction.Cpuid) {
            // No hypervisor: leaf 1 ECX bit 31 is 0 and leaf 0x40000000 carries no signature. The model's bare
            // processor reports no other feature either: every leaf reads as zeros.
            return done(insn, regs, machine, new Observed.Cpuid(0, 0, 0, 0));
        }
        if (insn instanceof GuestInstruction.Vmcall) {
            // SDM Vol. 3C §30.3 VMCALL: #UD outside VMX operation.
            return done(insn, regs, machine, new Observed.Fault(UD_VECTOR, 0, 0));
        }
        if (insn instanceof GuestInstruction.Io io && AtaDisk.owns(io.port())) {
            AtaDisk.Access a = disk.io(io); // EMU-7: the disk's task-file registers
            return new Executed(insn, regs, this, new NativePlatform(machine, this.cpu, parked, a.disk(), apic),
                    new Observed.Value(a.value()), ExitCount.NONE, java.util.Optional.empty());
        }
        if (insn instanceof GuestInstruction.Io io) {
            // No other device decodes the port: reads see the floating bus (all ones), writes vanish.
            long ones = io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1;
            return done(insn, regs, machine, new Observed.Value(io.in() ? ones : 0));
        }
        if (cpu.cpl() != 0) {
            // HLT, INVLPG, MOV to/from CRn, RDMSR and WRMSR are privileged: #GP(0) if CPL > 0 (SDM Vol. 2).
            return done(insn, regs, machine, gp());
        }
        if (insn instanceof GuestInstruction.Hlt) {
            return done(insn, regs, machine, new Observed.Idle());
        }
        if (insn instanceof GuestInstruction.Invlpg i) {
            return instruction(insn, regs, Processor.invlpg(machine, i.linear()), 0);
        }
        if (insn instanceof GuestInstruction.MovToCr m) {
            return switch (m.cr()) {
                case 0 -> instruction(insn, regs, Processor.movToCr0(machine, Cr0.ofBits(m.value())), m.value());
                case 3 -> instruction(insn, regs, Processor.movToCr3(machine, m.value()), m.value());
                case 4 -> instruction(insn, regs, Processor.movToCr4(machine, Cr4.ofBits(m.value())), m.value());
                default -> throw new IllegalArgumentException("MOV to CR" + m.cr() + " is not modelled");
            };
        }
        if (insn instanceof GuestInstruction.MovFromCr m) {
            long v = switch (m.cr()) {
                case 0 -> cpu.cr0().bits();
                case 2 -> cpu.cr2();
                case 3 -> cpu.cr3().bits();
                case 4 -> cpu.cr4().bits();
                default -> throw new IllegalArgumentException("MOV from CR" + m.cr() + " is not modelled");
            };
            return done(insn, regs, machine, new Observed.Value(v));
        }
        if (insn instanceof GuestInstruction.Wrmsr w && LocalApic.owns(w.msr()) && this.cpu == 0) {
            LocalApic a = apic.write(w.msr(), w.value());
            return a == null ? done(insn, regs, machine, gp()) : new Executed(insn, regs, this,
                    new NativePlatform(machine, this.cpu, parked, disk, a), new Observed.Value(w.value()), ExitCount.NONE,
                    java.util.Optional.empty());
        }
        if (insn instanceof GuestInstruction.Rdmsr rd && LocalApic.owns(rd.msr()) && this.cpu == 0) {
            Long v = apic.read(rd.msr());
            return done(insn, regs, machine, v == null ? gp() : new Observed.Value(v));
        }
        if (insn instanceof GuestInstruction.Wrmsr w) {
            if (w.msr() != Efer.MSR_INDEX) {
                return done(insn, regs, machine, gp()); // no other MSR exists on the model's bare processor
            }
            return instruction(insn, regs, Processor.writeEfer(machine, Efer.ofBits(w.value())), w.value());
        }
        if (insn instanceof GuestInstruction.Rdmsr r) {
            return done(insn, regs, machine, r.msr() == Efer.MSR_INDEX ? new Observed.Value(cpu.eferBits())
                    : gp());
        }
        throw new IllegalArgumentException("instruction not modelled on bare metal: " + insn);
    }

    private Executed instruction(GuestInstruction insn, Hypercall regs, InstructionStep s, long value) {
        return s.outcome() instanceof InstructionOutcome.Retired
                ? done(insn, regs, s.machine(), new Observed.Value(value)) : done(insn, regs, s.machine(), gp());
    }

    private static Observed gp() {
        return new Observed.Fault(GeneralProtection.VECTOR, 0, 0);
    }

    private Executed done(GuestInstruction insn, Hypercall regs, X86Machine m, Observed o) {
        return new Executed(insn, regs, this, new NativePlatform(m, cpu, parked, disk, apic), o, ExitCount.NONE,
                java.util.Optional.empty());
    }

    @Override
    public Platform withCpl(int cpl) {
        return new NativePlatform(machine.withCpu(machine.cpu().withCpl(cpl)), cpu, parked, disk, apic);
    }

    @Override
    public int cpl() {
        return machine.cpu().cpl();
    }

    @Override
    public Platform wake() {
        return this;
    }

    @Override
    public String name() {
        return "native";
    }

    /** The bus clock runs {@code ticks}: the boot processor's APIC timer counts down ({@link LocalApic}). */
    @Override
    public Platform advanceTime(long ticks) {
        return new NativePlatform(machine, cpu, parked, disk, apic.countDown(ticks));
    }

    /** The timer interrupts the boot processor's local APIC delivered (none on the others: they have no timer here). */
    @Override
    public int interruptsDelivered() {
        return cpu == 0 ? apic.delivered() : 0;
    }

    /** IRET: RFLAGS.IF is not modelled on bare metal (the in-service vector holds the next timer interrupt back). */
    @Override
    public Platform interruptReturn() {
        return this;
    }
}
