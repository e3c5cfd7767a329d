package org.hybridv.explore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import org.hybridv.check.Verdict;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Hex;
import org.hybridv.x86.CpuState;
import org.hybridv.xen.Domains;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * The hypervisor as a transition system: states are {@link XenMachine}s, starting from
 * {@link HypervisorCases#initialMachine(Faults)} (the faults injected before the domains are built, as the
 * hypervisor property does); an action is one {@link HypervisorCases.Op} of the configuration's alphabet, enabled
 * while its vCPU is not blocked; the successor is {@code Hypervisor.run}. The invariants are the hypervisor
 * property's: I1, I2, I6 on every new state, I7 on every step, reported in that order with the same wording
 * ({@code HypervisorProperty.checkStep}), restricted to the configuration's list.
 */
public final class HypervisorSystem implements ExploredSystem<XenMachine> {
    private final XenMachine initial;
    private final List<HypervisorCases.Op> ops;
    private final List<String> names;
    private final boolean i1;
    private final boolean i2;
    private final boolean i6;
    private final boolean i7;
    private final Symmetry symmetry;
    /** The configuration's new vCPUs as built: domain, VPID given, CR3 frame, CPL (for the counterexample's machine). */
    private final List<long[]> built;
    private final boolean incremental;
    /** Per action, the pCPU a {@code schedule} action moves its vCPU to, or -1 for a guest instruction or hypercall. */
    private final int[] scheduleTo;
    /** Per action, the pCPU a {@code deliver_ipi} action delivers the pending flush IPIs on, or -1 (IPI-1). */
    private final int[] deliverOn;
    /** Per action, whether it is a {@code continue_hypercall} of its vCPU (TYP-8). */
    private final boolean[] continues;
    private final int pcpus;
    /** Per permutation of {@link #symmetry}, the image of each action. */
    private final int[][] images;
    /**
     * Per action, whether the partial-order reduction may give its transitions a footprint
     * ({@link HypervisorFootprints}): a guest read or fetch of an {@code access} group, or a {@code schedule}. Every
     * other action (and any kind added later) is dependent with everything.
     */
    private final boolean[] characterised;

    /** The system of {@code config} with {@code faults} injected, with its symmetry reduction if it declares one. */
    public HypervisorSystem(ExploreConfig config, Faults faults) {
        this(config, faults, true);
    }

    /**
     * The system of {@code config} with {@code faults} injected; {@code reduce}: whether the configuration's symmetry
     * declaration (if any) is used.
     *
     * @throws IllegalArgumentException if an action names a vCPU the world does not have, the alphabet has more
     *                                  than {@link FingerprintSet#MAX_ACTIONS} actions (the message names the group),
     *                                  or the declared symmetric frames are not interchangeable: outside memory, the
     *                                  initial machine tells them apart, or the alphabet is not closed under their
     *                                  permutations (the message names an action whose image is missing)
     */
    public HypervisorSystem(ExploreConfig config, Faults faults, boolean reduce) {
        this(config, faults, reduce, true);
    }

    /**
     * {@link #HypervisorSystem(ExploreConfig, Faults, boolean)}; {@code incremental}: whether a successor's state
     * invariants re-check only what the step changed ({@link IncrementalInvariants}; the same verdicts) rather than
     * the whole state.
     */
    HypervisorSystem(ExploreConfig config, Faults faults, boolean reduce, boolean incremental) {
        this.incremental = incremental;
        List<long[]> b = new ArrayList<>();
        this.pcpus = config.pcpus();
        this.initial = withNewVcpus(pcpus == 1 ? HypervisorCases.initialMachine(faults)
                : HypervisorCases.initialMachine(faults, pcpus), config.newVcpus(), b);
        this.built = List.copyOf(b);
        List<HypervisorCases.Op> o = new ArrayList<>();
        List<String> n = new ArrayList<>();
        List<Integer> to = new ArrayList<>();
        List<Boolean> known = new ArrayList<>();
        List<Integer> on = new ArrayList<>();
        if (config.hybrid()) {
            throw new IllegalArgumentException("world " + config.world() + " is not the hypervisor's");
        }
        for (int g = 0; g < config.actions().size(); g++) {
            ExploreConfig.Group group = config.actions().get(g);
            if (group instanceof ExploreConfig.DeliverIpi di) {
                VcpuId any = initial.domains().values().iterator().next().vcpu(0).id();
                for (int q : di.pcpus()) {
                    // the op is a placeholder; step() runs FlushIpis.deliverIpi on pCPU q
                    o.add(new HypervisorCases.Op(any, new GuestInstruction.Hlt(), Hypercall.of(0)));
                    n.add("deliverIpi pCPU " + q);
                    to.add(-1);
                    on.add(q);
                    known.add(false); // no footprint: dependent with every action
                }
            }
            for (String v : group.vcpus()) {
                VcpuId id = vcpu(v, g);
                if (group instanceof ExploreConfig.ContinueHypercall) {
                    // the op is a placeholder naming the vCPU; step() runs PreemptibleValidation.continueHypercall
                    o.add(new HypervisorCases.Op(id, new GuestInstruction.Hlt(), Hypercall.of(0)));
                    n.add(v + " continue_hypercall");
                    to.add(-2);
                } else if (group instanceof ExploreConfig.Schedule sc) {
                    for (int q : sc.to()) {
                        // the op is a placeholder naming the vCPU; step() runs Hypervisor.schedule for it
                        o.add(new HypervisorCases.Op(id, new GuestInstruction.Hlt(), Hypercall.of(0)));
                        n.add(v + " schedule pCPU " + q);
                        to.add(q);
                    }
                } else {
                    int before = o.size();
                    expand(group, id, v, o, n);
                    while (to.size() < o.size()) {
                        to.add(-1);
                    }
                    for (int a = before; a < o.size(); a++) {
                        known.add(group instanceof ExploreConfig.Access
                                && o.get(a).insn() instanceof GuestInstruction.MemoryAccess m
                                && m.access().kind() != AccessKind.WRITE);
                    }
                }
                while (known.size() < o.size()) {
                    known.add(group instanceof ExploreConfig.Schedule);
                }
                while (on.size() < o.size()) {
                    on.add(-1);
                }
                if (o.size() > FingerprintSet.MAX_ACTIONS) {
                    throw new IllegalArgumentException("actions[" + g + "]: the alphabet has more than "
                            + FingerprintSet.MAX_ACTIONS + " actions");
                }
            }
        }
        this.ops = List.copyOf(o);
        this.names = List.copyOf(n);
        this.continues = new boolean[to.size()];
        for (int a = 0; a < to.size(); a++) {
            continues[a] = to.get(a) == -2;
            to.set(a, Math.max(to.get(a), -1));
        }
        this.scheduleTo = to.stream().mapToInt(Integer::intValue).toArray();
        this.characterised = new boolean[o.size()];
        for (int a = 0; a < characterised.length; a++) {
            characterised[a] = known.get(a);
        }
        this.deliverOn = on.stream().mapToInt(Integer::intValue).toArray();
        this.i1 = config.invariants().contains("I1");
        this.i2 = config.invariants().contains("I2");
        this.i6 = config.invariants().contains("I6");
        this.i7 = config.invariants().contains("I7");
        if (reduce && !config.symmetry().isEmpty()) {
            long[] frames = config.symmetry().stream().mapToLong(ExploreConfig.Value::raw).toArray();
            for (long f : frames) {
                if (f < 0 || f >= initial.frames().size()) {
                    throw new IllegalArgumentException("symmetry: frame " + Hex.of(f) + " is outside the machine's "
                            + initial.frames().size() + " frames");
                }
            }
            this.symmetry = new Symmetry(frames);
            long own = CanonicalEncoder.fingerprint(initial);
            images = new int[symmetry.permutations().size()][];
            for (int p = 0; p < images.length; p++) {
                Relabel r = symmetry.permutations().get(p);
                if (CanonicalEncoder.fingerprint(initial, r) != own) {
                    throw new IllegalArgumentException("symmetry: frames " + symmetry + " are not interchangeable:"
                            + " the initial machine tells them apart (relabelled by " + r + " it is another state)");
                }
                images[p] = new int[ops.size()];
                for (int a = 0; a < ops.size(); a++) {
                    int image = ops.indexOf(relabel(ops.get(a), r));
                    if (image < 0) {
                        throw new IllegalArgumentException("symmetry: frames " + symmetry + " are not"
                                + " interchangeable: the alphabet has \"" + names.get(a) + "\" but not its image"
                                + " under " + r);
                    }
                    images[p][a] = image;
                }
            }
        } else {
            this.symmetry = null;
            this.images = new int[0][];
        }
    }

    /**
     * {@code m} with the configuration's new vCPUs asked of the hypervisor in order ({@link Domains#addVcpu}, as the
     * toolstack creates a vCPU): a VPID the hypervisor refuses (CTL-5) is asked again as the lowest VPID no vCPU
     * uses; each vCPU built is added to {@code built} as {domain, VPID, CR3 frame, CPL}.
     *
     * @throws IllegalArgumentException if a domain does not exist or the hypervisor refuses the vCPU otherwise
     */
    private static XenMachine withNewVcpus(XenMachine m, List<ExploreConfig.NewVcpu> asked, List<long[]> built) {
        for (int i = 0; i < asked.size(); i++) {
            ExploreConfig.NewVcpu v = asked.get(i);
            if (!m.domains().containsKey(v.domain())) {
                throw new IllegalArgumentException("newVcpus[" + i + "]: no domain " + v.domain() + " in this world"
                        + " (known: " + m.domains().keySet() + ")");
            }
            CpuState guest = CpuState.longMode(v.cr3().raw(), XenMachine.MAX_PHYS_ADDR).withCpl(v.cpl());
            int vpid = v.vpid();
            HvResult r = Domains.addVcpu(m, v.domain(), vpid, guest);
            if (r instanceof HvResult.Refused x && x.rule().equals("VPID")) {
                vpid = 1;
                while (m.domainOfVpid(vpid) >= 0) {
                    vpid++;
                }
                r = Domains.addVcpu(m, v.domain(), vpid, guest);
            }
            if (!(r instanceof HvResult.Done d)) {
                throw new IllegalArgumentException("newVcpus[" + i + "]: the hypervisor refuses the vCPU: " + r);
            }
            m = d.machine();
            built.add(new long[] {v.domain(), vpid, v.cr3().raw(), v.cpl()});
        }
        return m;
    }

    /**
     * Operation {@code op} with its frame references relabelled ({@link Relabel}): the table and value of an
     * mmu_update, the value of update_va_mapping and of a guest write, the frame of a pin, unpin or NEW_BASEPTR, the
     * root of SWITCH_MMU, a CR3 value; linear addresses stay.
     */
    static HypervisorCases.Op relabel(HypervisorCases.Op op, Relabel r) {
        GuestInstruction insn = op.insn();
        Hypercall h = op.regs();
        if (insn instanceof GuestInstruction.Vmcall) {
            long n = h.number();
            if (n == Hypercalls.HYPERVISOR_MMU_UPDATE) {
                h = Hypercall.mmuUpdate(r.address(h.arg(0)), r.address(h.arg(1)));
            } else if (n == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING) {
                h = Hypercall.updateVaMapping(h.arg(0), r.address(h.arg(1)), h.arg(2));
            } else if (n == Hypercalls.HYPERVISOR_MMUEXT_OP && h.arg(0) <= 5) {
                h = Hypercall.mmuextOp((int) h.arg(0), r.frame(h.arg(1)));
            } else if (n == Hypercalls.HYPERVISOR_SWITCH_MMU) {
                h = Hypercall.switchMmu(r.frame(h.arg(0)));
            }
        } else if (insn instanceof GuestInstruction.MemoryAccess m && m.access().kind() == AccessKind.WRITE) {
            Access a = m.access();
            insn = new GuestInstruction.MemoryAccess(new Access(a.linear(), a.kind(), a.implicitSupervisor(),
                    r.address(a.value())));
        } else if (insn instanceof GuestInstruction.MovToCr c && c.cr() == 3) {
            insn = new GuestInstruction.MovToCr(3, r.address(c.value()), c.register());
        }
        return new HypervisorCases.Op(op.vcpu(), insn, h);
    }

    @Override
    public java.util.Optional<Symmetry> symmetry() {
        return java.util.Optional.ofNullable(symmetry);
    }

    /** The image of action {@code a} under permutation {@code p} of {@link #symmetry()}. */
    public int image(int p, int a) {
        return images[p][a];
    }

    private VcpuId vcpu(String name, int group) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("d(\\d{1,4})v(\\d{1,3})").matcher(name);
        if (m.matches()) {
            VcpuId id = new VcpuId(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
            if (initial.domains().containsKey(id.domain())
                    && id.vcpu() < initial.domain(id.domain()).vcpus().size()) {
                return id;
            }
        }
        List<String> known = new ArrayList<>();
        initial.domains().values().forEach(d -> d.vcpus().forEach(x -> known.add("d" + x.id().domain() + "v"
                + x.id().vcpu())));
        throw new IllegalArgumentException("actions[" + group + "].vcpus: no vCPU \"" + name + "\" in this world"
                + " (known: " + String.join(", ", known) + ")");
    }

    private static void expand(ExploreConfig.Group group, VcpuId id, String v, List<HypervisorCases.Op> o,
            List<String> n) {
        Hypercall none = Hypercall.of(0);
        if (group instanceof ExploreConfig.Access a) {
            for (String kind : a.kinds()) {
                for (ExploreConfig.Value l : a.linear()) {
                    List<ExploreConfig.Value> values = kind.equals("write") ? a.values()
                            : List.of(new ExploreConfig.Value(0));
                    for (ExploreConfig.Value x : values) {
                        Access acc = switch (kind) {
                            case "read" -> Access.read(l.raw());
                            case "write" -> Access.write(l.raw(), x.raw());
                            default -> Access.fetch(l.raw());
                        };
                        o.add(new HypervisorCases.Op(id, new GuestInstruction.MemoryAccess(acc), none));
                        n.add(v + " " + kind + " " + Hex.of(l.raw()) + (kind.equals("write") ? " := "
                                + Hex.of(x.raw()) : ""));
                    }
                }
            }
        } else if (group instanceof ExploreConfig.MmuUpdate u) {
            for (ExploreConfig.Value t : u.table()) {
                for (int i : u.index()) {
                    for (ExploreConfig.Value x : u.values()) {
                        o.add(call(id, Hypercall.mmuUpdate((t.raw() << 12) | ((long) i << 3)
                                | Hypercalls.MMU_NORMAL_PT_UPDATE, x.raw())));
                        n.add(v + " mmu_update " + Hex.of(t.raw()) + "[" + i + "] := " + Hex.of(x.raw()));
                    }
                }
            }
        } else if (group instanceof ExploreConfig.MmuextOp m) {
            for (String c : m.cmds()) {
                for (ExploreConfig.Value x : m.args()) {
                    o.add(call(id, Hypercall.mmuextOp(ExploreConfig.MMUEXT.get(c), x.raw())));
                    n.add(v + " mmuext_op " + c + " " + Hex.of(x.raw()));
                }
            }
        } else if (group instanceof ExploreConfig.UpdateVaMapping u) {
            for (ExploreConfig.Value l : u.linear()) {
                for (ExploreConfig.Value x : u.values()) {
                    for (String f : u.flags()) {
                        long flags = switch (f) {
                            case "tlb_flush" -> Hypercalls.UVMF_TLB_FLUSH;
                            case "invlpg" -> Hypercalls.UVMF_INVLPG;
                            default -> Hypercalls.UVMF_NONE;
                        };
                        o.add(call(id, Hypercall.updateVaMapping(l.raw(), x.raw(), flags)));
                        n.add(v + " update_va_mapping " + Hex.of(l.raw()) + " := " + Hex.of(x.raw()) + " " + f);
                    }
                }
            }
        } else if (group instanceof ExploreConfig.Invlpg i) {
            for (ExploreConfig.Value l : i.linear()) {
                o.add(new HypervisorCases.Op(id, new GuestInstruction.Invlpg(l.raw()), none));
                n.add(v + " invlpg " + Hex.of(l.raw()));
            }
        } else if (group instanceof ExploreConfig.MovToCr m) {
            for (ExploreConfig.Value x : m.values()) {
                o.add(new HypervisorCases.Op(id, new GuestInstruction.MovToCr(m.cr(), x.raw(), 0), none));
                n.add(v + " mov cr" + m.cr() + " := " + Hex.of(x.raw()));
            }
        } else if (group instanceof ExploreConfig.SwitchMmu s) {
            for (ExploreConfig.Value r : s.roots()) {
                o.add(call(id, Hypercall.switchMmu(r.raw())));
                n.add(v + " switch_mmu " + Hex.of(r.raw()));
            }
        } else if (group instanceof ExploreConfig.Hlt h) {
            o.add(new HypervisorCases.Op(id, new GuestInstruction.Hlt(), none));
            n.add(v + " hlt");
        }
    }

    private static HypervisorCases.Op call(VcpuId id, Hypercall h) {
        return new HypervisorCases.Op(id, new GuestInstruction.Vmcall(), h);
    }

    /** The operation of action {@code a}. */
    public HypervisorCases.Op op(int a) {
        return ops.get(a);
    }

    @Override
    public String property() {
        return "hypervisor";
    }

    @Override
    public ObjectNode scenario(List<Integer> actions, Faults faults,
            Verdict.Violated violation) {
        ObjectNode doc;
        if (pcpus == 1) {
            HypervisorCases.Run run = new HypervisorCases.Run(HypervisorCases.initialMachine(), actions.stream()
                    .map(ops::get).toList());
            doc = new org.hybridv.check.HypervisorProperty().scenario(run, faults, violation);
        } else {
            List<org.hybridv.check.MigrationProperty.Op> steps = new ArrayList<>();
            for (int a : actions) {
                HypervisorCases.Op op = ops.get(a);
                steps.add(deliverOn[a] >= 0 ? org.hybridv.check.MigrationProperty.Op.deliver(deliverOn[a])
                        : continues[a] ? org.hybridv.check.MigrationProperty.Op.continuation(op.vcpu())
                        : scheduleTo[a] >= 0 ? new org.hybridv.check.MigrationProperty.Op(op.vcpu(), null, null,
                                scheduleTo[a]) : new org.hybridv.check.MigrationProperty.Op(op.vcpu(), op.insn(),
                                        op.regs(), 0));
            }
            doc = new org.hybridv.check.MigrationProperty().scenario(new org.hybridv.check.MigrationProperty.Run(
                    steps), faults, violation);
            ((ObjectNode) doc.path("machine").path("hypervisor")).put("pcpus", pcpus);
        }
        for (long[] v : built) {
            for (JsonNode d : doc.path("machine").path("hypervisor").path("domains")) {
                if (d.path("id").asLong() == v[0]) {
                    ObjectNode vcpu = ((ArrayNode) d.get("vcpus")).addObject().put("vpid", v[1]).put("cr3", v[2]);
                    if (v[3] != 0) {
                        vcpu.put("cpl", v[3]);
                    }
                }
            }
        }
        return doc;
    }

    @Override
    public List<XenMachine> initialStates() {
        return List.of(initial);
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
    public boolean enabled(XenMachine s, int a) {
        if (deliverOn[a] >= 0) {
            return !s.tlbFlush().pendingFlushes(deliverOn[a]).isEmpty(); // IPI-1: only a pending IPI is taken
        }
        VcpuId v = ops.get(a).vcpu();
        if (continues[a]) {
            return s.tlbFlush().inFlight(v).map(org.hybridv.xen.HypercallInFlight::canContinue).orElse(false);
        }
        if (scheduleTo[a] >= 0) {
            // a blocked vCPU runs nothing, but the scheduler may still move it — unless it waits inside a hypercall
            return s.tlbFlush().inFlight().isEmpty() || s.tlbFlush().inFlight(v).isEmpty();
        }
        // IPI-5: nothing runs on a pCPU whose hypervisor waits for a hypercall's flush acknowledgements
        return !s.vcpu(v).blocked() && (s.tlbFlush().inFlight().isEmpty()
                || org.hybridv.xen.FlushIpis.occupying(s, s.vcpu(v).pcpu()).isEmpty());
    }

    /**
     * The fingerprint of {@code s} with its active pCPU set to 0: the explorer's states do not record which pCPU the
     * hypervisor ran on last. That is exact: every guest step begins by making its vCPU's pCPU active
     * ({@code Hypervisor.run}), a migration restores the active pCPU it found ({@code Hypervisor.schedule}), and no
     * invariant reads it (they quantify over the pCPUs by number), so two machines that differ only in the active
     * pCPU have the same successors up to it and the same verdicts ({@code PartialOrderTest} checks it on every
     * shipped configuration with more than one pCPU). With one pCPU it is always 0, and nothing changes.
     */
    @Override
    public long fingerprint(XenMachine s) {
        XenMachine n = s.withActive(0);
        return symmetry == null ? CanonicalEncoder.fingerprint(n) : symmetry.canonical(n);
    }

    @Override
    public Checked checkInitial(XenMachine s) {
        int checks = 0;
        String[] names = {"I1", "I2", "I6"};
        boolean[] on = {i1, i2, i6};
        for (int i = 0; i < 3; i++) {
            if (!on[i]) {
                continue;
            }
            checks++;
            InvariantResult r = stateInvariant(i, s);
            if (r instanceof InvariantResult.Violated v) {
                return new Checked(new Verdict.Violated(names[i], v.rule(), 0, "initial state: "
                        + v.explanation()), checks);
            }
        }
        return new Checked(Verdict.HOLDS, checks);
    }

    private static InvariantResult stateInvariant(int i, XenMachine s) {
        return switch (i) {
            case 0 -> Isolation.check(s);
            case 1 -> TranslationIntegrity.check(s);
            default -> TlbCoherence.check(s);
        };
    }

    @Override
    public Transition<XenMachine> step(XenMachine s, int a, int depth, LongPredicate known) {
        HypervisorCases.Op op = ops.get(a);
        if (scheduleTo[a] >= 0) {
            return schedule(s, a, depth, known);
        }
        if (deliverOn[a] >= 0 || continues[a]) {
            return deliverIpi(s, a, depth, known);
        }
        HvStep st;
        try {
            st = Hypervisor.run(s, op.vcpu(), op.insn(), op.regs());
        } catch (RuntimeException e) {
            return new Transition<>(s, fingerprint(s), new Verdict.HarnessError(depth, op + ": " + e), 0);
        }
        XenMachine post = st.machine();
        long fp = fingerprint(post);
        int checks = 0;
        boolean fresh = !known.test(fp);
        String[] names = {"I1", "I2", "I6"};
        boolean[] on = {i1, i2, i6};
        // s passed every state invariant on (it was checked when first found, and a violation ends the search)
        IncrementalInvariants.Change change = fresh && (i1 || i2 || i6) && incremental
                ? IncrementalInvariants.change(s, post) : IncrementalInvariants.Change.ALL;
        for (int i = 0; i < 3; i++) {
            if (on[i] && fresh) {
                checks++;
                if (IncrementalInvariants.check(IncrementalInvariants.Invariant.values()[i], post, change)
                        instanceof InvariantResult.Violated v) {
                    return new Transition<>(post, fp, violated(names[i], v, depth, op, st), checks);
                }
            }
        }
        if (i7) {
            checks++;
            if (ExitCorrectness.check(s, op.vcpu(), op.insn(), st) instanceof InvariantResult.Violated v) {
                return new Transition<>(post, fp, violated("I7", v, depth, op, st), checks);
            }
        }
        return new Transition<>(post, fp, Verdict.HOLDS, checks, footprint(s, a, st));
    }

    /**
     * The footprint of action {@code a}'s step {@code st} from {@code s}, if the action is characterised and the step
     * took the path its read set describes: a guest read or fetch by a vCPU with paging on, retired or delivered to
     * the guest with no VM exit handled ({@link HypervisorFootprints#access}); otherwise none.
     */
    private Footprint footprint(XenMachine s, int a, HvStep st) {
        VcpuId id = ops.get(a).vcpu();
        if (!characterised[a] || symmetry != null || st.vmExits() != 0 || !s.vcpu(id).vmcs().guest().cpu().cr0().pg()
                || !(st.outcome() instanceof org.hybridv.xen.VcpuOutcome.Retired
                        || st.outcome() instanceof org.hybridv.xen.VcpuOutcome.Delivered)) {
            return null;
        }
        return HypervisorFootprints.access(s, st.machine(), id);
    }

    /** Whether action {@code a} may have footprints (its transitions may be independent of others). */
    boolean characterised(int a) {
        return characterised[a];
    }

    /**
     * A {@code schedule} action: {@code Hypervisor.schedule} moves the vCPU to its pCPU; the migration's own
     * post-conditions (MIG-1, MIG-2: {@link MigrationRules}, reported as I6, as the migration property reports them),
     * then I1, I2, I6 on a new state. I7 is about guest instructions and does not apply.
     */
    private Transition<XenMachine> schedule(XenMachine s, int a, int depth, LongPredicate known) {
        HypervisorCases.Op op = ops.get(a);
        XenMachine post;
        try {
            post = Hypervisor.schedule(s, op.vcpu(), scheduleTo[a]);
        } catch (RuntimeException e) {
            return new Transition<>(s, fingerprint(s), new Verdict.HarnessError(depth, names.get(a) + ": " + e), 0);
        }
        long fp = fingerprint(post);
        int[] checks = {1};
        if (MigrationRules.check(s, post, op.vcpu()) instanceof InvariantResult.Violated v) {
            return new Transition<>(post, fp, new Verdict.Violated("I6", v.rule(), depth, names.get(a) + ": "
                    + v.explanation()), checks[0]);
        }
        Transition<XenMachine> violated = stateViolation(post, fp, a, depth, known, checks);
        if (violated != null) {
            return violated;
        }
        return new Transition<>(post, fp, Verdict.HOLDS, checks[0], characterised[a] && symmetry == null
                ? HypervisorFootprints.schedule(s, post, op.vcpu(), scheduleTo[a]) : null);
    }

    /**
     * A {@code deliver_ipi} action: {@code FlushIpis.deliverIpi} on its pCPU (IPI-1; a hypercall whose last
     * acknowledgement it is completes, IPI-2, IPI-3), or a {@code continue_hypercall} action:
     * {@code PreemptibleValidation.continueHypercall} (TYP-8); then I1, I2, I6 on a new state. I7 is about guest
     * instructions and does not apply.
     */
    private Transition<XenMachine> deliverIpi(XenMachine s, int a, int depth, LongPredicate known) {
        XenMachine post;
        try {
            post = continues[a] ? org.hybridv.xen.PreemptibleValidation.continueHypercall(s, ops.get(a).vcpu())
                    .machine() : org.hybridv.xen.FlushIpis.deliverIpi(s, deliverOn[a]).machine();
        } catch (RuntimeException e) {
            return new Transition<>(s, fingerprint(s), new Verdict.HarnessError(depth, names.get(a) + ": " + e), 0);
        }
        long fp = fingerprint(post);
        int[] checks = {0};
        Transition<XenMachine> violated = stateViolation(post, fp, a, depth, known, checks);
        return violated != null ? violated : new Transition<>(post, fp, Verdict.HOLDS, checks[0]);
    }

    /**
     * I1, I2, I6 (those the configuration asks for) on {@code post}, a state not seen before: the transition of
     * action {@code a} that violates the first, or null; each check run is counted in {@code checks[0]}.
     */
    private Transition<XenMachine> stateViolation(XenMachine post, long fp, int a, int depth, LongPredicate known,
            int[] checks) {
        if (known.test(fp)) {
            return null;
        }
        String[] invariantNames = {"I1", "I2", "I6"};
        boolean[] on = {i1, i2, i6};
        for (int i = 0; i < 3; i++) {
            if (on[i]) {
                checks[0]++;
                if (stateInvariant(i, post) instanceof InvariantResult.Violated v) {
                    return new Transition<>(post, fp, new Verdict.Violated(invariantNames[i], v.rule(), depth,
                            names.get(a) + ": " + v.explanation()), checks[0]);
                }
            }
        }
        return null;
    }

    /** As {@code HypervisorProperty} words a violation: the op, its outcome, the invariant's explanation. */
    private static Verdict violated(String name, InvariantResult.Violated v, int depth, HypervisorCases.Op op,
            HvStep st) {
        return new Verdict.Violated(name, v.rule(), depth, op + " → " + st.outcome() + ": " + v.explanation());
    }
}
