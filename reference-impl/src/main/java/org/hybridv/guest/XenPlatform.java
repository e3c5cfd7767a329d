package org.hybridv.guest;

import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Checks;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * The kernel as vCPU {@code vcpu} of the hypervisor: every instruction goes through {@link Hypervisor#run} (VM entry,
 * non-root execution, exit handling), and what the guest observes is read off the outcome.
 *
 * @param machine the hypervisor's whole state
 * @param vcpu    the vCPU the kernel runs on
 */
public record XenPlatform(XenMachine machine, VcpuId vcpu) implements Platform {
    public XenPlatform {
        Checks.notNull("machine", machine);
        Checks.notNull("vCPU", vcpu);
        machine.vcpu(vcpu);
    }

    /**
     * One instruction of the kernel's vCPU. The kernel's processors take turns (one executes, the other waits), so
     * no step of another pCPU comes between a hypercall's send of its flush IPIs and their handling (IPI-1, IPI-2)
     * or between the entries of a pin validated entry by entry (TYP-8): such a hypercall runs to its end within the
     * instruction ({@link org.hybridv.xen.FlushIpis#runToCompletion}). The interleavings themselves are the
     * explorer's and the migration property's (docs/smp.md).
     */
    @Override
    public Executed execute(GuestInstruction insn, Hypercall regs) {
        Checks.notNull("instruction", insn);
        HvStep s = org.hybridv.xen.FlushIpis.runToCompletion(Hypervisor.run(machine, vcpu, insn, regs), vcpu);
        return new Executed(insn, regs, this, new XenPlatform(s.machine(), vcpu), observed(s.outcome()), exits(s),
                java.util.Optional.of(s));
    }

    /** What the guest sees of a vCPU outcome. */
    public static Observed observed(VcpuOutcome o) {
        if (o instanceof VcpuOutcome.Retired r) {
            return new Observed.Value(r.value());
        }
        if (o instanceof VcpuOutcome.Delivered d) {
            return new Observed.Fault(d.vector(), d.errorCode(), d.cr2());
        }
        if (o instanceof VcpuOutcome.Resumed r) {
            return new Observed.Value(r.value());
        }
        if (o instanceof VcpuOutcome.CpuidResult c) {
            return new Observed.Cpuid(c.eax(), c.ebx(), c.ecx(), c.edx());
        }
        if (o instanceof VcpuOutcome.HypercallDone h) {
            return new Observed.Value(h.rax());
        }
        if (o instanceof VcpuOutcome.HypercallRefused h) {
            return new Observed.Value(h.rax());
        }
        if (o instanceof VcpuOutcome.Emulated e) {
            return new Observed.Value(e.value());
        }
        if (o instanceof VcpuOutcome.Injected i) {
            return new Observed.Fault(i.vector(), i.errorCode(), i.cr2());
        }
        if (o instanceof VcpuOutcome.Blocked) {
            return new Observed.Idle();
        }
        return new Observed.Failed(o.toString());
    }

    /**
     * The exits of a step by reason: the handled exit's reason for the last one, and every earlier exit of the step
     * is a shadow-fill #PF exit (EXCEPTION_OR_NMI; {@link Hypervisor#run} re-runs the access after each fill).
     */
    static ExitCount exits(HvStep s) {
        if (s.vmExits() == 0) {
            return ExitCount.NONE;
        }
        String last = reason(s.outcome());
        if (last == null) {
            return ExitCount.of(ExitReason.EXCEPTION_OR_NMI.name(), s.vmExits());
        }
        return ExitCount.of(last, 1).plus(ExitCount.of(ExitReason.EXCEPTION_OR_NMI.name(), s.vmExits() - 1));
    }

    private static String reason(VcpuOutcome o) {
        ExitReason r = null;
        if (o instanceof VcpuOutcome.Resumed x) {
            r = x.reason();
        } else if (o instanceof VcpuOutcome.Injected x) {
            r = x.reason();
        } else if (o instanceof VcpuOutcome.GuestError x) {
            r = x.reason();
        } else if (o instanceof VcpuOutcome.NotModelled x) {
            r = x.reason();
        } else if (o instanceof VcpuOutcome.CpuidResult) {
            r = ExitReason.CPUID;
        } else if (o instanceof VcpuOutcome.HypercallDone || o instanceof VcpuOutcome.HypercallRefused) {
            r = ExitReason.VMCALL;
        } else if (o instanceof VcpuOutcome.Emulated) {
            r = ExitReason.EXCEPTION_OR_NMI;
        } else if (o instanceof VcpuOutcome.Blocked) {
            r = ExitReason.HLT;
        } else if (o instanceof VcpuOutcome.EntryFailed) {
            return "VM_ENTRY_FAILURE";
        }
        return r == null ? null : r.name();
    }

    @Override
    public Platform withCpl(int cpl) {
        return new XenPlatform(machine.withGuestCpl(vcpu, cpl), vcpu);
    }

    @Override
    public int cpl() {
        return machine.guestCpu(vcpu).cpl();
    }

    @Override
    public Platform wake() {
        return new XenPlatform(machine.withVcpu(machine.vcpu(vcpu).withBlocked(false)), vcpu);
    }

    /** The domain's vCPUs: the kernel's processors (docs/smp.md, "The SMP hybrid kernel"). */
    @Override
    public int cpus() {
        return machine.domain(vcpu.domain()).vcpus().size();
    }

    @Override
    public int cpu() {
        return vcpu.vcpu();
    }

    /** The domain's vCPU {@code cpu}: the next instruction runs there, on the pCPU it is placed on. */
    @Override
    public Platform onCpu(int cpu) {
        Checks.inRange("vCPU", cpu, 0, cpus() - 1);
        return cpu == vcpu.vcpu() ? this : new XenPlatform(machine, new VcpuId(vcpu.domain(), cpu));
    }

    /** The domain's MMU mode. */
    public MmuMode mode() {
        return machine.domain(vcpu.domain()).mode();
    }

    @Override
    public String name() {
        return mode() == MmuMode.HAP ? "HAP" : mode().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** TIME-1, EMU-5: machine time advances ({@link org.hybridv.xen.VirtualTime#advanceTime}). */
    @Override
    public Platform advanceTime(long ticks) {
        return new XenPlatform(org.hybridv.xen.VirtualTime.advanceTime(machine, ticks), vcpu);
    }

    /** The upcalls injected into this vCPU (EVT-9) and the emulated APIC timer's injections (EMU-5, vCPU 0). */
    @Override
    public int interruptsDelivered() {
        int apic = vcpu.vcpu() == 0 ? machine.domain(vcpu.domain()).devices().interrupt().injected() : 0;
        return machine.pv().domain(vcpu.domain()).vcpu(vcpu.vcpu()).upcallsInjected() + apic;
    }

    /** IRET sets RFLAGS.IF again ({@link org.hybridv.xen.EventDelivery#setInterruptFlag}; EVT-9). */
    @Override
    public Platform interruptReturn() {
        return new XenPlatform(org.hybridv.xen.EventDelivery.setInterruptFlag(machine, vcpu, true).machine(), vcpu);
    }

    // ---- the split block driver's configuration and back-end (docs/pv-interfaces.md, "The split block driver") ----

    /**
     * The xenstore lookup of the front-end's virtual block device ({@code device/vbd/768/backend-id}): the back-end
     * domain {@link #BLOCK_BACK_END} if the machine has one ({@link org.hybridv.xen.BlkBack#create}), else empty —
     * the kernel then keeps the emulated disk (EMU-7). The model has no xenstore: this is the configuration the
     * toolstack wrote, read without an instruction.
     */
    public java.util.OptionalInt xenstoreBlockBackEnd() {
        return org.hybridv.xen.BlkBack.info(machine, BLOCK_BACK_END) != null && vcpu.domain() != BLOCK_BACK_END
                ? java.util.OptionalInt.of(BLOCK_BACK_END) : java.util.OptionalInt.empty();
    }

    /** The domain id the toolstack gives the block back-end: 0, the driver domain. */
    public static final int BLOCK_BACK_END = 0;

    /**
     * The xenstore handshake, end to end (BLK-3): the front-end has written {@code ring-ref} and
     * {@code event-channel} and switched to Initialised; the back-end reads them and connects
     * ({@link org.hybridv.xen.BlkBack#connect}).
     */
    public org.hybridv.xen.BlkBack.Result xenstoreConnect(long ringRef, long port) {
        return org.hybridv.xen.BlkBack.connect(machine, BLOCK_BACK_END, vcpu.domain(), ringRef, port);
    }

    /** The back-end's step after the front-end's notification ({@link org.hybridv.xen.BlkBack#serve}). */
    public org.hybridv.xen.BlkBack.Result backEndServes() {
        return org.hybridv.xen.BlkBack.serve(machine, BLOCK_BACK_END);
    }
}
