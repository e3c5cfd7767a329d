package org.hybridv.scenario.pv;

import java.util.List;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;
import org.hybridv.scenario.xen.XenModule;

/**
 * The split block driver's scenario operations (docs/pv-interfaces.md, "The split block driver";
 * docs/scenario-format.md): the back-end domain, its connection and serving step, the front-end's ring stores, and
 * the facts of a ring and a disk. They run on the hypervisor of the {@code hypervisor} section ({@link XenModule}) and
 * are refused without one.
 */
public final class BlkModule implements ScenarioModule {
    public static final List<String> OPS = List.of("blkBackEnd", "blkConnect", "blkRingInit", "blkRequest",
            "blkServe", "expectBlk");

    @Override
    public String name() {
        return "blk";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        r.operation(Operation.of(BlkStep.BlkBackEnd.class, "the toolstack builds a block back-end domain (HAP, one"
                + " vCPU, shared-info page, a 16-sector disk) from four free frames",
                "{\"op\": \"blkBackEnd\", \"domain\": 0, \"firstFrame\": 60, \"vpid\": 9, \"expect\": {\"result\":"
                        + " \"ok\"}}",
                BlkExecutors::backEnd));
        r.operation(Operation.of(BlkStep.BlkConnect.class, "the back-end maps the front-end's ring grant and binds"
                + " its unbound port (BLK-3)",
                "{\"op\": \"blkConnect\", \"backEnd\": 0, \"frontEnd\": 1, \"ringRef\": 0, \"port\": 1, \"expect\":"
                        + " {\"result\": \"ok\"}}",
                BlkExecutors::connect));
        r.operation(Operation.of(BlkStep.BlkRingInit.class, "the front-end's SHARED_RING_INIT on its ring frame"
                + " (BLK-1)", "{\"op\": \"blkRingInit\", \"domain\": 1, \"ring\": 46}", BlkExecutors::ringInit));
        r.operation(Operation.of(BlkStep.BlkRequest.class, "the front-end writes a request into its ring and pushes"
                + " req_prod; reports whether BLK-2 asks for a notification",
                "{\"op\": \"blkRequest\", \"domain\": 1, \"ring\": 46, \"operation\": \"read\", \"id\": 1,"
                        + " \"sector\": 3, \"gref\": 1, \"expect\": {\"notifies\": true}}",
                BlkExecutors::request));
        r.operation(Operation.of(BlkStep.BlkServe.class, "one pass of the back-end's request loop (BLK-4, BLK-5),"
                + " I11-blk checked over it",
                "{\"op\": \"blkServe\", \"backEnd\": 0, \"expect\": {\"result\": \"ok\", \"served\": 1,"
                        + " \"lastStatus\": \"okay\", \"notified\": true, \"invariant\": \"holds\"}}",
                BlkExecutors::serve));
        r.operation(Operation.of(BlkStep.ExpectBlk.class, "check a ring's indices and a response, or a word of the"
                + " back-end's disk",
                "{\"op\": \"expectBlk\", \"ring\": 46, \"index\": 0, \"rspProd\": 1, \"responseId\": 1,"
                        + " \"responseStatus\": \"okay\"}",
                BlkExecutors::expect));
        for (String op : OPS) {
            r.precondition(op, s -> configured(s) ? null : op + " runs on the hypervisor: add a \"hypervisor\""
                    + " section to machine (docs/scenario-format.md, Hypervisor)");
        }
    }

    private static boolean configured(MachineState s) {
        return s.get(XenModule.XEN).configured();
    }
}
