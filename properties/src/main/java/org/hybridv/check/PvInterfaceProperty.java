package org.hybridv.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.gen.PvInterfaceCases.Op;
import org.hybridv.invariants.BlockInvariants;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PvInvariants;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.scenario.pv.BlkStep;
import org.hybridv.scenario.pv.PvStep;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.EventDelivery;
import org.hybridv.xen.Faults;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * The para-virtual interface beyond the MMU (docs/pv-interfaces.md): event sends, upcall delivery with interrupts
 * disabled and enabled, timer, block and wake, grant map/use/unmap (into a direct-mode domain's page tables and a HAP
 * domain's EPT) and copy, on {@link PvInterfaceCases}' machine.
 * The grant and send ops carry adversarial arguments too ({@link PvInterfaceCases#generateOp}); after every such
 * hypercall its rule's outcome and post-condition ({@link PvRules}, reported as I7: accepted or refused as GNT-2,
 * GNT-5, GNT-6, EVT-5 say, a refusal changes nothing, a map handle is the grant asked for, a copy copies).
 * After every op: I1 (refined for grant mappings), I2, I6, I9 and I11 ({@link PvInvariants}) and I11-blk
 * ({@link BlockInvariants}: the block back-end maps only the ring and outstanding requests' pages); after every send,
 * I10; over every step of the block back-end, I11-blk's step clause (responses answer the requests, only granted
 * frames change).
 */
public final class PvInterfaceProperty implements SystemProperty<PvInterfaceProperty.Run> {
    /** A run: where its block ring starts ({@link PvInterfaceCases#ringBase}, BLK-8) and its ops. */
    public record Run(long ringBase, List<Op> ops) {
        @Override
        public String toString() {
            return (ringBase == 0 ? "" : "ring at " + ringBase + ": ") + ops;
        }
    }

    private static final VcpuId K = PvInterfaceCases.K;
    private static final VcpuId H = PvInterfaceCases.H;

    @Override
    public String name() {
        return "pv-interface";
    }

    @Override
    public String description() {
        return "event channels, upcall injection (IF = 0 then 1), timer, block/wake, grants, block requests; I1, I2,"
                + " I6, I9-I11, I11-blk";
    }

    @Override
    public Run generate(Choices c) {
        return new Run(PvInterfaceCases.ringBase(c), PvInterfaceCases.generate(c));
    }

    @Override
    public int length(Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(Run run, Faults faults) {
        return check(run, faults, Coverage.Sink.NONE);
    }

    @Override
    public List<Coverage.Floor> floors() {
        return List.of(Coverage.Floor.reached("pv", "event delivered"),
                Coverage.Floor.reached("pv", "delivery blocked by IF=0, then delivered"),
                Coverage.Floor.reached("pv", "timer fired"),
                Coverage.Floor.reached("pv", "blocked, then woken"),
                Coverage.Floor.reached("pv", "grant mapped writable"),
                Coverage.Floor.reached("pv", "grant mapped read-only"),
                Coverage.Floor.reached("pv", "grant unmapped"),
                Coverage.Floor.reached("pv", "grant copied"),
                Coverage.Floor.reached("pv", "grant mapped into the EPT"),
                Coverage.Floor.reached("pv", "block request served"),
                Coverage.Floor.reached("pv", "block request answered with an error"),
                Coverage.Floor.reached("blk", "multi-segment request served"),
                Coverage.Floor.reached("blk", "bad segment answered with an error"),
                Coverage.Floor.reached("blk", "several requests served in one pass"),
                Coverage.Floor.reached("blk", "request in slot 0 after the ring went round"),
                Coverage.Floor.reached("blk", "ring indices wrapped past 2^32"));
    }

    @Override
    public Verdict check(Run run, Faults faults, Coverage.Sink coverage) {
        XenMachine m = PvInterfaceCases.machine(faults, run.ringBase());
        boolean windowSeen = false;
        boolean blockedSeen = false;
        int step = 0;
        for (Op op : run.ops()) {
            step++;
            HvStep call = call(op) == null ? null : hypercall(m, op);
            XenMachine post = call == null ? apply(m, op) : call.machine();
            int before = m.pv().domain(1).vcpu(0).upcallsInjected();
            int after = post.pv().domain(1).vcpu(0).upcallsInjected();
            windowSeen |= post.pv().domain(1).vcpu(0).interruptWindowExiting();
            blockedSeen |= post.vcpu(K).blocked();
            if (after > before) {
                coverage.collect("pv", windowSeen ? "delivery blocked by IF=0, then delivered" : "event delivered");
            }
            if (m.vcpu(K).blocked() && !post.vcpu(K).blocked() && blockedSeen) {
                coverage.collect("pv", "blocked, then woken");
            }
            if (op.kind() == PvInterfaceCases.Kind.ADVANCE_TIME && m.pv().domain(1).vcpu(0).timerDeadline() >= 0
                    && post.pv().domain(1).vcpu(0).timerDeadline() < 0) {
                coverage.collect("pv", "timer fired");
            }
            int mapsBefore = m.pv().domain(1).maptrack().size();
            int mapsAfter = post.pv().domain(1).maptrack().size();
            if (mapsAfter > mapsBefore) {
                coverage.collect("pv", op.flag() ? "grant mapped read-only" : "grant mapped writable");
            } else if (mapsAfter < mapsBefore) {
                coverage.collect("pv", "grant unmapped");
            }
            if (post.pv().domain(2).maptrack().size() > m.pv().domain(2).maptrack().size()) {
                coverage.collect("pv", "grant mapped into the EPT");
            }
            if (op.kind() == PvInterfaceCases.Kind.COPY && call.outcome() instanceof VcpuOutcome.HypercallDone) {
                coverage.collect("pv", "grant copied");
            }
            InvariantResult blk = BlockInvariants.check(post, PvInterfaceCases.BLK_BACK);
            if (op.kind() == PvInterfaceCases.Kind.BLK_SERVE) {
                InvariantResult over = BlockInvariants.checkServe(m, post, PvInterfaceCases.BLK_BACK);
                blk = over.holds() ? blk : over;
                if (org.hybridv.xen.BlkBack.serve(m, PvInterfaceCases.BLK_BACK) instanceof org.hybridv.xen.BlkBack.Served
                        sv) {
                    blockCoverage(coverage, run.ringBase(), org.hybridv.xen.BlkBack.info(m, PvInterfaceCases.BLK_BACK)
                            .reqCons(), sv);
                }
            }
            InvariantResult send = InvariantResult.HOLDS;
            if (op.kind() == PvInterfaceCases.Kind.SEND_FROM_H) {
                send = PvInvariants.checkSend(m, post, PvInterfaceCases.H, PvInterfaceCases.sendPort(op));
            } else if (op.kind() == PvInterfaceCases.Kind.SEND_FROM_K) {
                send = PvInvariants.checkSend(m, post, PvInterfaceCases.K, PvInterfaceCases.sendPort(op));
            }
            String[] names = {"I10", "I1", "I2", "I6", "I9", "I11", "I11-blk"};
            InvariantResult[] results = {send, Isolation.check(post), TranslationIntegrity.check(post),
                TlbCoherence.check(post), PvInvariants.events(post), PvInvariants.grants(post), blk};
            for (int i = 0; i < results.length; i++) {
                if (results[i] instanceof InvariantResult.Violated v) {
                    return new Verdict.Violated(names[i], v.rule(), step, op + ": " + v.explanation());
                }
            }
            if (op.kind() == PvInterfaceCases.Kind.BLK_SERVE) {
                PvRules.Broken b = BlkRules.check(m, post, PvInterfaceCases.BLK_BACK);
                if (b != null) {
                    return new Verdict.Violated("I7", b.rule(), step, op + ": " + b.why());
                }
            }
            String time = op.kind() == PvInterfaceCases.Kind.ADVANCE_TIME ? TimeRules.advance(m, post, op.arg())
                    : op.kind() == PvInterfaceCases.Kind.BLOCK_K ? TimeRules.block(m, post, K) : null;
            if (time != null) {
                return new Verdict.Violated("I7", op.kind() == PvInterfaceCases.Kind.BLOCK_K ? "TIME-3" : "TIME-1",
                        step, op + ": " + time);
            }
            if (call != null) {
                coverage.collect("pv call", op.kind() + (call.outcome() instanceof VcpuOutcome.HypercallDone
                        ? " accepted" : " refused"));
                PvRules.Broken b = PvRules.check(m, op, call);
                if (b != null) {
                    return new Verdict.Violated("I7", b.rule(), step, op + ": " + b.why());
                }
            }
            m = post;
        }
        return Verdict.HOLDS;
    }

    /** The block driver's coverage of one serving pass that consumed from ring index {@code from}. */
    private static void blockCoverage(Coverage.Sink coverage, long base, long from,
            org.hybridv.xen.BlkBack.Served sv) {
        for (int k = 0; k < sv.responses().size(); k++) {
            org.hybridv.xen.Blkif.Response r = sv.responses().get(k);
            int nseg = sv.requests().get(k).nrSegments();
            boolean ok = r.status() == org.hybridv.xen.Blkif.BLKIF_RSP_OKAY;
            coverage.collect("pv", ok ? "block request served" : "block request answered with an error");
            if (ok && nseg > 1) {
                coverage.collect("blk", "multi-segment request served");
            }
            if (r.status() == org.hybridv.xen.Blkif.BLKIF_RSP_ERROR && nseg >= 1
                    && nseg <= org.hybridv.xen.Blkif.MAX_SEGMENTS) {
                coverage.collect("blk", "bad segment answered with an error");
            }
            long idx = (from + k) & 0xFFFF_FFFFL;
            if ((idx & (org.hybridv.xen.Blkif.RING_SIZE - 1)) == 0 && idx != base) {
                coverage.collect("blk", "request in slot 0 after the ring went round");
            }
            if (idx < org.hybridv.xen.Blkif.RING_SIZE && base > org.hybridv.xen.Blkif.RING_SIZE) {
                coverage.collect("blk", "ring indices wrapped past 2^32");
            }
        }
        if (sv.responses().size() > 1) {
            coverage.collect("blk", "several requests served in one pass");
        }
    }

    /** One op on {@code m}: its post-state (a refused hypercall or an instruction of a blocked vCPU included). */
    static XenMachine apply(XenMachine m, Op op) {
        switch (op.kind()) {
            case SEND_FROM_H:
            case SEND_FROM_K:
            case MAP:
            case UNMAP:
            case MAP_H:
            case UNMAP_H:
            case COPY:
            case EVTCHN_K:
            case EVTCHN_H:
                return hypercall(m, op).machine();
            case MASK_K:
                return EventChannels.guestMask(m, 1, PvInterfaceCases.maskPort(op), true);
            case RUN_K:
                return Hypervisor.run(m, K, new GuestInstruction.MemoryAccess(Access.read(0x5000))).machine();
            case CLI_K:
                return EventDelivery.setInterruptFlag(m, K, false).machine();
            case STI_K:
                return EventDelivery.setInterruptFlag(m, K, true).machine();
            case HANDLE_K:
                return EventChannels.guestHandleUpcall(m, K);
            case BLOCK_K:
                return Hypervisor.hypercall(m, K, Hypercall.of(PvHypercalls.HYPERVISOR_SCHED_OP,
                        VirtualTime.SCHEDOP_BLOCK)).machine();
            case SET_TIMER_K:
                return Hypervisor.hypercall(m, K, Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP,
                        VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER, 0, m.pv().now() + op.arg(), 0)).machine();
            case ADVANCE_TIME:
                return VirtualTime.advanceTime(m, op.arg());
            case ACCESS_GRANT: {
                Access a = op.flag() ? Access.write(PvInterfaceCases.HOST_ADDR, op.arg())
                        : Access.read(PvInterfaceCases.HOST_ADDR);
                return Hypervisor.run(m, K, new GuestInstruction.MemoryAccess(a)).machine();
            }
            case ACCESS_GRANT_H:
                return Hypervisor.run(m, H, new GuestInstruction.MemoryAccess(op.flag()
                        ? Access.write(PvInterfaceCases.HOST_ADDR, op.arg()) : Access.read(PvInterfaceCases.HOST_ADDR)))
                        .machine();
            case BLK_GRANT: {
                XenMachine g = GrantTables.guestGrant(m, 1, PvInterfaceCases.BLK_DATA_REF, PvInterfaceCases.BLK_BACK,
                        PvInterfaceCases.BLK_DATA, op.flag(), false);
                return g == null ? m : g;
            }
            case BLK_REQUEST:
                return PvInterfaceCases.pushRequest(m, op.arg(), op.flag());
            case BLK_NOTIFY:
                return Hypervisor.hypercall(m, K, PvInterfaceCases.evtchn(EventChannels.EVTCHNOP_SEND,
                        PvInterfaceCases.BLK_PORT, 0)).machine();
            case BLK_SERVE:
                return org.hybridv.xen.BlkBack.serve(m, PvInterfaceCases.BLK_BACK) instanceof org.hybridv.xen.BlkBack.Served
                        sv ? sv.machine() : m;
            case BLK_END: {
                XenMachine g = GrantTables.guestGrant(m, 1, PvInterfaceCases.BLK_DATA_REF, 0, 0, false, true);
                return g == null ? m : g;
            }
            default:
                throw new IllegalArgumentException("no op " + op);
        }
    }

    /** The hypercall of a send, map, unmap or copy op, or null for any other op. */
    static Hypercall call(Op op) {
        switch (op.kind()) {
            case SEND_FROM_H:
            case SEND_FROM_K:
                return PvInterfaceCases.evtchn(EventChannels.EVTCHNOP_SEND, PvInterfaceCases.sendPort(op), 0);
            case MAP:
                return PvInterfaceCases.gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, PvInterfaceCases.mapAddr(op),
                        GrantTables.GNTMAP_HOST_MAP | (op.flag() ? GrantTables.GNTMAP_READONLY : 0),
                        PvInterfaceCases.mapRef(op), PvInterfaceCases.mapDomain(op, 2));
            case MAP_H:
                return PvInterfaceCases.gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF, PvInterfaceCases.mapAddr(op),
                        GrantTables.GNTMAP_HOST_MAP | (op.flag() ? GrantTables.GNTMAP_READONLY : 0),
                        PvInterfaceCases.mapRef(op), PvInterfaceCases.mapDomain(op, 1));
            case UNMAP:
            case UNMAP_H:
                return PvInterfaceCases.gnttab(GrantTables.GNTTABOP_UNMAP_GRANT_REF, PvInterfaceCases.unmapAddr(op),
                        PvInterfaceCases.unmapHandle(op), 0, 0);
            case COPY:
                return copy(op);
            case EVTCHN_K:
            case EVTCHN_H: {
                long[] a = PvInterfaceCases.evtchnArgs(op, op.kind() == PvInterfaceCases.Kind.EVTCHN_K ? 2 : 1);
                return PvInterfaceCases.evtchn(PvInterfaceCases.evtchnCmd(op), a[0], a[1]);
            }
            default:
                return null;
        }
    }

    /** The caller of a hypercall op: H for the ops of d2, K otherwise. */
    static VcpuId caller(Op op) {
        return op.kind() == PvInterfaceCases.Kind.SEND_FROM_H || op.kind() == PvInterfaceCases.Kind.MAP_H
                || op.kind() == PvInterfaceCases.Kind.UNMAP_H || op.kind() == PvInterfaceCases.Kind.EVTCHN_H ? H : K;
    }

    /** The step of a hypercall op ({@link #call}) on {@code m}. */
    static HvStep hypercall(XenMachine m, Op op) {
        return Hypervisor.hypercall(m, caller(op), call(op));
    }

    /** d1 copies from d2's grant {@link PvInterfaceCases#copySourceRef} to {@link PvInterfaceCases#copyDest} (GNT-6). */
    private static Hypercall copy(Op op) {
        long[] d = PvInterfaceCases.copyDest(op);
        long dest = d[0] << 32 | (d[1] >= 0 ? d[1] : d[2]);
        return PvInterfaceCases.gnttab(GrantTables.GNTTABOP_COPY, ((long) PvInterfaceCases.copySourceDomain(op) << 32)
                | PvInterfaceCases.copySourceRef(op),
                dest, GrantTables.GNTCOPY_SOURCE_GREF | (d[1] >= 0 ? GrantTables.GNTCOPY_DEST_GREF : 0), d[3]);
    }

    /**
     * The scenario of {@code run}: {@link HypervisorProperty#MACHINE}, the bring-up of {@link PvInterfaceCases#machine}
     * as steps ({@code pvSetup}, the event channels, the grants), the ops up to the violating one, then
     * {@code checkInvariants} (I1, I2, I6) or {@code checkPv} (I9, I10, I11) expecting the violation.
     */
    @Override
    public ObjectNode scenario(Run run, Faults faults, Verdict.Violated violation) {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        try {
            doc.set("machine", new ObjectMapper().readTree(HypervisorProperty.MACHINE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ArrayNode steps = doc.putArray("steps");
        steps.add(Capture.step(new PvStep.PvSetup(1, 0, 0x2aL, 0x2bL, PvInterfaceCases.VECTOR, null)));
        steps.add(Capture.step(new PvStep.PvSetup(2, 0, 5L, 6L, PvInterfaceCases.VECTOR, null)));
        steps.add(Capture.step(new PvStep.EventChannelOp(2, 0, PvStep.EvtchnCmd.ALLOC_UNBOUND, 1, null, null, null,
                null, null)));
        steps.add(Capture.step(new PvStep.EventChannelOp(1, 0, PvStep.EvtchnCmd.BIND_INTERDOMAIN, 2, 1, null, null,
                null, null)));
        steps.add(Capture.step(new PvStep.EventChannelOp(1, 0, PvStep.EvtchnCmd.BIND_VIRQ, null, null, null,
                EventChannels.VIRQ_TIMER, 0, null)));
        steps.add(Capture.step(new PvStep.GuestEvent(1, 0, PvStep.GuestAction.HANDLE_UPCALL, null, null)));
        steps.add(Capture.step(new PvStep.GrantAccess(2, 0, 1, PvInterfaceCases.GRANTED, false, null, null)));
        steps.add(Capture.step(new PvStep.GrantAccess(2, 1, 1, PvInterfaceCases.GRANTED, true, null, null)));
        steps.add(Capture.step(new PvStep.GrantAccess(1, 0, 2, PvInterfaceCases.GRANTED_BY_D1, false, null, null)));
        steps.add(Capture.step(XenStep.Guest.of(2, 0, new GuestInstruction.MemoryAccess(Access.write(
                PvInterfaceCases.H_L1_SLOT, org.hybridv.x86.Entry.table(9, true, true).raw())))));
        steps.add(Capture.step(new BlkStep.BlkBackEnd(PvInterfaceCases.BLK_BACK, PvInterfaceCases.BLK_BACK_FRAME,
                PvInterfaceCases.BLK_BACK_VPID, null)));
        steps.add(Capture.step(new BlkStep.BlkRingInit(1, PvInterfaceCases.BLK_RING, run.ringBase() == 0 ? null
                : run.ringBase())));
        steps.add(Capture.step(new PvStep.GrantAccess(1, PvInterfaceCases.BLK_RING_REF, PvInterfaceCases.BLK_BACK,
                PvInterfaceCases.BLK_RING, false, null, null)));
        steps.add(Capture.step(new PvStep.EventChannelOp(1, 0, PvStep.EvtchnCmd.ALLOC_UNBOUND,
                PvInterfaceCases.BLK_BACK, null, null, null, null, null)));
        steps.add(Capture.step(new BlkStep.BlkConnect(PvInterfaceCases.BLK_BACK, 1, PvInterfaceCases.BLK_RING_REF,
                PvInterfaceCases.BLK_PORT, null)));
        long now = 0;
        int n = Math.min(run.ops().size(), violation.step());
        long requests = run.ringBase();
        for (int i = 0; i < n; i++) {
            Op op = run.ops().get(i);
            if (op.kind() == PvInterfaceCases.Kind.BLK_REQUEST) {
                // the request's id derives from its ring index: every request op pushes one
                org.hybridv.xen.Blkif.Request r = PvInterfaceCases.blkRequest(requests, op.arg(), op.flag());
                requests = (requests + 1) & 0xFFFF_FFFFL;
                List<BlkStep.Seg> segs = PvInterfaceCases.blkSegments(op.arg()).stream().map(g -> new BlkStep.Seg(
                        g.gref(), g.firstSect(), g.lastSect())).toList();
                steps.add(Capture.step(new BlkStep.BlkRequest(1, PvInterfaceCases.BLK_RING, op.flag()
                        ? BlkStep.Operation.WRITE : BlkStep.Operation.READ, null, r.id(), r.sector(),
                        segs.isEmpty() ? 0L : null, null, null, r.nrSegments(), segs.isEmpty() ? null : segs,
                        null)));
                continue;
            }
            steps.add(Capture.step(step(op, now)));
            if (op.kind() == PvInterfaceCases.Kind.ADVANCE_TIME) {
                now += op.arg();
            }
        }
        String inv = violation.invariant();
        if (inv.equals("I11-blk")) {
            // the violating op's own step reports it (a note of blkServe, or the expectation added here)
            if (n > 0 && run.ops().get(n - 1).kind() == PvInterfaceCases.Kind.BLK_SERVE) {
                steps.remove(steps.size() - 1);
                steps.add(Capture.step(new BlkStep.BlkServe(PvInterfaceCases.BLK_BACK, new BlkStep.ServeExpect(null,
                        null, null, null, null, null, PvStep.Verdict.VIOLATED))));
            }
        } else if (inv.equals("I7") && run.ops().get(n - 1).kind() == PvInterfaceCases.Kind.BLK_SERVE) {
            // the serving step broke a block rule (BlkRules): its step expects what the rules answer
            XenMachine pre = PvInterfaceCases.machine(faults, run.ringBase());
            for (int i = 0; i < n - 1; i++) {
                pre = apply(pre, run.ops().get(i));
            }
            long[] e = BlkRules.expectedServe(pre, PvInterfaceCases.BLK_BACK);
            steps.remove(steps.size() - 1);
            steps.add(Capture.step(new BlkStep.BlkServe(PvInterfaceCases.BLK_BACK, e[0] == 0
                    ? new BlkStep.ServeExpect("ok", null, 0, null, null, null, null)
                    : new BlkStep.ServeExpect("ok", null, (int) e[0], e[1], BlkRules.statusName((int) e[2]), null,
                            null))));
        } else if (inv.equals("I7") && call(run.ops().get(n - 1)) == null) {
            // a time step or a block that broke TIME-1 or TIME-3 (TimeRules): the scenario format has no expectation
            // for deadlines and pending bits, so the run is written with a checkPv step (I9, whose clauses include
            // the timer's and the wake-up's); `--try` reproduces the finding itself
            steps.add(Capture.step(new PvStep.CheckPv(new PvStep.PvInvariantsExpect(PvStep.Verdict.VIOLATED, null,
                    null))));
        } else if (inv.equals("I7")) {
            // a hypercall that broke its rule (PvRules): its step expects what the rule says of it — the outcome;
            // a wrong content of an accepted map or copy is not expressed by the step's expectation
            XenMachine pre = PvInterfaceCases.machine(faults, run.ringBase());
            for (int i = 0; i < n - 1; i++) {
                pre = apply(pre, run.ops().get(i));
            }
            Op last = run.ops().get(n - 1);
            boolean ok = PvRules.expected(pre, last).ok();
            steps.remove(steps.size() - 1);
            steps.add(Capture.step(step(last, now, new PvStep.PvExpect(ok ? "ok" : "refused", null, null, null))));
        } else if (inv.equals("I1") || inv.equals("I2") || inv.equals("I6")) {
            steps.add(Capture.step(XenStep.CheckInvariants.of(inv, XenStep.InvariantState.VIOLATED)));
        } else {
            steps.add(Capture.step(new PvStep.CheckPv(new PvStep.PvInvariantsExpect(inv.equals("I9")
                    ? PvStep.Verdict.VIOLATED : null, inv.equals("I10") ? PvStep.Verdict.VIOLATED : null,
                    inv.equals("I11") ? PvStep.Verdict.VIOLATED : null))));
        }
        return doc;
    }

    /** The scenario step of {@code op} ({@code now}: machine time before it, for a timer's absolute deadline). */
    static org.hybridv.scenario.Step step(Op op, long now) {
        return step(op, now, null);
    }

    /** The scenario step of {@code op}, a hypercall op's with {@code expect} (null: none). */
    static org.hybridv.scenario.Step step(Op op, long now, PvStep.PvExpect expect) {
        switch (op.kind()) {
            case SEND_FROM_H:
                return new PvStep.EventChannelOp(2, 0, PvStep.EvtchnCmd.SEND, null, null,
                        PvInterfaceCases.sendPort(op), null, null, expect);
            case SEND_FROM_K:
                return new PvStep.EventChannelOp(1, 0, PvStep.EvtchnCmd.SEND, null, null,
                        PvInterfaceCases.sendPort(op), null, null, expect);
            case RUN_K:
                return XenStep.Guest.of(1, 0, new GuestInstruction.MemoryAccess(Access.read(0x5000)));
            case CLI_K:
                return new PvStep.GuestEvent(1, 0, PvStep.GuestAction.CLI, null, null);
            case STI_K:
                return new PvStep.GuestEvent(1, 0, PvStep.GuestAction.STI, null, null);
            case HANDLE_K:
                return new PvStep.GuestEvent(1, 0, PvStep.GuestAction.HANDLE_UPCALL, null, null);
            case BLOCK_K:
                return new PvStep.SchedOp(1, 0, PvStep.SchedCmd.BLOCK, null);
            case SET_TIMER_K:
                return new PvStep.VcpuOp(1, 0, PvStep.VcpuCmd.SET_SINGLESHOT_TIMER, null, now + op.arg(), null, null);
            case ADVANCE_TIME:
                return new PvStep.AdvanceTime((long) op.arg());
            case MAP:
                return new PvStep.GrantTableOp(1, 0, PvStep.GnttabCmd.MAP_GRANT_REF, PvInterfaceCases.HOST_ADDR,
                        PvInterfaceCases.mapRef(op), PvInterfaceCases.mapDomain(op, 2), op.flag(), null, null, null,
                        null, null, null, null, null, expect);
            case UNMAP:
                return new PvStep.GrantTableOp(1, 0, PvStep.GnttabCmd.UNMAP_GRANT_REF, PvInterfaceCases.unmapAddr(op),
                        null, null, null, PvInterfaceCases.unmapHandle(op), null, null, null, null, null, null, null,
                        expect);
            case ACCESS_GRANT:
                return XenStep.Guest.of(1, 0, new GuestInstruction.MemoryAccess(op.flag()
                        ? Access.write(PvInterfaceCases.HOST_ADDR, op.arg()) : Access.read(PvInterfaceCases.HOST_ADDR)));
            case MAP_H:
                return new PvStep.GrantTableOp(2, 0, PvStep.GnttabCmd.MAP_GRANT_REF, PvInterfaceCases.mapAddr(op),
                        PvInterfaceCases.mapRef(op), PvInterfaceCases.mapDomain(op, 1), op.flag(), null, null, null,
                        null, null, null, null, null, expect);
            case UNMAP_H:
                return new PvStep.GrantTableOp(2, 0, PvStep.GnttabCmd.UNMAP_GRANT_REF, PvInterfaceCases.unmapAddr(op),
                        null, null, null, PvInterfaceCases.unmapHandle(op), null, null, null, null, null, null, null,
                        expect);
            case ACCESS_GRANT_H:
                return XenStep.Guest.of(2, 0, new GuestInstruction.MemoryAccess(op.flag()
                        ? Access.write(PvInterfaceCases.HOST_ADDR, op.arg()) : Access.read(PvInterfaceCases.HOST_ADDR)));
            case BLK_GRANT:
                return new PvStep.GrantAccess(1, PvInterfaceCases.BLK_DATA_REF, PvInterfaceCases.BLK_BACK,
                        PvInterfaceCases.BLK_DATA, op.flag(), null, null);
            case BLK_REQUEST:
                throw new IllegalArgumentException("a request's step carries its ring index as id: scenario() writes it");
            case BLK_NOTIFY:
                return new PvStep.EventChannelOp(1, 0, PvStep.EvtchnCmd.SEND, null, null, PvInterfaceCases.BLK_PORT,
                        null, null, null);
            case BLK_SERVE:
                return new BlkStep.BlkServe(PvInterfaceCases.BLK_BACK, null);
            case BLK_END:
                return new PvStep.GrantAccess(1, PvInterfaceCases.BLK_DATA_REF, null, null, null, true, null);
            case MASK_K:
                return new PvStep.GuestEvent(1, 0, PvStep.GuestAction.MASK, PvInterfaceCases.maskPort(op), null);
            case EVTCHN_K:
            case EVTCHN_H: {
                int d = op.kind() == PvInterfaceCases.Kind.EVTCHN_K ? 1 : 2;
                long[] a = PvInterfaceCases.evtchnArgs(op, 3 - d);
                switch (PvInterfaceCases.evtchnCmd(op)) {
                    case EventChannels.EVTCHNOP_ALLOC_UNBOUND:
                        return new PvStep.EventChannelOp(d, 0, PvStep.EvtchnCmd.ALLOC_UNBOUND, (int) a[1], null, null,
                                null, null, expect);
                    case EventChannels.EVTCHNOP_BIND_INTERDOMAIN:
                        return new PvStep.EventChannelOp(d, 0, PvStep.EvtchnCmd.BIND_INTERDOMAIN, (int) a[0],
                                (int) a[1], null, null, null, expect);
                    case EventChannels.EVTCHNOP_BIND_VIRQ:
                        return new PvStep.EventChannelOp(d, 0, PvStep.EvtchnCmd.BIND_VIRQ, null, null, null,
                                (int) a[0], (int) a[1], expect);
                    case EventChannels.EVTCHNOP_CLOSE:
                        return new PvStep.EventChannelOp(d, 0, PvStep.EvtchnCmd.CLOSE, null, null, (int) a[0], null,
                                null, expect);
                    default:
                        return new PvStep.EventChannelOp(d, 0, PvStep.EvtchnCmd.UNMASK, null, null, (int) a[0], null,
                                null, expect);
                }
            }
            default: {
                long[] d = PvInterfaceCases.copyDest(op);
                return new PvStep.GrantTableOp(1, 0, PvStep.GnttabCmd.COPY, null, null, null, null, null,
                        PvInterfaceCases.copySourceDomain(op),
                        PvInterfaceCases.copySourceRef(op), null, (int) d[0], d[1] >= 0 ? (int) d[1] : null,
                        d[2] >= 0 ? d[2] : null, (int) d[3], expect);
            }
        }
    }
}
