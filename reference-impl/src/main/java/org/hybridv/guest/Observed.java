package org.hybridv.guest;

import org.hybridv.x86.Hex;

/**
 * What the guest observes of one instruction — the only things invariant I3 (native equivalence) compares: a value
 * (data read, register loaded, hypercall return in RAX), an exception delivered to the guest (vector, error code and,
 * for #PF, the address the processor or hypervisor put in CR2), the CPUID registers, or that the CPU went idle.
 * {@link Failed} is what no bare processor produces: the hypervisor could not run the instruction (a guest error,
 * a VM-entry failure, something not modelled).
 */
public sealed interface Observed {
    record Value(long value) implements Observed {
        @Override
        public String toString() {
            return "value " + Hex.of(value);
        }
    }

    record Fault(int vector, int errorCode, long cr2) implements Observed {
        @Override
        public String toString() {
            return vector == 14 ? "#PF error code " + Hex.of(errorCode) + " CR2 " + Hex.of(cr2)
                    : vector == 13 ? "#GP(" + errorCode + ")" : "exception " + vector + " (" + errorCode + ")";
        }
    }

    record Cpuid(long eax, long ebx, long ecx, long edx) implements Observed {}

    record Idle() implements Observed {
        @Override
        public String toString() {
            return "idle";
        }
    }

    record Failed(String why) implements Observed {
        @Override
        public String toString() {
            return "failed: " + why;
        }
    }

    /** Whether this is a #PF. */
    default boolean isPageFault() {
        return this instanceof Fault f && f.vector() == 14;
    }
}
