package org.hybridv.explore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import org.hybridv.check.Verdict;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.invariants.DeviceIsolation;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.PvInvariants;
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
 *
 * <p>The interface worlds (docs/explore.md) add, after those: I10 over an event-channel send, EMU over an MSR or port
 * access ({@code DeviceIsolation.checkAccess}), MU-7's batch property on a step where a vCPU's batch returns
 * ({@link #batchWrong}), then I9, I11 and EMU on a new state — with actions for event channels, grant tables, the
 * granting guest's stores, RDMSR/WRMSR, IN/OUT, and the batched {@code mmu_update} with its preemption and re-issue
 * (the continuation kept in the vCPU, {@code Vcpu.continuation}, so it is part of the state and its fingerprint).
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
    /** Per action, what it is beyond an instruction with its registers: {@link #OP} or one of the kinds below. */
    private final int[] special;
    /**
     * Per action, its arguments beyond the op: a grant's ({@link GrantStore}), a batch's ({@link Batch}), the port
     * bound of an event-channel command that opens a port (an {@code Integer}); null for the others.
     */
    private final Object[] extra;
    /** Per action, the local port of an {@code evtchn send} (I10 is checked over it), or -1. */
    private final int[] sendPort;
    private final boolean i9;
    private final boolean i10;
    private final boolean i11;
    private final boolean emu;
    private final boolean batchProperty;
    /** The batch buffer of each vCPU that has {@code mmu_batch} actions (MU-7's property reads it). */
    private final java.util.Map<VcpuId, Long> buffers;
    /**
     * Whether the world or alphabet has what no property's scenario expresses (the para-virtual set-up, grants,
     * events, MSR and port accesses, batches): a finding then writes no scenario.
     */
    private final boolean beyondScenarios;
    /** The configuration's para-virtual set-up (a PV-interface scenario starts with it). */
    private final List<ExploreConfig.PvSetup> pvSetup;
    /**
     * Whether the world has the para-virtual interface and every action is one a PV-interface scenario expresses (an
     * event-channel or grant-table hypercall, a granting guest's store, a guest memory access) on one pCPU: a finding of I1, I2, I6, I9, I10 or I11 is then
     * written as the {@code pv-interface} property writes its own.
     */
    private final boolean pvScenario;

    /** An instruction of the vCPU with the op's registers ({@code Hypervisor.run}). */
    private static final int OP = 0;
    /** The granting guest's store into its grant table ({@code GrantTables.guestGrant}); extra: {@link GrantStore}. */
    private static final int GRANT = 1;
    /** The guest fills its batch buffer and issues the batched mmu_update; extra: {@link Batch}. */
    private static final int BATCH = 2;
    /** The hypervisor preempts the vCPU's batch ({@code MmuBatch.preempt}, MU-8). */
    private static final int PREEMPT = 3;
    /** The guest executes its VMCALL again with the continuation its vCPU holds (MU-8). */
    private static final int REISSUE = 4;

    /** The block front-end's stores of a request into its ring; extra: the {@link ExploreConfig.BlkRequest}. */
    private static final int BLK_PUSH = 5;
    /** One pass of the block back-end's request loop ({@code BlkBack.serve}); extra: the back-end's domain. */
    private static final int BLK_SERVE = 6;

    /** A {@code blk_push} action's request and the bound on the requests pushed since the set-up. */
    private record Push(ExploreConfig.BlkRequest request, int max) {}

    /** The configuration's block driver (null: none), and whether I11-blk is checked. */
    private final ExploreConfig.BlkSetup blk;
    private final boolean i11blk;

    /** A grant store's arguments: ref, the domain granted to, the frame, read-only, or the grant's end. */
    private record GrantStore(int ref, int to, long frame, boolean readonly, boolean end) {}

    /** A batch action's buffer (guest-linear) and requests ({ptr, val} each). */
    private record Batch(long buffer, List<long[]> requests) {}

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
        this.initial = withBlkSetup(withPvSetup(withNewVcpus(pcpus == 1 ? HypervisorCases.initialMachine(faults)
                : HypervisorCases.initialMachine(faults, pcpus), config.newVcpus(), b), config.pvSetup()),
                config.blkSetup());
        this.blk = config.blkSetup();
        this.i11blk = config.invariants().contains("I11-blk");
        this.built = List.copyOf(b);
        List<HypervisorCases.Op> o = new ArrayList<>();
        List<String> n = new ArrayList<>();
        List<Integer> to = new ArrayList<>();
        List<Boolean> known = new ArrayList<>();
        List<Integer> on = new ArrayList<>();
        List<Integer> sp = new ArrayList<>();
        List<Object> ex = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        java.util.Map<VcpuId, Long> bufs = new java.util.TreeMap<>(java.util.Comparator.comparingInt(VcpuId::domain)
                .thenComparingInt(VcpuId::vcpu));
        boolean beyond = !config.pvSetup().isEmpty() || config.blkSetup() != null;
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
            if (group instanceof ExploreConfig.BlkPush || group instanceof ExploreConfig.BlkServe) {
                expandBlk(group, o, n, sp, ex, ports);
                while (to.size() < o.size()) {
                    to.add(-1);
                    on.add(-1);
                    known.add(false); // no footprint: dependent with every action
                }
            }
            pad(sp, ex, ports, o.size());
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
                } else if (extended(group)) {
                    beyond = true;
                    expandExtended(group, id, v, o, n, sp, ex, ports);
                    if (group instanceof ExploreConfig.MmuBatch mb) {
                        bufs.put(id, mb.buffer().raw());
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
                while (to.size() < o.size()) {
                    to.add(-1);
                }
                pad(sp, ex, ports, o.size());
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
        this.i9 = config.invariants().contains("I9");
        this.i10 = config.invariants().contains("I10");
        this.i11 = config.invariants().contains("I11");
        this.emu = config.invariants().contains("EMU");
        this.batchProperty = config.invariants().contains("batch");
        this.special = sp.stream().mapToInt(Integer::intValue).toArray();
        this.extra = ex.toArray();
        this.sendPort = ports.stream().mapToInt(Integer::intValue).toArray();
        this.buffers = java.util.Collections.unmodifiableMap(bufs);
        this.beyondScenarios = beyond || i9 || i10 || i11 || emu || batchProperty;
        this.pvSetup = config.pvSetup();
        boolean pv = beyond && pcpus == 1 && config.newVcpus().isEmpty();
        for (ExploreConfig.Group g : config.actions()) {
            pv &= g instanceof ExploreConfig.Evtchn || g instanceof ExploreConfig.Gnttab
                    || g instanceof ExploreConfig.Grant || g instanceof ExploreConfig.Access;
        }
        this.pvScenario = pv;
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

    private static void pad(List<Integer> sp, List<Object> ex, List<Integer> ports, int size) {
        while (sp.size() < size) {
            sp.add(OP);
            ex.add(null);
            ports.add(-1);
        }
    }

    /**
     * The actions of a {@code blk_push} group (one per request: the front-end's stores) or a {@code blk_serve} group
     * (one per back-end: its serving pass). Their op is a placeholder naming the front-end's or the back-end's vCPU 0;
     * {@link #step} runs the stores or {@code BlkBack.serve}.
     */
    private void expandBlk(ExploreConfig.Group group, List<HypervisorCases.Op> o, List<String> n, List<Integer> sp,
            List<Object> ex, List<Integer> ports) {
        if (group instanceof ExploreConfig.BlkPush p) {
            VcpuId front = new VcpuId(blk.frontEnd(), 0);
            for (ExploreConfig.BlkRequest r : p.requests()) {
                o.add(new HypervisorCases.Op(front, new GuestInstruction.Hlt(), Hypercall.of(0)));
                StringBuilder name = new StringBuilder("d" + blk.frontEnd() + " pushes " + r.operation() + " id "
                        + r.id() + " sector " + r.sector());
                for (ExploreConfig.BlkSegment g : r.segs()) {
                    name.append(", gref ").append(g.gref()).append(" sectors ").append(g.firstSect()).append("..")
                            .append(g.lastSect());
                }
                n.add(name.toString());
                sp.add(BLK_PUSH);
                ex.add(new Push(r, p.maxRequests()));
                ports.add(-1);
            }
        } else {
            for (int d : ((ExploreConfig.BlkServe) group).backEnds()) {
                if (d != blk.backEnd()) {
                    throw new IllegalArgumentException("blk_serve: d" + d + " is not the block back-end (blkSetup: d"
                            + blk.backEnd() + ")");
                }
                o.add(new HypervisorCases.Op(new VcpuId(d, 0), new GuestInstruction.Hlt(), Hypercall.of(0)));
                n.add("d" + d + " serves its ring");
                sp.add(BLK_SERVE);
                ex.add(d);
                ports.add(-1);
            }
        }
    }

    /**
     * {@code m} with the configuration's block driver connected ({@link ExploreConfig.BlkSetup}), as the
     * {@code pv-interface} property brings its own up: the back-end built, the front-end's ring initialised (at its
     * index, BLK-8) and granted, an unbound port allocated by the front-end, the connection (BLK-3).
     *
     * @throws IllegalArgumentException if a step is refused
     */
    private static XenMachine withBlkSetup(XenMachine m, ExploreConfig.BlkSetup b) {
        if (b == null) {
            return m;
        }
        if (!m.domains().containsKey(b.frontEnd()) || m.pv().domain(b.frontEnd()).grantTable() < 0) {
            throw new IllegalArgumentException("blkSetup: the front-end d" + b.frontEnd() + " needs a grant table"
                    + " (a pvSetup entry)");
        }
        long f = b.firstFrame().raw();
        org.hybridv.xen.HvResult built = org.hybridv.xen.BlkBack.create(m, b.backEnd(), new long[] {f, f + 1, f + 2,
            f + 3}, b.vpid());
        if (!(built instanceof org.hybridv.xen.HvResult.Done d)) {
            throw new IllegalArgumentException("blkSetup: the domain builder refuses the back-end: " + built);
        }
        m = d.machine();
        long[] w = org.hybridv.xen.Blkif.words(org.hybridv.xen.Blkif.attachedAt(b.index()));
        m = m.withPaging(m.paging().withMemory(m.memory().write(b.ring().raw(), 0, w[0]).write(b.ring().raw(), 1,
                w[1])));
        XenMachine g = org.hybridv.xen.GrantTables.guestGrant(m, b.frontEnd(), b.ringRef(), b.backEnd(),
                b.ring().raw(), false, false);
        if (g == null) {
            throw new IllegalArgumentException("blkSetup: d" + b.frontEnd() + " cannot grant its ring");
        }
        HvStep port = Hypervisor.hypercall(g, g.domain(b.frontEnd()).vcpu(0).id(), evtchn(
                org.hybridv.xen.EventChannels.EVTCHNOP_ALLOC_UNBOUND, org.hybridv.xen.EventChannels.DOMID_SELF,
                b.backEnd()));
        if (!(port.outcome() instanceof org.hybridv.xen.VcpuOutcome.HypercallDone done)) {
            throw new IllegalArgumentException("blkSetup: the hypervisor refuses the front-end's port: "
                    + port.outcome());
        }
        org.hybridv.xen.BlkBack.Result c = org.hybridv.xen.BlkBack.connect(port.machine(), b.backEnd(), b.frontEnd(),
                b.ringRef(), done.rax());
        if (!(c instanceof org.hybridv.xen.BlkBack.Served connected)) {
            throw new IllegalArgumentException("blkSetup: the back-end does not connect: " + c);
        }
        return connected.machine();
    }

    /** The front-end's stores of request {@code r} into its ring at {@code req_prod}, then req_prod + 1. */
    private XenMachine push(XenMachine m, ExploreConfig.BlkRequest r) {
        long ring = blk.ring().raw();
        org.hybridv.xen.Blkif.Indices i = org.hybridv.xen.Blkif.indices(m.memory(), ring);
        int slot = org.hybridv.xen.Blkif.slot(i.reqProd());
        ExploreConfig.BlkSegment first = r.segs().get(0);
        long[] w = org.hybridv.xen.Blkif.words(new org.hybridv.xen.Blkif.Request("read".equals(r.operation())
                ? org.hybridv.xen.Blkif.BLKIF_OP_READ : org.hybridv.xen.Blkif.BLKIF_OP_WRITE, r.segs().size(), 0,
                r.id(), r.sector(), first.gref(), first.firstSect(), first.lastSect()));
        org.hybridv.x86.PhysicalMemory mem = m.memory();
        for (int k = 0; k < 3; k++) {
            mem = mem.write(ring, slot + k, w[k]);
        }
        for (int k = 0; k < r.segs().size(); k++) {
            ExploreConfig.BlkSegment g = r.segs().get(k);
            mem = mem.write(ring, slot + 3 + k, org.hybridv.xen.Blkif.word(new org.hybridv.xen.Blkif.Segment(g.gref(),
                    g.firstSect(), g.lastSect())));
        }
        long[] ix = org.hybridv.xen.Blkif.words(new org.hybridv.xen.Blkif.Indices((i.reqProd() + 1) & 0xFFFF_FFFFL,
                i.reqEvent(), i.rspProd(), i.rspEvent()));
        return m.withPaging(m.paging().withMemory(mem.write(ring, 0, ix[0])));
    }

    /** Whether {@code g} is a kind of the para-virtual interface, emulation or batch actions. */
    private static boolean extended(ExploreConfig.Group g) {
        return g instanceof ExploreConfig.Evtchn || g instanceof ExploreConfig.Gnttab || g instanceof ExploreConfig.Grant
                || g instanceof ExploreConfig.Msr || g instanceof ExploreConfig.Io || g instanceof ExploreConfig.MmuBatch
                || g instanceof ExploreConfig.Preempt || g instanceof ExploreConfig.Reissue;
    }

    /**
     * The actions of a para-virtual, emulation or batch group for vCPU {@code id} (named {@code v}), with their kind
     * ({@code sp}), arguments ({@code ex}) and the port of a send ({@code ports}).
     */
    private static void expandExtended(ExploreConfig.Group group, VcpuId id, String v, List<HypervisorCases.Op> o,
            List<String> n, List<Integer> sp, List<Object> ex, List<Integer> ports) {
        Hypercall none = Hypercall.of(0);
        int before = o.size();
        if (group instanceof ExploreConfig.Evtchn e) {
            for (String c : e.cmds()) {
                int cmd = ExploreConfig.Evtchn.CMDS.get(c);
                if (c.equals("alloc_unbound")) {
                    for (int d : e.domains()) {
                        o.add(call(id, evtchn(cmd, org.hybridv.xen.EventChannels.DOMID_SELF, d)));
                        n.add(v + " evtchn alloc_unbound for d" + d);
                        ports.add(-1);
                        sp.add(OP);
                        ex.add(e.maxPorts());
                    }
                } else if (c.equals("bind_interdomain")) {
                    for (int d : e.domains()) {
                        for (int p : e.ports()) {
                            o.add(call(id, evtchn(cmd, d, p)));
                            n.add(v + " evtchn bind_interdomain d" + d + " port " + p);
                            ports.add(-1);
                            sp.add(OP);
                            ex.add(e.maxPorts());
                        }
                    }
                } else {
                    for (int p : e.ports()) {
                        o.add(call(id, evtchn(cmd, p, 0)));
                        n.add(v + " evtchn " + c + " port " + p);
                        ports.add(c.equals("send") ? p : -1);
                        sp.add(OP);
                        ex.add(null);
                    }
                }
            }
        } else if (group instanceof ExploreConfig.Gnttab g) {
            for (String c : g.cmds()) {
                if (c.equals("map")) {
                    for (ExploreConfig.Value at : g.addresses()) {
                        for (int d : g.domains()) {
                            for (int r : g.refs()) {
                                for (boolean ro : g.readonly()) {
                                    o.add(call(id, gnttab(org.hybridv.xen.GrantTables.GNTTABOP_MAP_GRANT_REF, at.raw(),
                                            org.hybridv.xen.GrantTables.GNTMAP_HOST_MAP | (ro
                                                    ? org.hybridv.xen.GrantTables.GNTMAP_READONLY : 0), r, d)));
                                    n.add(v + " gnttab map " + Hex.of(at.raw()) + " := d" + d + " ref " + r
                                            + (ro ? " read-only" : " writable"));
                                }
                            }
                        }
                    }
                } else if (c.equals("unmap")) {
                    for (ExploreConfig.Value at : g.addresses()) {
                        for (int h : g.handles()) {
                            o.add(call(id, gnttab(org.hybridv.xen.GrantTables.GNTTABOP_UNMAP_GRANT_REF, at.raw(), h, 0,
                                    0)));
                            n.add(v + " gnttab unmap " + Hex.of(at.raw()) + " handle " + h);
                        }
                    }
                } else {
                    for (int d : g.domains()) {
                        for (int r : g.refs()) {
                            for (ExploreConfig.Value f : g.frames()) {
                                o.add(call(id, gnttab(org.hybridv.xen.GrantTables.GNTTABOP_COPY, ((long) d << 32) | r,
                                        ((long) id.domain() << 32) | f.raw(),
                                        org.hybridv.xen.GrantTables.GNTCOPY_SOURCE_GREF, 8)));
                                n.add(v + " gnttab copy d" + d + " ref " + r + " → " + Hex.of(f.raw()));
                            }
                        }
                    }
                }
            }
        } else if (group instanceof ExploreConfig.Grant g) {
            for (int r : g.refs()) {
                for (boolean end : g.end()) {
                    if (end) {
                        o.add(new HypervisorCases.Op(id, new GuestInstruction.Hlt(), none));
                        n.add(v + " grant end ref " + r);
                        sp.add(GRANT);
                        ex.add(new GrantStore(r, 0, 0, false, true));
                        continue;
                    }
                    for (int d : g.domains()) {
                        for (ExploreConfig.Value f : g.frames()) {
                            for (boolean ro : g.readonly()) {
                                o.add(new HypervisorCases.Op(id, new GuestInstruction.Hlt(), none));
                                n.add(v + " grant ref " + r + " to d" + d + " frame " + Hex.of(f.raw())
                                        + (ro ? " read-only" : " writable"));
                                sp.add(GRANT);
                                ex.add(new GrantStore(r, d, f.raw(), ro, false));
                            }
                        }
                    }
                }
            }
        } else if (group instanceof ExploreConfig.Msr m) {
            for (String k : m.kinds()) {
                for (ExploreConfig.Value msr : m.msrs()) {
                    if (k.equals("rdmsr")) {
                        o.add(new HypervisorCases.Op(id, new GuestInstruction.Rdmsr(msr.raw()), none));
                        n.add(v + " rdmsr " + Hex.of(msr.raw()));
                    } else {
                        for (ExploreConfig.Value x : m.values()) {
                            o.add(new HypervisorCases.Op(id, new GuestInstruction.Wrmsr(msr.raw(), x.raw()), none));
                            n.add(v + " wrmsr " + Hex.of(msr.raw()) + " := " + Hex.of(x.raw()));
                        }
                    }
                }
            }
        } else if (group instanceof ExploreConfig.Io io) {
            for (String k : io.kinds()) {
                for (int port : io.ports()) {
                    for (ExploreConfig.Value x : k.equals("in") ? List.of(new ExploreConfig.Value(0)) : io.values()) {
                        o.add(new HypervisorCases.Op(id, new GuestInstruction.Io(port, 1, k.equals("in"), false, false,
                                false, x.raw()), none));
                        n.add(v + " " + k + " port " + Hex.of(port) + (k.equals("out") ? " := " + Hex.of(x.raw())
                                : ""));
                    }
                }
            }
        } else if (group instanceof ExploreConfig.MmuBatch b) {
            for (int count : b.counts()) {
                List<long[]> requests = new ArrayList<>();
                StringBuilder name = new StringBuilder(v + " mmu_update batch of " + count + ":");
                for (ExploreConfig.Request r : b.requests().subList(0, count)) {
                    requests.add(new long[] {(r.table().raw() << 12) | ((long) r.index() << 3)
                            | Hypercalls.MMU_NORMAL_PT_UPDATE, r.value().raw()});
                    name.append(" ").append(Hex.of(r.table().raw())).append("[").append(r.index()).append("] := ")
                            .append(Hex.of(r.value().raw()));
                }
                o.add(call(id, org.hybridv.xen.MmuBatch.batch(b.buffer().raw() + 16, count, b.buffer().raw())));
                n.add(name.toString());
                sp.add(BATCH);
                ex.add(new Batch(b.buffer().raw(), List.copyOf(requests)));
            }
        } else if (group instanceof ExploreConfig.Preempt) {
            o.add(new HypervisorCases.Op(id, new GuestInstruction.Hlt(), none));
            n.add(v + " preempted in its batch");
            sp.add(PREEMPT);
            ex.add(null);
        } else if (group instanceof ExploreConfig.Reissue) {
            o.add(new HypervisorCases.Op(id, new GuestInstruction.Vmcall(), none));
            n.add(v + " reissue its continuation");
            sp.add(REISSUE);
            ex.add(null);
        }
        while (sp.size() < o.size()) {
            sp.add(OP);
            ex.add(null);
        }
        while (ports.size() < o.size()) {
            ports.add(-1);
        }
        if (o.size() == before) {
            throw new IllegalStateException("no action for " + group);
        }
    }

    private static Hypercall evtchn(int cmd, long a1, long a2) {
        return Hypercall.of(org.hybridv.xen.PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP, cmd, a1, a2);
    }

    private static Hypercall gnttab(int cmd, long a1, long a2, long a3, long a4) {
        return Hypercall.of(org.hybridv.xen.PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd, a1, a2, a3, a4);
    }

    /**
     * {@code m} with each listed domain's para-virtual interface set up by its vCPU 0 ({@link ExploreConfig.PvSetup}):
     * shared-info page (EVT-1), grant table (GNT-1), upcall vector (EVT-9).
     *
     * @throws IllegalArgumentException if a domain does not exist or the hypervisor refuses a step
     */
    private static XenMachine withPvSetup(XenMachine m, List<ExploreConfig.PvSetup> setup) {
        for (int i = 0; i < setup.size(); i++) {
            ExploreConfig.PvSetup p = setup.get(i);
            if (!m.domains().containsKey(p.domain())) {
                throw new IllegalArgumentException("pvSetup[" + i + "]: no domain " + p.domain() + " in this world"
                        + " (known: " + m.domains().keySet() + ")");
            }
            VcpuId v = m.domain(p.domain()).vcpu(0).id();
            Hypercall[] calls = {Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP,
                    org.hybridv.xen.PvHypercalls.XENMEM_ADD_TO_PHYSMAP, org.hybridv.xen.PvHypercalls.XENMAPSPACE_SHARED_INFO,
                    p.sharedInfo().raw()), Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP,
                    org.hybridv.xen.PvHypercalls.XENMEM_ADD_TO_PHYSMAP, org.hybridv.xen.PvHypercalls.XENMAPSPACE_GRANT_TABLE,
                    p.grantTable().raw()), Hypercall.of(org.hybridv.xen.PvHypercalls.HYPERVISOR_HVM_OP,
                    org.hybridv.xen.PvHypercalls.HVMOP_SET_PARAM, org.hybridv.xen.PvHypercalls.HVM_PARAM_CALLBACK_IRQ,
                    (org.hybridv.xen.PvHypercalls.HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | p.vector())};
            for (Hypercall c : calls) {
                HvStep st = Hypervisor.hypercall(m, v, c);
                if (!(st.outcome() instanceof org.hybridv.xen.VcpuOutcome.HypercallDone)) {
                    throw new IllegalArgumentException("pvSetup[" + i + "]: the hypervisor refuses " + c + ": "
                            + st.outcome());
                }
                m = st.machine();
            }
        }
        return m;
    }

    private static HypervisorCases.Op call(VcpuId id, Hypercall h) {
        return new HypervisorCases.Op(id, new GuestInstruction.Vmcall(), h);
    }

    /** The operation of action {@code a}. */
    public HypervisorCases.Op op(int a) {
        return ops.get(a);
    }

    /** {@code pv-interface} for a PV-interface world (its scenarios are that property's), else {@code hypervisor}. */
    @Override
    public String property() {
        return pvScenario ? "pv-interface" : "hypervisor";
    }

    @Override
    public ObjectNode scenario(List<Integer> actions, Faults faults,
            Verdict.Violated violation) {
        if (pvScenario && List.of("I1", "I2", "I6", "I9", "I10", "I11").contains(violation.invariant())) {
            return pvScenario(actions, faults, violation);
        }
        if (beyondScenarios) {
            return null; // no property's scenario has these steps or checks (docs/explore.md)
        }
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

    /**
     * The scenario of a PV-interface world's run, as {@code PvInterfaceProperty} writes its own: the hypervisor
     * property's machine, the configuration's {@code pvSetup} steps, one step per action ({@code eventChannelOp},
     * {@code grantTableOp}, {@code grantAccess}, a {@code guest} access), then {@code checkInvariants} (I1, I2, I6) or
     * {@code checkPv} (I9, I10, I11) expecting the violation.
     */
    private ObjectNode pvScenario(List<Integer> actions, Faults faults, Verdict.Violated violation) {
        ObjectNode doc = new org.hybridv.check.HypervisorProperty().scenario(new HypervisorCases.Run(
                HypervisorCases.initialMachine(), List.of()), faults, new Verdict.Violated("I1", "I1", 0, ""));
        doc.remove("steps");
        ArrayNode steps = doc.putArray("steps");
        for (ExploreConfig.PvSetup p : pvSetup) {
            steps.add(org.hybridv.check.Capture.step(new org.hybridv.scenario.pv.PvStep.PvSetup(p.domain(), 0,
                    p.sharedInfo().raw(), p.grantTable().raw(), p.vector(), null)));
        }
        int n = Math.min(actions.size(), violation.step());
        for (int i = 0; i < n; i++) {
            steps.add(org.hybridv.check.Capture.step(pvStep(actions.get(i))));
        }
        String inv = violation.invariant();
        if (inv.equals("I1") || inv.equals("I2") || inv.equals("I6")) {
            steps.add(org.hybridv.check.Capture.step(org.hybridv.scenario.xen.XenStep.CheckInvariants.of(inv,
                    org.hybridv.scenario.xen.XenStep.InvariantState.VIOLATED)));
        } else {
            org.hybridv.scenario.pv.PvStep.Verdict bad = org.hybridv.scenario.pv.PvStep.Verdict.VIOLATED;
            steps.add(org.hybridv.check.Capture.step(new org.hybridv.scenario.pv.PvStep.CheckPv(
                    new org.hybridv.scenario.pv.PvStep.PvInvariantsExpect(inv.equals("I9") ? bad : null,
                            inv.equals("I10") ? bad : null, inv.equals("I11") ? bad : null))));
        }
        return doc;
    }

    /** The scenario step of action {@code a} of a PV-interface world. */
    private org.hybridv.scenario.Step pvStep(int a) {
        HypervisorCases.Op op = ops.get(a);
        int d = op.vcpu().domain();
        int v = op.vcpu().vcpu();
        if (special[a] == GRANT) {
            GrantStore g = (GrantStore) extra[a];
            return g.end() ? new org.hybridv.scenario.pv.PvStep.GrantAccess(d, g.ref(), null, null, null, true, null)
                    : new org.hybridv.scenario.pv.PvStep.GrantAccess(d, g.ref(), g.to(), g.frame(), g.readonly(),
                            null, null);
        }
        if (!(op.insn() instanceof GuestInstruction.Vmcall)) {
            return org.hybridv.scenario.xen.XenStep.Guest.of(d, v, op.insn());
        }
        Hypercall h = op.regs();
        if (h.number() == org.hybridv.xen.PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP) {
            int cmd = (int) h.arg(0);
            org.hybridv.scenario.pv.PvStep.EvtchnCmd c = cmd == org.hybridv.xen.EventChannels.EVTCHNOP_ALLOC_UNBOUND
                    ? org.hybridv.scenario.pv.PvStep.EvtchnCmd.ALLOC_UNBOUND
                    : cmd == org.hybridv.xen.EventChannels.EVTCHNOP_BIND_INTERDOMAIN
                    ? org.hybridv.scenario.pv.PvStep.EvtchnCmd.BIND_INTERDOMAIN
                    : cmd == org.hybridv.xen.EventChannels.EVTCHNOP_SEND ? org.hybridv.scenario.pv.PvStep.EvtchnCmd.SEND
                    : cmd == org.hybridv.xen.EventChannels.EVTCHNOP_CLOSE
                    ? org.hybridv.scenario.pv.PvStep.EvtchnCmd.CLOSE : org.hybridv.scenario.pv.PvStep.EvtchnCmd.UNMASK;
            return switch (c) {
                case ALLOC_UNBOUND -> new org.hybridv.scenario.pv.PvStep.EventChannelOp(d, v, c, (int) h.arg(2), null,
                        null, null, null, null);
                case BIND_INTERDOMAIN -> new org.hybridv.scenario.pv.PvStep.EventChannelOp(d, v, c, (int) h.arg(1),
                        (int) h.arg(2), null, null, null, null);
                default -> new org.hybridv.scenario.pv.PvStep.EventChannelOp(d, v, c, null, null, (int) h.arg(1), null,
                        null, null);
            };
        }
        long cmd = h.arg(0);
        org.hybridv.scenario.pv.PvStep.GnttabCmd map = org.hybridv.scenario.pv.PvStep.GnttabCmd.MAP_GRANT_REF;
        if (cmd == org.hybridv.xen.GrantTables.GNTTABOP_MAP_GRANT_REF) {
            return new org.hybridv.scenario.pv.PvStep.GrantTableOp(d, v, map, h.arg(1), (int) h.arg(3),
                    (int) h.arg(4), (h.arg(2) & org.hybridv.xen.GrantTables.GNTMAP_READONLY) != 0, null, null, null,
                    null, null, null, null, null, null);
        }
        if (cmd == org.hybridv.xen.GrantTables.GNTTABOP_UNMAP_GRANT_REF) {
            return new org.hybridv.scenario.pv.PvStep.GrantTableOp(d, v,
                    org.hybridv.scenario.pv.PvStep.GnttabCmd.UNMAP_GRANT_REF, h.arg(1), null, null, null,
                    (int) h.arg(2), null, null, null, null, null, null, null, null);
        }
        return new org.hybridv.scenario.pv.PvStep.GrantTableOp(d, v, org.hybridv.scenario.pv.PvStep.GnttabCmd.COPY,
                null, null, null, null, null, (int) (h.arg(1) >>> 32), (int) (h.arg(1) & 0xFFFF_FFFFL), null,
                (int) (h.arg(2) >>> 32), null, h.arg(2) & 0xFFFF_FFFFL, (int) h.arg(4), null);
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
        if (special[a] == BLK_SERVE) {
            return true;
        }
        if (special[a] == BLK_PUSH) {
            // the front-end pushes only into a free slot (RING_FULL: 32 requests unanswered)
            // and only within the world's bound on the requests pushed since the set-up (ExploreConfig.BlkPush)
            org.hybridv.xen.Blkif.Indices i = org.hybridv.xen.Blkif.indices(s.memory(), blk.ring().raw());
            return ((i.reqProd() - i.rspProd()) & 0xFFFF_FFFFL) < org.hybridv.xen.Blkif.RING_SIZE
                    && ((i.reqProd() - blk.index()) & 0xFFFF_FFFFL) < ((Push) extra[a]).max();
        }
        VcpuId v = ops.get(a).vcpu();
        if (special[a] == PREEMPT) {
            // MU-8: between two requests of its batch, with requests left, awaiting no acknowledgement
            return s.tlbFlush().inFlight(v).filter(h -> org.hybridv.xen.MmuBatch.isBatch(h.call()) && h.canContinue()
                    && h.nextEntry() < org.hybridv.xen.MmuBatch.count(h.call())).isPresent();
        }
        if (extra[a] instanceof Integer max && s.pv().domain(v.domain()).ports().size() >= max) {
            return false; // the bounded world: the guest opens no port beyond maxPorts (ExploreConfig.Evtchn)
        }
        if (special[a] == GRANT && inUse(s, v.domain(), ((GrantStore) extra[a]).ref())) {
            return false; // GNT-7: the guest rewrites or ends a grant only while Xen shows it unmapped
        }
        if (continues[a]) {
            return s.tlbFlush().inFlight(v).map(org.hybridv.xen.HypercallInFlight::canContinue).orElse(false);
        }
        if (scheduleTo[a] >= 0) {
            // a blocked vCPU runs nothing, but the scheduler may still move it — unless it waits inside a hypercall
            return s.tlbFlush().inFlight().isEmpty() || s.tlbFlush().inFlight(v).isEmpty();
        }
        // MU-8: a vCPU holding a continuation re-executes its VMCALL (its RIP was rewound to it) and nothing else
        if ((s.vcpu(v).continuation() != null) != (special[a] == REISSUE)) {
            return false;
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
        String[] more = {"I9", "I11", "EMU"};
        boolean[] moreOn = {i9, i11, emu};
        for (int i = 0; i < 3; i++) {
            if (moreOn[i]) {
                checks++;
                if (extendedState(i, s) instanceof InvariantResult.Violated v) {
                    return new Checked(new Verdict.Violated(more[i], v.rule(), 0, "initial state: "
                            + v.explanation()), checks);
                }
            }
        }
        return new Checked(Verdict.HOLDS, checks);
    }

    /** I9, I11 ({@link PvInvariants}) or EMU ({@link DeviceIsolation}: EMU-1, EMU-2 over every vCPU's controls). */
    private static InvariantResult extendedState(int i, XenMachine s) {
        return switch (i) {
            case 0 -> PvInvariants.events(s);
            case 1 -> PvInvariants.grants(s);
            default -> DeviceIsolation.check(s);
        };
    }

    /**
     * The invariants of the para-virtual interface, the emulated devices and the batches, those the configuration
     * asks for, over action {@code a}'s transition from {@code pre} to {@code post}: I10 over a send (the only port
     * that became pending is the sending port's peer, EVT-5); MU-7's batch property for each vCPU whose batch returned
     * in this transition ({@link #batchWrong}), reported as the migration property reports it (I7, rule MU-7); then,
     * on a state not seen before, I9, I11 and EMU. {@code outcome}: what the step returned to action {@code a}'s
     * vCPU, if the step has one (null otherwise: a delivery, a grant store). The violation, or null; each check run is
     * counted in {@code checks[0]}.
     */
    private Transition<XenMachine> extendedViolation(XenMachine pre, XenMachine post, long fp, int a, int depth,
            LongPredicate known, int[] checks, org.hybridv.xen.VcpuOutcome outcome) {
        if (i10 && sendPort[a] >= 0) {
            checks[0]++;
            if (PvInvariants.checkSend(pre, post, ops.get(a).vcpu(), sendPort[a])
                    instanceof InvariantResult.Violated v) {
                return new Transition<>(post, fp, new Verdict.Violated("I10", v.rule(), depth, names.get(a) + ": "
                        + v.explanation()), checks[0]);
            }
        }
        if (batchProperty) {
            for (java.util.Map.Entry<VcpuId, Long> b : buffers.entrySet()) {
                VcpuId v = b.getKey();
                boolean issued = special[a] == BATCH && ops.get(a).vcpu().equals(v);
                if ((issued || outstanding(pre, v)) && !outstanding(post, v)) {
                    checks[0]++;
                    boolean success = ops.get(a).vcpu().equals(v)
                            && outcome instanceof org.hybridv.xen.VcpuOutcome.HypercallDone done
                            && org.hybridv.xen.MmuBatch.isBatch(done.call()) && done.rax() == 0;
                    String wrong = batchWrong(post, v, b.getValue(), success);
                    if (wrong != null) {
                        return new Transition<>(post, fp, new Verdict.Violated("I7", "MU-7", depth, names.get(a)
                                + ": " + wrong), checks[0]);
                    }
                }
            }
        }
        if (i11blk && special[a] == BLK_SERVE) {
            checks[0]++;
            if (org.hybridv.invariants.BlockInvariants.checkServe(pre, post, blk.backEnd())
                    instanceof InvariantResult.Violated v) {
                return new Transition<>(post, fp, new Verdict.Violated("I11-blk", v.rule(), depth, names.get(a)
                        + ": " + v.explanation()), checks[0]);
            }
        }
        if (known.test(fp)) {
            return null;
        }
        if (i11blk) {
            checks[0]++;
            if (org.hybridv.invariants.BlockInvariants.check(post, blk.backEnd()) instanceof InvariantResult.Violated v) {
                return new Transition<>(post, fp, new Verdict.Violated("I11-blk", v.rule(), depth, names.get(a)
                        + ": " + v.explanation()), checks[0]);
            }
        }
        String[] more = {"I9", "I11", "EMU"};
        boolean[] on = {i9, i11, emu};
        for (int i = 0; i < 3; i++) {
            if (on[i]) {
                checks[0]++;
                if (extendedState(i, post) instanceof InvariantResult.Violated v) {
                    return new Transition<>(post, fp, new Verdict.Violated(more[i], v.rule(), depth, names.get(a)
                            + ": " + v.explanation()), checks[0]);
                }
            }
        }
        return null;
    }

    /**
     * Whether grant {@code ref} of domain {@code d} is in use as the guest sees it: its entry in the grant-table frame
     * shows GTF_reading or GTF_writing (Xen sets them while the grant is mapped; GNT-2, GNT-7).
     */
    private static boolean inUse(XenMachine m, int d, int ref) {
        long table = m.pv().domain(d).grantTable();
        return table >= 0 && (m.memory().read(table, ref) & (org.hybridv.xen.GrantTables.GTF_READING
                | org.hybridv.xen.GrantTables.GTF_WRITING)) != 0;
    }

    /** Whether vCPU {@code v} has a batch the guest has not seen return: in flight, or preempted and not re-issued. */
    private static boolean outstanding(XenMachine m, VcpuId v) {
        return m.vcpu(v).continuation() != null || m.tlbFlush().inFlight(v).filter(h -> org.hybridv.xen.MmuBatch
                .isBatch(h.call())).isPresent();
    }

    /**
     * MU-7's batch property once vCPU {@code v}'s batch returned to its guest, stated from the rule over what the guest
     * observes (docs/rules/xen.md MU-7, MU-8): its batch buffer at guest-linear {@code buffer} read through its own
     * translation (Intel SDM Vol. 3A §4.5) — {@code *pdone} = d, the count n, the n requests — and the tables: d is at
     * most n, and each entry the first d requests name holds the value the last of them wrote there (the first d
     * requests applied in order); when the guest saw the batch return 0 in RAX ({@code success}), d is n (a batch that
     * succeeds did every request; a refused request stops it with its error). An entry a later request names keeps
     * whatever it held: the tables before the batch are not part of the state. What is wrong, or null (also when the
     * buffer cannot be read: nothing to check).
     */
    static String batchWrong(XenMachine m, VcpuId v, long buffer, boolean success) {
        org.hybridv.x86.CpuState cpu = m.guestCpu(v);
        Long done = guestWord(m, cpu, buffer);
        Long count = guestWord(m, cpu, buffer + 8);
        if (done == null || count == null || count < 0 || count > 16) {
            return null;
        }
        if (done < 0 || done > count) {
            return "*pdone " + done + " after a batch of " + count + " requests (MU-7)";
        }
        if (success && done.longValue() != count.longValue()) {
            return "the batch of " + count + " requests returned 0 with *pdone = " + done + " (MU-7: a batch that"
                    + " succeeds did every request)";
        }
        java.util.Map<Long, Long> expected = new java.util.TreeMap<>();
        for (long j = 0; j < done; j++) {
            Long ptr = guestWord(m, cpu, buffer + 16 + 16 * j);
            Long val = guestWord(m, cpu, buffer + 24 + 16 * j);
            if (ptr == null || val == null) {
                return null;
            }
            expected.put(ptr & ~7L, val);
        }
        for (java.util.Map.Entry<Long, Long> e : expected.entrySet()) {
            long seen = m.memory().readPhysical(e.getKey());
            if (seen != e.getValue()) {
                return "after a batch of " + count + " requests with *pdone = " + done + ", entry " + Hex.of(e.getKey()
                        >>> 12) + "[" + ((e.getKey() & 0xFFF) >>> 3) + "] holds " + Hex.of(seen) + ", not "
                        + Hex.of(e.getValue()) + " (MU-7: the first *pdone requests applied in order)";
            }
        }
        return null;
    }

    /** The word at guest-linear {@code linear} through {@code cpu}'s translation (a supervisor read), or null. */
    private static Long guestWord(XenMachine m, org.hybridv.x86.CpuState cpu, long linear) {
        org.hybridv.x86.Translation t = org.hybridv.x86.PageWalk.translate(m.memory(), cpu, Access.read(linear));
        return t instanceof org.hybridv.x86.Translated x ? m.memory().readPhysical(x.physicalAddress()) : null;
    }

    /**
     * {@code s} after vCPU {@code v}'s guest filled its batch buffer with ordinary stores ({@code Hypervisor.run}):
     * {@code *pdone} = 0, the count, the requests; null if a store did not complete in the guest.
     */
    private static XenMachine fillBuffer(XenMachine s, VcpuId v, Batch b) {
        List<long[]> words = new ArrayList<>();
        words.add(new long[] {b.buffer(), 0});
        words.add(new long[] {b.buffer() + 8, b.requests().size()});
        for (int j = 0; j < b.requests().size(); j++) {
            words.add(new long[] {b.buffer() + 16 + 16L * j, b.requests().get(j)[0]});
            words.add(new long[] {b.buffer() + 24 + 16L * j, b.requests().get(j)[1]});
        }
        for (long[] w : words) {
            HvStep st = Hypervisor.run(s, v, new GuestInstruction.MemoryAccess(Access.write(w[0], w[1])));
            if (!(st.outcome() instanceof org.hybridv.xen.VcpuOutcome.Retired)) {
                return null;
            }
            s = st.machine();
        }
        return s;
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
        if (deliverOn[a] >= 0 || continues[a] || special[a] == GRANT || special[a] == PREEMPT
                || special[a] == BLK_PUSH || special[a] == BLK_SERVE) {
            return deliverIpi(s, a, depth, known);
        }
        HvStep st;
        XenMachine from = s; // the state the instruction runs in (a batch's, after the guest filled its buffer)
        try {
            if (special[a] == BATCH) {
                from = fillBuffer(s, op.vcpu(), (Batch) extra[a]);
                if (from == null) {
                    return new Transition<>(s, fingerprint(s), new Verdict.HarnessError(depth, names.get(a)
                            + ": the guest's stores into its batch buffer do not complete (is it mapped writable?)"),
                            0);
                }
            }
            Hypercall regs = special[a] == REISSUE ? s.vcpu(op.vcpu()).continuation() : op.regs();
            op = new HypervisorCases.Op(op.vcpu(), op.insn(), regs);
            st = Hypervisor.run(from, op.vcpu(), op.insn(), regs);
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
            if (ExitCorrectness.check(from, op.vcpu(), op.insn(), st) instanceof InvariantResult.Violated v) {
                return new Transition<>(post, fp, violated("I7", v, depth, op, st), checks);
            }
        }
        if (emu && (op.insn() instanceof GuestInstruction.Rdmsr || op.insn() instanceof GuestInstruction.Wrmsr
                || op.insn() instanceof GuestInstruction.Io)) {
            checks++;
            if (DeviceIsolation.checkAccess(op.insn(), st.vmExits()) instanceof InvariantResult.Violated v) {
                return new Transition<>(post, fp, violated("EMU", v, depth, op, st), checks);
            }
        }
        int[] more = {checks};
        Transition<XenMachine> bad = extendedViolation(s, post, fp, a, depth, known, more, st.outcome());
        if (bad != null) {
            return bad;
        }
        return new Transition<>(post, fp, Verdict.HOLDS, more[0], footprint(s, a, st));
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
        if (violated == null) {
            violated = extendedViolation(s, post, fp, a, depth, known, checks, null);
        }
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
        VcpuId v = ops.get(a).vcpu();
        org.hybridv.xen.VcpuOutcome outcome = null; // a continued hypercall's, when it returns to the guest
        try {
            if (special[a] == GRANT) {
                GrantStore g = (GrantStore) extra[a];
                post = org.hybridv.xen.GrantTables.guestGrant(s, v.domain(), g.ref(), g.to(), g.frame(), g.readonly(),
                        g.end());
                post = post == null ? s : post; // no grant table, or a mapped grant the guest does not end (GNT-7)
            } else if (special[a] == PREEMPT) {
                post = org.hybridv.xen.MmuBatch.preempt(s, v).machine();
            } else if (special[a] == BLK_PUSH) {
                post = push(s, ((Push) extra[a]).request());
            } else if (special[a] == BLK_SERVE) {
                post = org.hybridv.xen.BlkBack.serve(s, (Integer) extra[a]) instanceof org.hybridv.xen.BlkBack.Served
                        sv ? sv.machine() : s;
            } else if (continues[a]) {
                HvStep c = org.hybridv.xen.PreemptibleValidation.continueHypercall(s, v);
                post = c.machine();
                outcome = c.outcome();
            } else {
                post = org.hybridv.xen.FlushIpis.deliverIpi(s, deliverOn[a]).machine();
            }
        } catch (RuntimeException e) {
            return new Transition<>(s, fingerprint(s), new Verdict.HarnessError(depth, names.get(a) + ": " + e), 0);
        }
        long fp = fingerprint(post);
        int[] checks = {0};
        Transition<XenMachine> violated = stateViolation(post, fp, a, depth, known, checks);
        if (violated == null) {
            violated = extendedViolation(s, post, fp, a, depth, known, checks, outcome);
        }
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
