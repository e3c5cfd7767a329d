package org.hybridv.explore;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import org.hybridv.check.EventBudgets;
import org.hybridv.check.HybridKernelProperty;
import org.hybridv.check.KernelContract;
import org.hybridv.check.Verdict;
import org.hybridv.gen.HybridCases;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Hex;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;

/**
 * The hybrid kernel as a transition system: a state is a {@link Lockstep} — the kernel in a shadow-mode or HAP domain
 * and its native twin — starting as {@code HybridKernelProperty} starts it ({@link #FRAMES} frames, {@link
 * HybridCases#XEN_FRAMES} Xen frames, the faults injected); an action is one kernel operation ({@link GuestOp}) of the
 * configuration's alphabet, always enabled (the kernel answers every operation in every state, if only by refusing);
 * the successor is {@link Lockstep#step}. With {@code pcpus} 2 the kernel is the SMP kernel (two vCPUs on two pCPUs, a
 * twin on two processors) and the alphabet may bring up the AP and run operations on it. A configuration's
 * {@code cpuid} list gives one initial state per answer to the kernel's CPUID scan (a KVM personality in a HAP
 * domain), and a counterexample starts from the answer of its initial state. The configuration's
 * {@code setup} operations are applied to the initial state before the search (a counterexample replays them first). The invariants are {@link HybridInvariants#check} on every transition (they
 * compare a step's pre- and post-state and both sides, so none is skipped for a known state), restricted to the
 * configuration's list, worded as the hybrid-kernel property words them, then (if the list names {@code budget}) the
 * event budgets ({@link EventBudgets#check}) as that property checks them, then (if it names {@code KRN}) the
 * workload contract KRN-1..KRN-8 ({@link KernelContract}, whose model of the run is part of the state: {@link
 * State}); a counterexample is that property's scenario (none for a budget violation: no scenario step checks a
 * budget; for a contract violation, the operations with the last one expecting what the contract requires).
 */
public final class HybridSystem implements ExploredSystem<HybridSystem.State> {
    /**
     * A state of the hybrid world: the lockstep pair and, when the configuration checks the workload contract ({@code
     * KRN}), the contract's model of the run that reached it ({@link KernelContract}: the processes, their pages and
     * words, each CPU's address space and current word, kept from the operations and results alone) — otherwise null.
     * The contract's model is part of the state: two runs that leave the kernels alike but promised their processes
     * different things are two states. Never changed once made (a step copies the model).
     */
    public record State(Lockstep lockstep, KernelContract contract) {}

    /** The kernel's frames: {@link Layout#MIN_FRAMES} + 26, the smallest the hybrid-kernel property generates. */
    public static final int FRAMES = Layout.MIN_FRAMES + 26;

    private final MmuMode mode;
    private final int cpus;
    /**
     * What the hypervisor answers to the kernel's CPUID scan, one per initial state (the configuration's
     * {@code cpuid}; Xen at 0x40000000 without it), and the domain mode of each: a KVM personality is a HAP domain.
     */
    private final List<org.hybridv.xen.CpuidIdentity> identities;
    private final List<MmuMode> modes;
    private final List<State> initials;
    /** The configuration's setup operations, applied to the initial state (and replayed first by a scenario). */
    private final List<GuestOp> setup;
    private final List<GuestOp> ops;
    private final List<String> names;
    private final List<String> invariants;
    /** Whether the configuration checks the workload contract ({@link KernelContract#NAME}). */
    private final boolean contract;

    public HybridSystem(ExploreConfig config, Faults faults) {
        this.mode = config.world().equals("hybrid-hap") ? MmuMode.HAP : MmuMode.SHADOW;
        this.cpus = config.pcpus();
        List<GuestOp> before = new ArrayList<>();
        for (ExploreConfig.Kernel k : config.setup()) {
            expand(k, before);
        }
        this.setup = List.copyOf(before);
        List<org.hybridv.xen.CpuidIdentity> ids = config.cpuid().isEmpty()
                ? List.of(org.hybridv.xen.CpuidIdentity.XEN)
                : config.cpuid().stream().map(ExploreConfig.Cpuid::identity).toList();
        this.contract = config.invariants().contains(KernelContract.NAME);
        List<MmuMode> ms = new ArrayList<>();
        List<State> starts = new ArrayList<>();
        for (org.hybridv.xen.CpuidIdentity id : ids) {
            MmuMode m = id.personality() == org.hybridv.xen.CpuidIdentity.Personality.KVM ? MmuMode.HAP : mode;
            Lockstep l = config.cpuid().isEmpty() ? Lockstep.start(m, FRAMES, HybridCases.XEN_FRAMES, faults, cpus)
                    : Lockstep.start(m, FRAMES, HybridCases.XEN_FRAMES, faults, id);
            KernelContract k = contract ? new KernelContract() : null;
            for (GuestOp op : setup) {
                Lockstep.LockstepStep st = l.step(op);
                java.util.Optional<KernelContract.Violation> broken = k == null ? java.util.Optional.empty()
                        : k.step(st);
                if (broken.isPresent()) {
                    throw new IllegalArgumentException("setup: " + op + " breaks the workload contract ("
                            + broken.get().rule() + ": " + broken.get().explanation() + ")");
                }
                l = st.post();
            }
            ms.add(m);
            starts.add(new State(l, k));
        }
        this.identities = List.copyOf(ids);
        this.modes = List.copyOf(ms);
        this.initials = List.copyOf(starts);
        List<GuestOp> o = new ArrayList<>();
        for (ExploreConfig.Group g : config.actions()) {
            expand((ExploreConfig.Kernel) g, o);
            if (o.size() > FingerprintSet.MAX_ACTIONS) {
                throw new IllegalArgumentException("actions: the alphabet has more than " + FingerprintSet.MAX_ACTIONS
                        + " actions");
            }
        }
        this.ops = List.copyOf(o);
        this.names = ops.stream().map(HybridSystem::name).toList();
        this.invariants = config.invariants();
    }

    /**
     * The group's operations, each on every processor its {@code cpu} list names (the SMP kernel; CPU 0 is the
     * operation itself, another CPU wraps it in {@link GuestOp.OnCpu}); {@code startAp} brings up each listed AP.
     */
    private static void expand(ExploreConfig.Kernel k, List<GuestOp> o) {
        if (k.what().equals("startAp")) {
            k.cpu().forEach(c -> o.add(new GuestOp.StartAp(c)));
            return;
        }
        List<GuestOp> bare = new ArrayList<>();
        expandBare(k, bare);
        for (GuestOp op : bare) {
            for (int c : k.cpu() == null ? List.of(0) : k.cpu()) {
                o.add(c == 0 ? op : new GuestOp.OnCpu(c, op));
            }
        }
    }

    private static void expandBare(ExploreConfig.Kernel k, List<GuestOp> o) {
        switch (k.what()) {
            case "boot" -> k.to().forEach(t -> o.add(new GuestOp.Boot(BootStage.valueOf(t))));
            case "newProcess" -> o.add(new GuestOp.NewProcess());
            case "switchTo" -> k.pid().forEach(p -> o.add(new GuestOp.SwitchTo(p)));
            case "map" -> k.page().forEach(p -> k.writable().forEach(w -> o.add(new GuestOp.Map(p, w))));
            case "unmap" -> k.page().forEach(p -> o.add(new GuestOp.Unmap(p)));
            case "user", "kernelAccess" -> {
                for (ExploreConfig.Value l : k.linear()) {
                    for (String a : k.access()) {
                        AccessKind kind = AccessKind.valueOf(a.toUpperCase(java.util.Locale.ROOT));
                        for (ExploreConfig.Value v : kind == AccessKind.WRITE ? k.value()
                                : List.of(new ExploreConfig.Value(0))) {
                            o.add(k.what().equals("user") ? new GuestOp.UserAccess(l.raw(), kind, v.raw())
                                    : new GuestOp.KernelAccess(l.raw(), kind, v.raw()));
                        }
                    }
                }
            }
            case "syscall" -> o.add(new GuestOp.Syscall());
            case "idle" -> o.add(new GuestOp.Idle());
            default -> {
                for (String r : k.root()) {
                    org.hybridv.guest.SwitchRoot root = ExploreConfig.ROOTS.get(r);
                    boolean takesMfn = r.equals("explicit") || r.equals("foreignFrame");
                    for (ExploreConfig.Value m : takesMfn ? k.mfn() : List.of(new ExploreConfig.Value(0))) {
                        for (boolean u : k.fromUser()) {
                            for (boolean f : k.force()) {
                                o.add(new GuestOp.SwitchMmu(root, m.raw(), u, f));
                            }
                        }
                    }
                }
            }
        }
    }

    private static String name(GuestOp op) {
        if (op instanceof GuestOp.OnCpu c) {
            return "on CPU " + c.cpu() + ": " + name(c.op());
        }
        if (op instanceof GuestOp.SwitchMmu m) {
            return "switchMmu " + m.root() + (m.root() == org.hybridv.guest.SwitchRoot.EXPLICIT
                    || m.root() == org.hybridv.guest.SwitchRoot.FOREIGN_FRAME ? " " + Hex.of(m.explicitRoot()) : "")
                    + (m.fromUser() ? " from user" : "") + (m.force() ? " forced" : "");
        }
        return op.toString();
    }

    /** The operation of action {@code a}. */
    public GuestOp op(int a) {
        return ops.get(a);
    }

    @Override
    public List<State> initialStates() {
        return initials;
    }

    @Override
    public int actionCount() {
        return ops.size();
    }

    @Override
    public String actionName(int a) {
        return names.get(a);
    }

    @Override
    public boolean enabled(State s, int a) {
        return true;
    }

    /**
     * The lockstep pair's fingerprint, and with the workload contract that fingerprint followed by the contract's
     * model ({@link KernelContract#encode}).
     */
    @Override
    public long fingerprint(State s) {
        long lockstep = CanonicalEncoder.fingerprint(s.lockstep());
        if (s.contract() == null) {
            return lockstep;
        }
        Fingerprint f = new Fingerprint().add(lockstep);
        s.contract().encode(f::add);
        return f.value();
    }

    /** The initial state: the hybrid invariants are about steps; nothing to check before the first. */
    @Override
    public Checked checkInitial(State s) {
        return new Checked(Verdict.HOLDS, 0);
    }

    @Override
    public Transition<State> step(State s, int a, int depth, LongPredicate known) {
        GuestOp op = ops.get(a);
        Lockstep.LockstepStep st;
        try {
            st = s.lockstep().step(op);
        } catch (RuntimeException e) {
            return new Transition<>(s, fingerprint(s), new Verdict.HarnessError(depth, op + ": " + e), 0);
        }
        // the contract judges the step against the pre-state's model, then holds the post-state's (a copy)
        KernelContract k = s.contract() == null ? null : s.contract().copy();
        java.util.Optional<KernelContract.Violation> broken = k == null ? java.util.Optional.empty() : k.step(st);
        State post = new State(st.post(), k);
        long fp = fingerprint(post);
        for (HybridInvariants.Violation v : HybridInvariants.check(st)) {
            if (invariants.contains(v.invariant())) {
                return new Transition<>(post, fp, new Verdict.Violated(v.invariant(), v.violation().rule(),
                        depth, op + " (guest " + st.guest().result() + ", natively " + st.twin().result() + "): "
                        + v.violation().explanation()), invariants.size());
            }
        }
        if (invariants.contains(EventBudgets.NAME)) {
            java.util.Optional<EventBudgets.Violation> b = EventBudgets.check(st);
            if (b.isPresent()) {
                return new Transition<>(post, fp, new Verdict.Violated(EventBudgets.NAME, b.get().rule(), depth,
                        op + ": " + b.get().explanation()), invariants.size());
            }
        }
        // the workload contract last, as the hybrid-kernel property checks it
        if (broken.isPresent()) {
            return new Transition<>(post, fp, new Verdict.Violated(KernelContract.NAME, broken.get().rule(), depth,
                    op + ": " + broken.get().explanation()), invariants.size());
        }
        return new Transition<>(post, fp, Verdict.HOLDS, invariants.size());
    }

    @Override
    public String property() {
        return "hybrid-kernel";
    }

    @Override
    public ObjectNode scenario(List<Integer> actions, Faults faults, Verdict.Violated violation) {
        return scenario(0, actions, faults, violation);
    }

    /** The scenario of {@code actions} from initial state {@code initial} (its CPUID answer). */
    @Override
    public ObjectNode scenario(int initial, List<Integer> actions, Faults faults, Verdict.Violated violation) {
        List<GuestOp> trace = new ArrayList<>(setup);
        actions.forEach(a -> trace.add(ops.get(a)));
        // the violation's step counts the setup operations too, so that the scenario keeps every step up to it
        Verdict.Violated v = new Verdict.Violated(violation.invariant(), violation.rule(), violation.step()
                + setup.size(), violation.explanation());
        return new HybridKernelProperty().scenario(new HybridCases.Run(modes.get(initial), FRAMES, trace, cpus,
                identities.get(initial)), faults, v);
    }
}
