package org.hybridv.xen;

/** The outcome of one operation of the para-virtual interface ({@link PvHypercalls} turns it into a hypercall's). */
public sealed interface PvResult {
    /** Done: the post-state and what the hypercall returns in RAX (a port, a map handle, 0). */
    record Done(XenMachine machine, long rax) implements PvResult {}

    /** Refused with {@code errno} by {@code rule}; nothing changed. */
    record Refused(Errno errno, String rule, String reason) implements PvResult {}

    static PvResult refuse(Errno e, String rule, String reason) {
        return new Refused(e, rule, reason);
    }
}
