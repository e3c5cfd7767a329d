package org.hybridv.vmx;

import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Processor;
import org.hybridv.x86.X86Machine;

/**
 * VMX non-root operation (Intel SDM Vol. 3C chapter 25): each guest instruction either completes in the guest,
 * raises an exception that is delivered to the guest or causes a VM exit, or causes a VM exit itself.
 * {@code post = execute(pre, instruction)}.
 *
 * <p>Order of checks (§25.1.1 "Relative Priority of Faults and VM Exits"): faults based on privilege level (CPL &gt; 0
 * for a privileged instruction) have priority over the instruction's VM exit; the VM exit has priority over the
 * faults the instruction would raise in its own execution. The reference processor implements one MSR, IA32_EFER; a
 * RDMSR/WRMSR of any other MSR that does not exit raises #GP(0) ("unimplemented MSR", Vol. 2B RDMSR). An I/O
 * instruction that does not exit reads all ones and writes nowhere (no device is modelled); IOPL and the TSS I/O
 * permission bitmap are not modelled (every I/O instruction is permitted).
 */
public final class NonRoot {
    private NonRoot() {}

    /** Executes {@code insn} in the guest. */
    public static GuestStep execute(VmxProcessor p, GuestInstruction insn) {
        if (p.mode() != VmxMode.NON_ROOT) {
            throw new IllegalArgumentException("guest instruction " + insn + " in " + p.mode() + " operation");
        }
        if (insn instanceof GuestInstruction.MemoryAccess a) {
            return memoryAccess(p, a);
        }
        if (insn instanceof GuestInstruction.Io io) {
            return io(p, io);
        }
        if (insn instanceof GuestInstruction.Rdmsr r) {
            return msr(p, r.msr(), false, 0);
        }
        if (insn instanceof GuestInstruction.Wrmsr w) {
            return msr(p, w.msr(), true, w.value());
        }
        if (insn instanceof GuestInstruction.Cpuid) {
            return exit(p, ExitInformation.of(ExitReason.CPUID, 0));
        }
        if (insn instanceof GuestInstruction.Vmcall) {
            return exit(p, ExitInformation.of(ExitReason.VMCALL, 0));
        }
        if (insn instanceof GuestInstruction.Hlt) {
            return hlt(p);
        }
        if (insn instanceof GuestInstruction.Invlpg i) {
            return invlpg(p, i.linear());
        }
        if (insn instanceof GuestInstruction.Invpcid i) {
            return invpcid(p, i);
        }
        if (insn instanceof GuestInstruction.MovToCr m) {
            return movToCr(p, m);
        }
        if (insn instanceof GuestInstruction.MovFromCr m) {
            return movFromCr(p, m);
        }
        if (insn instanceof GuestInstruction.Wrpkru w) {
            return wrpkru(p, w);
        }
        if (insn instanceof GuestInstruction.Rdpkru r) {
            return rdpkru(p, r);
        }
        throw new IllegalArgumentException("unknown guest instruction " + insn);
    }

    /**
     * A guest memory access without EPT: the guest's own page walk with the guest's CR0/CR3/CR4/EFER, unchanged
     * (§25.3 does not alter paging), cached under the guest's VPID. A #PF or #GP goes through {@link #raise}.
     */
    static GuestStep memoryAccess(VmxProcessor p, GuestInstruction.MemoryAccess a) {
        if (p.vmcs().controls().eptEnabled()) {
            return TwoDimensional.access(p, a.access());
        }
        AccessStep step = Processor.accessWithoutDelivery(p.machine(), a.access());
        VmxProcessor after = p.withMachine(step.machine());
        AccessOutcome o = step.outcome();
        if (o instanceof AccessOutcome.Completed done) {
            return new GuestStep(new GuestOutcome.Retired(done.value()), after);
        }
        if (o instanceof PageFault pf) {
            return raise(after, PageFault.VECTOR, pf.errorCode().bits(), pf.linearAddress());
        }
        return raise(after, GeneralProtection.VECTOR, 0, 0);
    }

    /**
     * An exception raised by a guest instruction (§25.2): a VM exit if {@link ExceptionExits#exits} says so — the
     * exit qualification of a #PF is its linear address and CR2 is not written (§27.1, §27.2.1), the interruption
     * information names the vector as a hardware exception with its error code (§27.2.2) — otherwise delivery
     * through the guest IDT, which for #PF loads CR2 with the linear address (Vol. 3A §6.15).
     */
    public static GuestStep raise(VmxProcessor p, int vector, int errorCode, long linear) {
        boolean hasErrorCode = pushesErrorCode(vector);
        if (ExceptionExits.exits(p.vmcs().controls(), vector, errorCode)) {
            ExitInformation info = new ExitInformation(ExitReason.EXCEPTION_OR_NMI, false,
                    vector == PageFault.VECTOR ? linear : 0, 0, 0,
                    InterruptionInfo.hardwareException(vector, hasErrorCode), hasErrorCode ? errorCode : 0, 0);
            return exit(p, info);
        }
        X86Machine m = p.machine();
        if (vector == PageFault.VECTOR) {
            m = m.withCpu(m.cpu().withCr2(linear));
        }
        return new GuestStep(new GuestOutcome.Delivered(vector, hasErrorCode ? errorCode : 0, hasErrorCode,
                vector == PageFault.VECTOR ? linear : 0), p.withMachine(m));
    }

    /** Vol. 3A §6.13/table 6-1: #DF, #TS, #NP, #SS, #GP, #PF and #AC push an error code. */
    static boolean pushesErrorCode(int vector) {
        return vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14
                || vector == 17;
    }

    static GuestStep io(VmxProcessor p, GuestInstruction.Io io) {
        ExecutionControls c = p.vmcs().controls();
        if (IoExits.exits(c.primary(), c.ioBitmaps(), io.port(), io.size())) {
            return exit(p, ExitInformation.of(ExitReason.IO_INSTRUCTION,
                    IoExits.qualification(io.port(), io.size(), io.in(), io.string(), io.rep(), io.immediate())));
        }
        long mask = io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1;
        return new GuestStep(new GuestOutcome.Retired(io.in() ? mask : io.value() & mask), p);
    }

    static GuestStep msr(VmxProcessor p, long msr, boolean write, long value) {
        CpuState cpu = p.machine().cpu();
        if (cpu.cpl() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        ExecutionControls c = p.vmcs().controls();
        if (MsrExits.exits(c.primary(), c.msrBitmap(), msr, write)) {
            return exit(p, ExitInformation.of(write ? ExitReason.MSR_WRITE : ExitReason.MSR_READ, 0));
        }
        if (msr != Efer.MSR_INDEX) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        if (!write) {
            return new GuestStep(new GuestOutcome.Retired(cpu.eferBits()), p);
        }
        Efer efer = Efer.ofBits(value);
        return retireOrFault(p, Processor.writeEfer(p.machine(), efer), value);
    }


    static GuestStep hlt(VmxProcessor p) {
        if (p.machine().cpu().cpl() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        if (InstructionExits.hltExits(p.vmcs().controls().primary())) {
            return exit(p, ExitInformation.of(ExitReason.HLT, 0));
        }
        return new GuestStep(new GuestOutcome.Retired(0), p);
    }

    /** INVLPG: #GP at CPL &gt; 0 first; then the exit (qualification = the linear address, §27.2.1); else executes. */
    static GuestStep invlpg(VmxProcessor p, long linear) {
        if (p.machine().cpu().cpl() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        if (InstructionExits.invlpgExits(p.vmcs().controls().primary())) {
            return exit(p, ExitInformation.of(ExitReason.INVLPG, linear));
        }
        return retireOrFault(p, Processor.invlpg(p.machine(), linear), 0);
    }

    /**
     * INVPCID in VMX non-root operation. In order:
     * <ol>
     * <li>"Enable INVPCID" (secondary control, bit 12) = 0: "any execution of INVPCID causes a #UD" (Vol. 3C §24.6.2,
     * table 24-7).</li>
     * <li>CPL &gt; 0: #GP(0); "faults based on privilege level" have priority over VM exits (§25.1.1).</li>
     * <li>"The INVPCID instruction causes a VM exit if the 'INVLPG exiting' and 'enable INVPCID' VM-execution
     * controls are both 1" (§25.1.3); exit reason 58, qualification the instruction's displacement, which is 0 here
     * (the descriptor is given by value).</li>
     * <li>Otherwise it executes ({@link Processor#invpcid}: its own #GP(0) conditions, then the scope of its type for
     * the current VPID, all EP4TAs, §28.3.3.1).</li>
     * </ol>
     */
    static GuestStep invpcid(VmxProcessor p, GuestInstruction.Invpcid i) {
        ExecutionControls c = p.vmcs().controls();
        if (!c.effectiveSecondary().enableInvpcid()) {
            return raise(p, INVALID_OPCODE, 0, 0);
        }
        if (p.machine().cpu().cpl() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        if (InstructionExits.invpcidExits(c)) {
            return exit(p, ExitInformation.of(ExitReason.INVPCID, 0));
        }
        return retireOrFault(p, Processor.invpcid(p.machine(), i.type(), i.descriptorLow(), i.linear()), 0);
    }

    /**
     * WRPKRU in VMX non-root operation (SDM Vol. 2D WRPKRU; Vol. 3A §4.6.2). No VM-execution control makes WRPKRU
     * exit (Vol. 3C §25.1.2–25.1.3 list none), and it is not privileged: any CPL may execute it. In order:
     * <ul>
     * <li>"#UD If CR4.PKE = 0" (the guest's CR4, which the processor uses in non-root operation);</li>
     * <li>"ECX and EDX must be 0 when WRPKRU is executed; otherwise, a general-protection exception (#GP) occurs";</li>
     * <li>otherwise "writes the value of EAX into PKRU" — bits 31:0; the TLB is untouched: it caches the entries'
     * keys, and each access checks them against the PKRU of that moment (§4.10.2.2).</li>
     * </ul>
     * The exceptions go through {@link #raise} (the exception bitmap decides between exit and delivery).
     */
    static GuestStep wrpkru(VmxProcessor p, GuestInstruction.Wrpkru w) {
        CpuState cpu = p.machine().cpu();
        if (!cpu.cr4().pke()) {
            return raise(p, INVALID_OPCODE, 0, 0);
        }
        if (w.ecx() != 0 || w.edx() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        int pkru = (int) w.eax();
        return new GuestStep(new GuestOutcome.Retired(pkru & 0xFFFF_FFFFL),
                p.withMachine(p.machine().withCpu(cpu.withPkru(pkru))));
    }

    /**
     * RDPKRU in VMX non-root operation (SDM Vol. 2B RDPKRU): no VM exit, any CPL. "#UD If CR4.PKE = 0"; "#GP(0) If
     * ECX ≠ 0"; otherwise "loads the value of PKRU into EAX and clears EDX" — the value retired.
     */
    static GuestStep rdpkru(VmxProcessor p, GuestInstruction.Rdpkru r) {
        CpuState cpu = p.machine().cpu();
        if (!cpu.cr4().pke()) {
            return raise(p, INVALID_OPCODE, 0, 0);
        }
        if (r.ecx() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        return new GuestStep(new GuestOutcome.Retired(cpu.pkru() & 0xFFFF_FFFFL), p);
    }

    /** #UD, the invalid-opcode exception (Vol. 3A §6.15, interrupt 6). */
    static final int INVALID_OPCODE = 6;

    static GuestStep movToCr(VmxProcessor p, GuestInstruction.MovToCr m) {
        if (p.machine().cpu().cpl() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        ExecutionControls c = p.vmcs().controls();
        long q = CrAccessExits.qualification(m.cr(), CrAccessExits.MOV_TO_CR, m.register());
        CpuState cpu = p.machine().cpu();
        switch (m.cr()) {
            case 3 -> {
                if (CrAccessExits.movToCr3Exits(c, m.value())) {
                    return exit(p, ExitInformation.of(ExitReason.CR_ACCESS, q));
                }
                return retireOrFault(p, Processor.movToCr3(p.machine(), m.value()), m.value());
            }
            case 0 -> {
                if (CrAccessExits.movToCrExits(c.cr0GuestHostMask(), c.cr0ReadShadow(), m.value())) {
                    return exit(p, ExitInformation.of(ExitReason.CR_ACCESS, q));
                }
                long v = CrAccessExits.valueAfterMovToCr(c.cr0GuestHostMask(), cpu.cr0().bits(), m.value());
                Cr0 cr0 = Cr0.ofBits(v);
                return retireOrFault(p, Processor.movToCr0(p.machine(), cr0), m.value());
            }
            case 4 -> {
                if (CrAccessExits.movToCrExits(c.cr4GuestHostMask(), c.cr4ReadShadow(), m.value())) {
                    return exit(p, ExitInformation.of(ExitReason.CR_ACCESS, q));
                }
                long v = CrAccessExits.valueAfterMovToCr(c.cr4GuestHostMask(), cpu.cr4().bits(), m.value());
                Cr4 cr4 = Cr4.ofBits(v);
                return retireOrFault(p, Processor.movToCr4(p.machine(), cr4), m.value());
            }
            default -> throw new IllegalArgumentException("MOV to CR" + m.cr() + " is not modelled (CR0, CR3, CR4)");
        }
    }

    static GuestStep movFromCr(VmxProcessor p, GuestInstruction.MovFromCr m) {
        CpuState cpu = p.machine().cpu();
        if (cpu.cpl() != 0) {
            return raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        ExecutionControls c = p.vmcs().controls();
        return switch (m.cr()) {
            case 3 -> CrAccessExits.movFromCr3Exits(c)
                    ? exit(p, ExitInformation.of(ExitReason.CR_ACCESS,
                            CrAccessExits.qualification(3, CrAccessExits.MOV_FROM_CR, m.register())))
                    : new GuestStep(new GuestOutcome.Retired(cpu.cr3().bits()), p);
            case 0 -> new GuestStep(new GuestOutcome.Retired(
                    CrAccessExits.valueOfMovFromCr(c.cr0GuestHostMask(), c.cr0ReadShadow(), cpu.cr0().bits())), p);
            case 4 -> new GuestStep(new GuestOutcome.Retired(
                    CrAccessExits.valueOfMovFromCr(c.cr4GuestHostMask(), c.cr4ReadShadow(), cpu.cr4().bits())), p);
            // SDM 25.1.3 lists CR-access exits for CR0, CR3, CR4 and CR8 only: MOV from CR2 never exits and reads the
            // guest's CR2 (what the last #PF delivered through the guest IDT, or the hypervisor, loaded).
            case 2 -> new GuestStep(new GuestOutcome.Retired(cpu.cr2()), p);
            default -> throw new IllegalArgumentException("MOV from CR" + m.cr()
                    + " is not modelled (CR0, CR2, CR3, CR4)");
        };
    }

    private static GuestStep retireOrFault(VmxProcessor p, InstructionStep step, long value) {
        if (step.outcome() instanceof InstructionOutcome.Retired) {
            return new GuestStep(new GuestOutcome.Retired(value), p.withMachine(step.machine()));
        }
        return raise(p, GeneralProtection.VECTOR, 0, 0);
    }

    static GuestStep exit(VmxProcessor p, ExitInformation info) {
        return new GuestStep(new GuestOutcome.Exited(info), VmExits.exit(p, info));
    }

}
