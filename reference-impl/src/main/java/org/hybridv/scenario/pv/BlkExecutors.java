package org.hybridv.scenario.pv;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hybridv.invariants.BlockInvariants;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.xen.Facts;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.BlkBack;
import org.hybridv.xen.Blkif;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.XenMachine;

/**
 * Runs the split block driver's steps on the hypervisor of the state through the reference ({@link BlkBack},
 * {@link Blkif}) and checks I11-blk ({@link BlockInvariants}) over the back-end's steps; the outcome as facts and the
 * step's expectations compared with them.
 */
final class BlkExecutors {
    private BlkExecutors() {}

    private static XenMachine machine(MachineState s) {
        return s.get(XenModule.XEN).machine();
    }

    private static MachineState write(MachineState s, XenMachine m) {
        return s.with(XenModule.XEN, s.get(XenModule.XEN).withMachine(m));
    }

    private static XenMachine withMemory(XenMachine m, PhysicalMemory mem) {
        return m.withPaging(m.paging().withMemory(mem));
    }

    private static StepResult outcome(MachineState after, String result, String rule, String text,
            BlkStep.BlkExpect expect) {
        BlkStep.BlkExpect seen = new BlkStep.BlkExpect(result, rule);
        List<Check> checks = expect == null ? List.of() : Facts.compare(expect, seen);
        return new StepResult(after, new Observation(result, text, Facts.of(seen)), checks);
    }

    static StepResult backEnd(MachineState s, BlkStep.BlkBackEnd step) {
        long[] frames = {step.firstFrame(), step.firstFrame() + 1, step.firstFrame() + 2, step.firstFrame() + 3};
        HvResult r = BlkBack.create(machine(s), step.domain(), frames, step.vpid());
        if (r instanceof HvResult.Done d) {
            return outcome(write(s, d.machine()), "ok", null, "d" + step.domain() + " is a block back-end",
                    step.expect());
        }
        HvResult.Refused x = (HvResult.Refused) r;
        return outcome(s, "refused", x.rule(), "the domain builder refused: " + x.reason(), step.expect());
    }

    static StepResult connect(MachineState s, BlkStep.BlkConnect step) {
        BlkBack.Result r = BlkBack.connect(machine(s), step.backEnd(), step.frontEnd(), step.ringRef(), step.port());
        if (r instanceof BlkBack.Served ok) {
            BlkBack.Info i = BlkBack.info(ok.machine(), step.backEnd());
            return outcome(write(s, ok.machine()), "ok", null, "connected: ring handle " + i.ringHandle()
                    + ", back-end port " + i.port(), step.expect());
        }
        BlkBack.Refused x = (BlkBack.Refused) r;
        return outcome(s, "refused", x.rule(), x.reason(), step.expect());
    }

    static StepResult ringInit(MachineState s, BlkStep.BlkRingInit step) {
        XenMachine m = machine(s);
        Blkif.Indices i = step.indices();
        long[] w = Blkif.words(i);
        XenMachine after = withMemory(m, m.memory().write(step.ring(), 0, w[0]).write(step.ring(), 1, w[1]));
        return new StepResult(write(s, after), Observation.of("ok", "req_prod = rsp_prod = " + i.reqProd()
                + ", req_event = rsp_event = " + i.reqEvent()), List.of());
    }

    static StepResult request(MachineState s, BlkStep.BlkRequest step) {
        XenMachine m = machine(s);
        long ring = step.ring();
        Blkif.Indices i = Blkif.indices(m.memory(), ring);
        long[] w = Blkif.words(step.request());
        PhysicalMemory mem = m.memory();
        for (int k = 0; k < 3; k++) {
            mem = mem.write(ring, Blkif.slot(i.reqProd()) + k, w[k]);
        }
        List<Blkif.Segment> segs = step.written();
        for (int k = 0; k < segs.size(); k++) {
            mem = mem.write(ring, Blkif.slot(i.reqProd()) + 3 + k, Blkif.word(segs.get(k)));
        }
        long next = (i.reqProd() + 1) & 0xFFFF_FFFFL;
        long[] ix = Blkif.words(new Blkif.Indices(next, i.reqEvent(), i.rspProd(), i.rspEvent()));
        XenMachine after = withMemory(m, mem.write(ring, 0, ix[0]));
        boolean notify = Blkif.notifyNeeded(i.reqProd(), next, i.reqEvent());
        BlkStep.RequestExpect seen = new BlkStep.RequestExpect(notify);
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        return new StepResult(write(s, after), new Observation("ok", "slot " + i.reqProd() + ", req_prod " + next
                + (notify ? "; BLK-2: notify the back-end" : "; BLK-2: no notification needed"), Facts.of(seen)),
                checks);
    }

    static StepResult serve(MachineState s, BlkStep.BlkServe step) {
        XenMachine pre = machine(s);
        BlkBack.Result r = BlkBack.serve(pre, step.backEnd());
        if (r instanceof BlkBack.Refused x) {
            BlkStep.ServeExpect seen = new BlkStep.ServeExpect("refused", x.rule(), null, null, null, null, null);
            List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
            return new StepResult(s, new Observation("refused", x.reason(), Facts.of(seen)), checks);
        }
        BlkBack.Served ok = (BlkBack.Served) r;
        InvariantResult over = BlockInvariants.checkServe(pre, ok.machine(), step.backEnd());
        InvariantResult state = BlockInvariants.check(ok.machine(), step.backEnd());
        InvariantResult inv = over.holds() ? state : over;
        List<Blkif.Response> rs = ok.responses();
        Blkif.Response last = rs.isEmpty() ? null : rs.get(rs.size() - 1);
        BlkStep.ServeExpect seen = new BlkStep.ServeExpect("ok", null, rs.size(), last == null ? null : last.id(),
                last == null ? null : BlkStep.status(last.status()), ok.notified(), PvStep.Verdict.of(inv.holds()));
        List<String> notes = new ArrayList<>();
        if (!inv.holds()) {
            notes.add("I11-blk violated by this step: " + inv);
        }
        StringBuilder text = new StringBuilder("served " + rs.size());
        for (Blkif.Response x : rs) {
            text.append("; id ").append(x.id()).append(" ").append(BlkStep.status(x.status()));
        }
        text.append(ok.notified() ? "; notified the front-end" : "; no notification").append("; I11-blk ").append(inv);
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        Map<String, String> facts = Facts.of(seen);
        return new StepResult(write(s, ok.machine()), new Observation("ok", text.toString(), facts), checks, notes);
    }

    static StepResult expect(MachineState s, BlkStep.ExpectBlk step) {
        XenMachine m = machine(s);
        Long reqProd = null;
        Long rspProd = null;
        Long responseId = null;
        String responseStatus = null;
        if (step.ring() != null) {
            Blkif.Indices i = Blkif.indices(m.memory(), step.ring());
            reqProd = i.reqProd();
            rspProd = i.rspProd();
            if (step.index() != null) {
                Blkif.Response r = Blkif.response(m.memory(), step.ring(), step.index());
                responseId = r.id();
                responseStatus = BlkStep.status(r.status());
            }
        }
        Long value = null;
        Integer mappings = null;
        if (step.value() != null || step.mappings() != null) {
            if (BlkBack.info(m, step.backEnd()) == null) {
                return new StepResult(s, Observation.of("failed", "d" + step.backEnd() + " is not a block back-end"),
                        List.of(Check.of(step.value() != null ? "value" : "mappings", step.value() != null
                                ? Hex.of(step.value()) : String.valueOf(step.mappings()), "no back-end d"
                                        + step.backEnd())));
            }
            value = step.value() == null ? null : BlkBack.diskWord(m, step.backEnd(), step.sector(), step.word());
            mappings = m.pv().domain(step.backEnd()).maptrack().size();
        }
        BlkStep.ExpectBlk seen = new BlkStep.ExpectBlk(step.ring(), step.index(), reqProd, rspProd, responseId,
                responseStatus, step.backEnd(), step.sector(), step.word(), value, mappings);
        List<Check> checks = new ArrayList<>(Facts.compare(step, seen));
        checks.removeIf(c -> List.of("ring", "index", "backEnd", "sector", "word").contains(c.what()));
        Map<String, String> facts = Facts.of(seen);
        return new StepResult(s, new Observation("ok", facts.toString(), facts), checks);
    }
}
