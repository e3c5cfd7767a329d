package org.hybridv.xen;

import org.hybridv.x86.Checks;

/**
 * The outcome of a toolstack operation on the hypervisor (domain creation, vCPU setup): the post-state, or a refusal
 * with an errno and the rule that refused. A refusal carries no state: the pre-state stays.
 */
public sealed interface HvResult permits HvResult.Done, HvResult.Refused {
    record Done(XenMachine machine) implements HvResult {
        public Done {
            Checks.notNull("machine", machine);
        }
    }

    record Refused(Errno errno, String rule, String reason) implements HvResult {
        public Refused {
            Checks.notNull("errno", errno);
            Checks.notNull("rule", rule);
            Checks.notNull("reason", reason);
        }

        @Override
        public String toString() {
            return "Refused[-" + errno + " (" + rule + "): " + reason + "]";
        }
    }

    /** The post-state, or {@code pre} after a refusal. */
    default XenMachine machineOr(XenMachine pre) {
        return this instanceof Done d ? d.machine() : pre;
    }
}
