package org.hybridv.scenario.pv;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.Values;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.xen.Blkif;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.XenMachine;

/**
 * The split block driver's steps (docs/pv-interfaces.md, "The split block driver"; docs/scenario-format.md "Split
 * block driver"; rules BLK-1..BLK-5 of docs/rules/xen.md), run by {@link BlkExecutors} on the hypervisor of the
 * {@code hypervisor} section: the toolstack creating the back-end domain, the back-end's connection and its serving
 * step, and the front-end's own stores into its ring (the front-end's hypercalls and grant entries are the
 * {@code eventChannelOp}, {@code pvSetup} and {@code grantAccess} steps).
 */
public sealed interface BlkStep extends Step {
    String DOMAIN_WHY = PvStep.DOMAIN_WHY;
    String REF_WHY = PvStep.REF_WHY;

    static void checkDomain(MachineSpec machine, String field, int d) {
        XenMachine m = machine.section(XenModule.SECTION, XenMachine.class).orElse(null);
        if (m != null && !m.domains().containsKey(d)) {
            throw Bad.at(field, "no domain d" + d + " in machine.hypervisor; domains: " + m.domains().keySet());
        }
    }

    /** The frames of a machine's hypervisor section, when it has one. */
    static void checkFrame(MachineSpec machine, String field, long mfn) {
        XenMachine m = machine.section(XenModule.SECTION, XenMachine.class).orElse(null);
        if (m != null && !m.frames().contains(mfn)) {
            throw Bad.at(field, "frame " + Render.hex(mfn) + " is not one of the machine's " + m.frames().size()
                    + " frames");
        }
    }

    /** What a back-end step must show: ok or refused (by {@code rule}). */
    record BlkExpect(String result, String rule) {
        public BlkExpect {
            Bad.required(result, "result", "expect");
            if (!result.equals("ok") && !result.equals("refused")) {
                throw Bad.at("result", "\"ok\" or \"refused\", not \"" + Values.quote(result) + "\"");
            }
            if (result.equals("ok") && rule != null) {
                throw Bad.at("rule", "an \"ok\" result has no rule");
            }
        }
    }

    /**
     * {@code blkBackEnd}: the toolstack builds back-end domain {@code domain} (HAP, one vCPU with VPID {@code vpid},
     * its shared-info page at gfn 0, its {@code xen_blkif} at gfn 1, the disk of 16 sectors at gfns 2–3 loaded with
     * the shipped contents) from the four free frames {@code firstFrame} .. {@code firstFrame + 3}; its EPT takes
     * free frames too.
     */
    @JsonTypeName("blkBackEnd")
    record BlkBackEnd(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(bits = 40) Long firstFrame, @Dec(min = 1, max = 0xFFFF, why = "VPIDs 1..0xffff") Integer vpid,
            BlkExpect expect) implements BlkStep {
        public BlkBackEnd {
            domain = domain == null ? 0 : domain;
            Bad.required(firstFrame, "firstFrame", "blkBackEnd step");
            Bad.required(vpid, "vpid", "blkBackEnd step");
        }

        @Override
        public void check(MachineSpec machine) {
            checkFrame(machine, "firstFrame", firstFrame + 3);
        }

        @Override
        public String describe() {
            return "the toolstack builds block back-end d" + domain + " in frames " + Render.hex(firstFrame) + ".."
                    + Render.hex(firstFrame + 3);
        }
    }

    /**
     * {@code blkConnect}: the xenstore handshake's end (BLK-3): back-end {@code backEnd} maps grant {@code ringRef}
     * of {@code frontEnd} (the ring) and binds an interdomain event channel to the front-end's unbound port
     * {@code port}.
     */
    @JsonTypeName("blkConnect")
    record BlkConnect(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer backEnd,
            @Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer frontEnd,
            @Dec(max = 511, why = REF_WHY) Integer ringRef, @Dec(max = 4095, why = PvStep.PORT_WHY) Integer port,
            BlkExpect expect) implements BlkStep {
        public BlkConnect {
            backEnd = backEnd == null ? 0 : backEnd;
            Bad.required(frontEnd, "frontEnd", "blkConnect step");
            Bad.required(ringRef, "ringRef", "blkConnect step");
            Bad.required(port, "port", "blkConnect step");
        }

        /** The back-end may be built by an earlier {@code blkBackEnd} step: only the front-end is checked here. */
        @Override
        public void check(MachineSpec machine) {
            checkDomain(machine, "frontEnd", frontEnd);
        }

        @Override
        public String describe() {
            return "d" + backEnd + " connects to d" + frontEnd + "'s ring (grant " + ringRef + ", port " + port + ")";
        }
    }

    /**
     * {@code blkRingInit}: the front-end's {@code SHARED_RING_INIT} stores into its ring frame {@code ring} (BLK-1);
     * with {@code index}, the ring as an earlier connection left it with every request answered (BLK-8: both
     * producers at {@code index}, both event indices at {@code index} + 1), to which the next back-end attaches.
     */
    @JsonTypeName("blkRingInit")
    record BlkRingInit(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain, @Dec(bits = 40) Long ring,
            @Dec(bits = 32) Long index) implements BlkStep {
        public BlkRingInit {
            Bad.required(domain, "domain", "blkRingInit step");
            Bad.required(ring, "ring", "blkRingInit step");
        }

        /** The ring's indices after the step. */
        public Blkif.Indices indices() {
            return index == null ? Blkif.INITIAL : Blkif.attachedAt(index);
        }

        @Override
        public void check(MachineSpec machine) {
            checkDomain(machine, "domain", domain);
            checkFrame(machine, "ring", ring);
        }

        @Override
        public String describe() {
            return "d" + domain + " SHARED_RING_INIT on frame " + Render.hex(ring) + (index == null ? ""
                    : ", indices at " + index);
        }
    }

    /** blkif operations ({@code io/blkif.h}). */
    enum Operation {
        @JsonProperty("read") READ(Blkif.BLKIF_OP_READ),
        @JsonProperty("write") WRITE(Blkif.BLKIF_OP_WRITE);

        final int number;

        Operation(int number) {
            this.number = number;
        }

        @Override
        public String toString() {
            return PvStep.word(this);
        }
    }

    /** What a {@code blkRequest} must show: whether BLK-2 asks the front-end to notify. */
    record RequestExpect(Boolean notifies) {
        public RequestExpect {
            Bad.required(notifies, "notifies", "expect");
        }
    }

    /** One segment of a {@code blkRequest}'s {@code segs} (BLK-7): grant {@code gref}, sectors of its page. */
    record Seg(@Dec(max = 0xFFFF_FFFFL, why = "grant references (32 bits)") Long gref,
            @Dec(max = 255, why = "a byte") Integer firstSect, @Dec(max = 255, why = "a byte") Integer lastSect) {
        public Seg {
            Bad.required(gref, "gref", "segment");
            firstSect = firstSect == null ? 0 : firstSect;
            lastSect = lastSect == null ? firstSect : lastSect;
        }
    }

    /**
     * {@code blkRequest}: the front-end's stores (BLK-1, BLK-2, BLK-7): the request — {@code operation} (or a raw
     * {@code opcode}), {@code id}, {@code sector}, and either one segment naming grant {@code gref} and sectors
     * {@code firstSect}..{@code lastSect} of the page (default 0..0) or the segments {@code segs} (1 to 11, each a
     * grant and its sectors); {@code segments}, the {@code nr_segments} byte, defaults to their number — into the slot
     * at the ring's {@code req_prod}, then {@code req_prod} + 1. The step reports whether BLK-2 asks for a
     * notification; it sends none ({@code eventChannelOp} send does).
     */
    @JsonTypeName("blkRequest")
    record BlkRequest(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain, @Dec(bits = 40) Long ring,
            Operation operation, @Dec(max = 255, why = "a byte") Integer opcode, @Dec(bits = 64) Long id,
            @Dec(bits = 48) Long sector, @Dec(max = 0xFFFF_FFFFL, why = "grant references (32 bits)") Long gref,
            @Dec(max = 255, why = "a byte") Integer firstSect, @Dec(max = 255, why = "a byte") Integer lastSect,
            @Dec(max = 255, why = "a byte") Integer segments,
            @com.fasterxml.jackson.annotation.JsonSetter(contentNulls = com.fasterxml.jackson.annotation.Nulls.FAIL)
            List<Seg> segs, RequestExpect expect) implements BlkStep {
        public BlkRequest {
            Bad.required(domain, "domain", "blkRequest step");
            Bad.required(ring, "ring", "blkRequest step");
            if ((operation == null) == (opcode == null)) {
                throw Bad.object("a request names its \"operation\" (read, write) or a raw \"opcode\", one of them");
            }
            Bad.required(id, "id", "blkRequest step");
            Bad.required(sector, "sector", "blkRequest step");
            if (segs != null) {
                if (gref != null || firstSect != null || lastSect != null) {
                    throw Bad.object("a request gives its segments as \"segs\" or as one \"gref\" with its"
                            + " \"firstSect\" and \"lastSect\", not both");
                }
                if (segs.isEmpty() || segs.size() > Blkif.MAX_SEGMENTS) {
                    throw Bad.at("segs", "1 to " + Blkif.MAX_SEGMENTS + " segments (a slot holds 11), not "
                            + segs.size());
                }
                segs = List.copyOf(segs);
                segments = segments == null ? segs.size() : segments;
            } else {
                Bad.required(gref, "gref", "blkRequest step");
                firstSect = firstSect == null ? 0 : firstSect;
                lastSect = lastSect == null ? firstSect : lastSect;
                segments = segments == null ? 1 : segments;
            }
        }

        /** The request's words 0 .. 2 and its first segment (or the one segment of {@code gref}). */
        public Blkif.Request request() {
            Seg first = segs == null ? new Seg(gref, firstSect, lastSect) : segs.get(0);
            return new Blkif.Request(operation != null ? operation.number : opcode, segments, 0, id, sector,
                    first.gref(), first.firstSect(), first.lastSect());
        }

        /** The segments the front-end writes into the slot, in order. */
        public List<Blkif.Segment> written() {
            return segs == null ? List.of(new Blkif.Segment(gref, firstSect, lastSect))
                    : segs.stream().map(g -> new Blkif.Segment(g.gref(), g.firstSect(), g.lastSect())).toList();
        }

        @Override
        public void check(MachineSpec machine) {
            checkDomain(machine, "domain", domain);
            checkFrame(machine, "ring", ring);
        }

        @Override
        public String describe() {
            StringBuilder b = new StringBuilder("d" + domain + " request id " + id + " " + (operation != null
                    ? operation : "opcode " + opcode) + " sector " + sector);
            for (Blkif.Segment g : written()) {
                b.append(", gref ").append(g.gref()).append(" sectors ").append(g.firstSect()).append("..")
                        .append(g.lastSect());
            }
            return b.toString();
        }
    }

    /**
     * A response status by name: {@code okay} (BLKIF_RSP_OKAY, 0), {@code error} (BLKIF_RSP_ERROR, -1),
     * {@code eopnotsupp} (BLKIF_RSP_EOPNOTSUPP, -2), else the number.
     */
    static String status(int s) {
        return s == Blkif.BLKIF_RSP_OKAY ? "okay" : s == Blkif.BLKIF_RSP_ERROR ? "error"
                : s == Blkif.BLKIF_RSP_EOPNOTSUPP ? "eopnotsupp" : Integer.toString(s);
    }

    /** What {@code blkServe} reports: its result, the responses' count, the last one's id and status (by name). */
    record ServeExpect(String result, String rule, @Dec(max = 32, why = "requests of one ring") Integer served,
            @Dec(bits = 64) Long lastId, String lastStatus,
            Boolean notified, PvStep.Verdict invariant) {
        public ServeExpect {
            Bad.requireAny("expect", List.of("result", "rule", "served", "lastId", "lastStatus", "notified",
                    "invariant"), result, rule, served, lastId, lastStatus, notified, invariant);
        }
    }

    /**
     * {@code blkServe}: one pass of back-end {@code backEnd}'s request loop (BLK-4, BLK-5): it serves every pushed
     * request and answers each, notifying the front-end if BLK-2 asks. I11-blk is evaluated over the step and on its
     * post-state ({@code invariant}); a violation is noted.
     */
    @JsonTypeName("blkServe")
    record BlkServe(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer backEnd, ServeExpect expect)
            implements BlkStep {
        public BlkServe {
            backEnd = backEnd == null ? 0 : backEnd;
        }

        @Override
        public String describe() {
            return "block back-end d" + backEnd + " serves its ring";
        }
    }

    /**
     * {@code expectBlk}: facts of a ring and a disk, each optional (at least one): of ring frame {@code ring}: its
     * {@code reqProd}, {@code rspProd}, and the response in slot {@code index} ({@code responseId},
     * {@code responseStatus}); of back-end {@code backEnd}'s disk: word {@code word} of sector {@code sector} is
     * {@code value}; {@code mappings}: the back-end's grant mappings (its maptrack's size).
     */
    @JsonTypeName("expectBlk")
    record ExpectBlk(@Dec(bits = 40) Long ring, @Dec(bits = 32) Long index, @Dec(bits = 32) Long reqProd,
            @Dec(bits = 32) Long rspProd, @Dec(bits = 64) Long responseId, String responseStatus,
            @Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer backEnd,
            @Dec(max = Blkif.DISK_SECTORS - 1, why = "the disk's sectors 0..15") Long sector,
            @Dec(max = Blkif.WORDS_PER_SECTOR - 1, why = "words of a sector 0..63") Integer word,
            @Values.Hex Long value, @Dec(max = Integer.MAX_VALUE, why = "a count") Integer mappings)
            implements BlkStep {
        public ExpectBlk {
            Bad.requireAny("expectBlk step", List.of("reqProd", "rspProd", "responseId", "responseStatus", "value",
                    "mappings"), reqProd, rspProd, responseId, responseStatus, value, mappings);
            if ((reqProd != null || rspProd != null || responseId != null || responseStatus != null) && ring == null) {
                throw Bad.at("ring", "ring facts need the ring frame: give \"ring\"");
            }
            if ((responseId != null || responseStatus != null) && index == null) {
                throw Bad.at("index", "a response is read from a slot: give \"index\" (a ring index)");
            }
            if (value != null) {
                Bad.required(sector, "sector", "expectBlk step (value)");
                Bad.required(word, "word", "expectBlk step (value)");
            }
            if (value != null || mappings != null) {
                backEnd = backEnd == null ? 0 : backEnd;
            }
        }

        @Override
        public void check(MachineSpec machine) {
            if (ring != null) {
                checkFrame(machine, "ring", ring);
            }
        }

        @Override
        public String describe() {
            return (ring == null ? "" : "ring " + Render.hex(ring) + (index == null ? "" : " slot " + index))
                    + (value == null ? "" : (ring == null ? "" : ", ") + "d" + backEnd + " disk sector " + sector
                            + " word " + word) + (mappings == null ? "" : " d" + backEnd + "'s mappings");
        }
    }
}
