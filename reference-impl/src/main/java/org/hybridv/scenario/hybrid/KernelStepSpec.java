package org.hybridv.scenario.hybrid;

import java.util.Map;
import org.hybridv.guest.GuestOp;
import org.hybridv.scenario.Step;

/**
 * Decoded hybrid steps.
 */
public sealed interface KernelStepSpec extends Step {
    /** {@code kernel}: one kernel operation, with the expected facts ({@code result}, {@code stage}, {@code exits} …). */
    record KernelOp(GuestOp operation, String text, Map<String, String> expect) implements KernelStepSpec {
        @Override
        public String op() {
            return "kernel";
        }

        @Override
        public String describe() {
            return text;
        }
    }

    /** {@code checkHybrid}: the invariants over every kernel step so far. */
    record CheckHybrid(Map<String, String> expect) implements KernelStepSpec {
        @Override
        public String op() {
            return "checkHybrid";
        }

        @Override
        public String describe() {
            return "I1–I8 over the kernel steps";
        }
    }
}
