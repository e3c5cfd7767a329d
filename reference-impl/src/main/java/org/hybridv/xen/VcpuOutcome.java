package org.hybridv.xen;

import java.util.List;
import org.hybridv.vmx.ExitReason;
import org.hybridv.x86.Checks;

/**
 * What one guest instruction of a vCPU did, seen from the hypervisor: completed in the guest without a VM exit, or
 * exited and was handled. Every refusal is a value with an errno or an injected exception, and a rule ID.
 */
public sealed interface VcpuOutcome {
    /** Whether the step went through a VM exit (what tests count to show a filter keeps faults in the guest). */
    default boolean exited() {
        return !(this instanceof Retired || this instanceof Delivered);
    }

    /** No VM exit: the instruction completed in the guest ({@code value}: data read or register loaded). */
    record Retired(long value) implements VcpuOutcome {}

    /** No VM exit: the processor delivered the exception through the guest IDT (for #PF it wrote CR2). */
    record Delivered(int vector, int errorCode, boolean errorCodeValid, long cr2) implements VcpuOutcome {}

    /**
     * A VM exit handled and the guest resumed; {@code value} is the register result the handler produced (RDX:RAX of
     * RDMSR, the IN value; 0 otherwise).
     */
    record Resumed(ExitReason reason, long value, String rule) implements VcpuOutcome {}

    /** CPUID exit: the hypervisor's EAX, EBX, ECX, EDX. */
    record CpuidResult(long eax, long ebx, long ecx, long edx) implements VcpuOutcome {}

    /**
     * VMCALL: the hypercall happened; the TLB obligations were applied (in order). {@code rax} is what the hypercall
     * returns in RAX: 0 for the MMU hypercalls and SWITCH_MMU, the machine frame for
     * {@code XENMEM_translate_gpfn_list}.
     */
    record HypercallDone(Hypercall call, List<Effect> effects, long rax) implements VcpuOutcome {
        public HypercallDone {
            effects = List.copyOf(effects);
        }

        /** A hypercall that returns 0 in RAX. */
        public HypercallDone(Hypercall call, List<Effect> effects) {
            this(call, effects, 0);
        }
    }

    /** VMCALL: refused; RAX = -errno; nothing changed. */
    record HypercallRefused(Hypercall call, Errno errno, String rule, String reason) implements VcpuOutcome {
        public long rax() {
            return -errno.value();
        }
    }

    /** A #PF exit the hypervisor emulated as a page-table write (PTW-1..3); the guest continues after the store. */
    record Emulated(long linear, long value, List<Effect> effects, String rule) implements VcpuOutcome {
        public Emulated {
            effects = List.copyOf(effects);
        }
    }

    /**
     * The handler injected an exception into the guest (delivered at the next VM entry through the guest IDT; for #PF
     * the hypervisor wrote the guest's CR2 first). The state is otherwise unchanged.
     */
    record Injected(ExitReason reason, int vector, int errorCode, boolean errorCodeValid, long cr2, String rule,
            String why) implements VcpuOutcome {}

    /**
     * A shadow-mode #PF exit the guest's walk permits: the shadow leaf {@code shadowEntry} was filled for
     * {@code linear} (SH-1, SH-2) and the access is re-run; {@link Hypervisor#run} returns the re-run's outcome, so a
     * caller sees this only if the access does not converge.
     */
    record ShadowFilled(long linear, org.hybridv.x86.Entry shadowEntry, String rule) implements VcpuOutcome {}

    /**
     * The hypercall {@code call} of vCPU {@code vcpu} is inside the hypervisor, waiting for the acknowledgements of the
     * flush IPIs it sent to the pCPUs {@code awaiting} (Xen rules IPI-1, IPI-2): the outcome of the VMCALL that sent
     * them (one VM exit), and of any attempt to run a guest instruction on that pCPU meanwhile — of {@code vcpu}
     * itself, or of another vCPU placed there (no VM entry, nothing changes: the hypervisor spins on that pCPU and is
     * not preempted, IPI-5). The hypercall returns when the last target has acknowledged ({@link FlushIpis#deliverIpi}).
     */
    record InHypercall(VcpuId vcpu, Hypercall call, java.util.SortedSet<Integer> awaiting) implements VcpuOutcome {
        public InHypercall {
            awaiting = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(awaiting));
        }
    }

    /**
     * A batched {@code mmu_update} preempted between two requests (Xen rule MU-8, {@code hypercall_create_continuation}):
     * the vCPU left the hypervisor with {@code done} requests applied in all (written to {@code *pdone}) and its
     * registers rewritten to {@code continuation}, which its VMCALL is re-executed with (Xen rewinds the guest's RIP to
     * the VMCALL). {@code effects}: the TLB obligations its requests performed so far.
     */
    record HypercallPreempted(Hypercall call, Hypercall continuation, long done, List<Effect> effects)
            implements VcpuOutcome {
        public HypercallPreempted {
            effects = List.copyOf(effects);
        }
    }

    /** HLT: the vCPU is blocked until an event (events are not modelled). */
    record Blocked() implements VcpuOutcome {}

    /**
     * A guest error the hypervisor does not resolve: an EPT violation on a guest frame the p2m does not map, an EPT
     * misconfiguration. Xen crashes the domain ({@code domain_crash}); here a value, the state unchanged.
     */
    record GuestError(ExitReason reason, long guestPhysical, String rule, String why) implements VcpuOutcome {}

    /**
     * What this part of the model does not do (a memory access with paging off, turning paging on with EFER.LME = 0,
     * MOV to CR4 with host-owned bits);
     * {@code reason} is
     * the exit, or null if the vCPU was not entered. State unchanged.
     */
    record NotModelled(ExitReason reason, String why) implements VcpuOutcome {}

    /** VM entry failed (VMfailValid or invalid guest state): the vCPU did not run. */
    record EntryFailed(String reason) implements VcpuOutcome {
        public EntryFailed {
            Checks.notNull("reason", reason);
        }
    }
}
