package org.hybridv.explore;

import java.util.List;
import java.util.function.Predicate;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.Domain;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * The state invariants I1, I2, I6 re-checked on only what a step changed. Each of them is a conjunction of parts
 * about the tables (a function of the frame table, machine memory, the base pointers, the seeded faults and the
 * domains — their modes, p2m, EPTP, and their vCPUs' ids, VPIDs and execution controls, guest CPU state and shadow
 * state) and one part per TLB entry (a function of the entry and of the same). So on the successor {@code post} of a
 * state {@code pre} on which the invariant held:
 * <ul>
 * <li>if the tables' inputs are the same in both ({@link #sameTables}: the same objects — the state is immutable and
 * a step passes on what it does not change — or equal values), every part about the tables holds in {@code post} as
 * in {@code pre}, and so does the part of every TLB entry {@code pre}'s TLB also holds: only the entries the step
 * added ({@link #newEntries}) are checked;</li>
 * <li>otherwise the whole invariant is checked.</li>
 * </ul>
 * The check of the parts is the invariant's own code ({@link Isolation#check(XenMachine, boolean, Predicate)} and the
 * like) with the unchanged parts left out, so the verdict — which part fails first, and its wording — is the full
 * check's: the parts left out hold. {@code IncrementalInvariantsTest} checks that equality on every transition of the
 * shipped configurations, with and without each seeded fault.
 */
public final class IncrementalInvariants {
    private IncrementalInvariants() {}

    /** The state invariants, in the order the explorer checks them. */
    public enum Invariant {
        I1, I2, I6
    }

    /** Invariant {@code i} checked in full on {@code m}. */
    public static InvariantResult full(Invariant i, XenMachine m) {
        return switch (i) {
            case I1 -> Isolation.check(m);
            case I2 -> TranslationIntegrity.check(m);
            case I6 -> TlbCoherence.check(m);
        };
    }

    /** What of a successor needs checking, found once per step for all three invariants. */
    public record Change(boolean tables, Predicate<TlbEntry> entries) {
        /** Everything: the full check. */
        public static final Change ALL = new Change(true, e -> true);
    }

    /** What of {@code post}, a successor of {@code pre}, a state invariant that held on {@code pre} must re-check. */
    public static Change change(XenMachine pre, XenMachine post) {
        if (pre.pcpuCount() != 1 || post.pcpuCount() != 1 || !sameTables(pre, post)) {
            // several pCPUs: which entries are live depends on where each vCPU is placed (I6), and a new entry is
            // new on its pCPU only — the full check, until the incremental one is stated per pCPU
            return Change.ALL;
        }
        return new Change(false, newEntries(pre, post));
    }

    /**
     * Invariant {@code i} on {@code post}, re-checking only {@code change} (from {@link #change}): the full check's
     * verdict provided {@code i} held on the state {@code change} was computed from.
     */
    public static InvariantResult check(Invariant i, XenMachine post, Change change) {
        return switch (i) {
            case I1 -> Isolation.check(post, change.tables(), change.entries());
            case I2 -> TranslationIntegrity.check(post, change.tables(), change.entries());
            case I6 -> TlbCoherence.check(post, change.tables(), change.entries());
        };
    }

    /**
     * Whether everything the invariants' table parts (and the TLB entries' parts besides the entry) read is the same
     * in both states: memory, frame table, base pointers, faults, and each domain's mode, EPTP, p2m, hypercall page
     * and vCPUs, each vCPU's id, launch and blocked state, execution controls, guest CPU state and shadow state. Left
     * out: the TLB (the entries are compared one by one), a vCPU's RIP, host state and exit information, and which
     * vCPU is current — none of which I1, I2 or I6 reads.
     */
    static boolean sameTables(XenMachine pre, XenMachine post) {
        if (pre.memory() != post.memory() || pre.frames() != post.frames() || !pre.faults().equals(post.faults())) {
            return false;
        }
        if (pre.guestTables() != post.guestTables() && !pre.guestTables().equals(post.guestTables())) {
            return false;
        }
        if (pre.domains() == post.domains()) {
            return true;
        }
        if (!pre.domains().keySet().equals(post.domains().keySet())) {
            return false;
        }
        for (Domain a : pre.domains().values()) {
            if (!sameDomain(a, post.domains().get(a.id()))) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameDomain(Domain a, Domain b) {
        if (a == b) {
            return true;
        }
        if (a.id() != b.id() || a.mode() != b.mode() || a.eptp() != b.eptp()
                || a.hypercallPageInstalled() != b.hypercallPageInstalled() || a.vcpus().size() != b.vcpus().size()
                || (a.p2m() != b.p2m() && !a.p2m().equals(b.p2m()))) {
            return false;
        }
        for (int i = 0; i < a.vcpus().size(); i++) {
            Vcpu v = a.vcpus().get(i);
            Vcpu w = b.vcpus().get(i);
            if (v != w && (!v.id().equals(w.id()) || v.pcpu() != w.pcpu() || v.launched() != w.launched()
                    || v.blocked() != w.blocked()
                    || v.vmcs().controls() != w.vmcs().controls() || !v.vmcs().guest().cpu().equals(
                            w.vmcs().guest().cpu()) || !v.shadow().equals(w.shadow()))) {
                return false;
            }
        }
        return true;
    }

    /** The entries of {@code post}'s TLB that {@code pre}'s does not hold (by identity, then by value). */
    static Predicate<TlbEntry> newEntries(XenMachine pre, XenMachine post) {
        List<TlbEntry> old = pre.processor().machine().tlb().entries();
        if (old.isEmpty()) {
            return e -> true;
        }
        return e -> {
            for (TlbEntry o : old) {
                if (o == e) {
                    return false;
                }
            }
            return !old.contains(e);
        };
    }
}
