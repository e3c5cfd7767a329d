package org.hybridv.scenario.xen;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import java.io.IOException;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Loader;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Binder;
import org.hybridv.scenario.JsonValue;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.MemoryFrame;
import org.hybridv.scenario.x86.EntryBits;
import org.hybridv.scenario.x86.Render;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.xen.Domains;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.TlbFlushClock;
import org.hybridv.xen.XenMachine;

/**
 * The {@code hypervisor} section of {@code machine} (docs/scenario-format.md, "Hypervisor"), bound as a record and
 * then built by the reference's own domain builder ({@link #build}), so a construction the hypervisor refuses is an
 * input error at the offending part with the reference's errno, rule and reason.
 *
 * @param xenFrames hypervisor-owned frames (dom_xen, OWN-1), at least one; the first holds the host page tables
 * @param domains   created in order
 * @param pcpus     the number of physical CPUs, 1..{@link XenMachine#MAX_PCPUS} (default 1; docs/smp.md)
 * @param tlbClockWidth the TLB-flush clock's width in bits, 1..32 (default 32, Xen's; a narrow clock wraps after a
 *                  few flushes, Xen rule TLB-8)
 * @param tlbClockStart the TLB-flush clock's counter at the start, 1..2^width − 1 (default 1, the boot value): a
 *                  machine that has run for a long time, whose next flushes wrap the clock (Xen rule TLB-8)
 */
public record HypervisorSection(@MemoryFrame @JsonSetter(contentNulls = Nulls.FAIL) List<Long> xenFrames,
        @JsonSetter(contentNulls = Nulls.FAIL) List<Domain> domains,
        @Dec(min = 1, max = XenMachine.MAX_PCPUS, why = "1..4 physical CPUs (XenMachine.MAX_PCPUS)") Integer pcpus,
        @Dec(min = 1, max = 32, why = "a clock of 1..32 bits (Xen's is 32)") Integer tlbClockWidth,
        @Dec(min = 1, max = 0xFFFF_FFFFL, why = "a counter value 1..2^32 - 1 (0 is the wrap)") Long tlbClockStart) {
    static final String VPID_WHY = "VPIDs 1..0xffff (0 is the host's)";

    public HypervisorSection {
        Bad.required(xenFrames, "xenFrames", "hypervisor");
        Bad.required(domains, "domains", "hypervisor");
        if (xenFrames.isEmpty()) {
            throw Bad.at("xenFrames", "the hypervisor needs at least one frame (the first holds its page tables)");
        }
    }

    /** The MMU modes as a scenario names them. */
    public enum Mode {
        @JsonProperty("shadow") SHADOW(MmuMode.SHADOW),
        @JsonProperty("direct") DIRECT(MmuMode.DIRECT),
        @JsonProperty("hap") HAP(MmuMode.HAP);

        public final MmuMode mode;

        Mode(MmuMode mode) {
            this.mode = mode;
        }
    }

    /**
     * A domain: created with {@code Domains.create} (its frames must be free, OWN-1), then the builder's
     * {@code memory} writes into its own frames, then its vCPUs; or, with {@code kernel}, built by the hybrid kernel's
     * loader ({@code Loader.addDomain}: the p2m reversed over the frames, the image loaded through it, one vCPU at
     * reset).
     *
     * @param p2m gfn → mfn; default: the identity on {@code frames} in direct mode, gfn i → the i-th frame otherwise
     */
    public record Domain(@Dec(max = FrameInfo.MAX_DOMAIN, why = "domain ids 0..0x7fef (DOMID_FIRST_RESERVED - 1)")
            Integer id, Mode mode, @MemoryFrame @JsonDeserialize(contentUsing = FrameOrRange.class)
            @JsonSetter(contentNulls = Nulls.FAIL) List<FrameRange> frames,
            @JsonSetter(contentNulls = Nulls.FAIL) List<P2mEntry> p2m,
            @JsonSetter(contentNulls = Nulls.FAIL) List<MemoryWrite> memory,
            @JsonSetter(contentNulls = Nulls.FAIL) List<Vcpu> vcpus, KernelDomain kernel) {
        public Domain {
            Bad.required(id, "id", "domain");
            Bad.required(mode, "mode", "domain");
            Bad.required(frames, "frames", "domain");
            if (kernel != null) {
                Bad.absent("a kernel domain (built by the kernel's loader)", List.of("p2m", "memory", "vcpus"), p2m,
                        memory, vcpus);
                if (mode == Mode.DIRECT) {
                    throw Bad.at("mode", "the hybrid kernel starts in shadow or hap mode (it reaches direct paging"
                            + " with SWITCH_MMU)");
                }
                int n = frameNumbers(frames).length;
                if (n < Layout.MIN_FRAMES || n > Layout.MAX_FRAMES) {
                    throw Bad.at("frames", "a kernel domain has " + Layout.MIN_FRAMES + ".." + Layout.MAX_FRAMES
                            + " frames, not " + n);
                }
            } else {
                Bad.required(vcpus, "vcpus", "domain");
            }
        }
    }

    /** Frames {@code from..to}; a single frame is written as its number. */
    public record FrameRange(@MemoryFrame Long from, @MemoryFrame Long to) {
        public FrameRange {
            Bad.required(from, "from", "frame range");
            Bad.required(to, "to", "frame range");
            if (to < from) {
                throw Bad.at("to", "a range ends at or after its start (" + Render.hex(from) + ")");
            }
        }
    }

    /** One p2m entry: guest frame → machine frame. */
    public record P2mEntry(@Dec(bits = 40) Long gfn, @Dec(bits = 40) Long mfn) {
        public P2mEntry {
            Bad.required(gfn, "gfn", "p2m entry");
            Bad.required(mfn, "mfn", "p2m entry");
        }
    }

    /** A builder write into one of the domain's own frames, before any vCPU exists. */
    public record MemoryWrite(@MemoryFrame Long table, @Dec(max = 511, why = "512 entries per frame") Integer index,
            EntryBits entry) {
        public MemoryWrite {
            Bad.required(table, "table", "memory write");
            Bad.required(index, "index", "memory write");
            Bad.required(entry, "entry", "memory write");
        }
    }

    /**
     * A vCPU, added with {@code Domains.addVcpu}: in IA-32e mode at RIP 0; in direct mode its CR3 is validated as
     * MMUEXT_NEW_BASEPTR would (MX-3). CR3 bits 63:MAXPHYADDR are reserved (SDM Vol. 3A §4.5, Table 4-12), so the
     * root frame is below 2^(MAXPHYADDR - 12). {@code pcpu}: the pCPU it is placed on before it first runs (default
     * 0; one of the section's {@code pcpus}).
     */
    public record Vcpu(@Dec(min = 1, max = 0xFFFF, why = VPID_WHY) Integer vpid,
            @Dec(max = (1L << (XenMachine.MAX_PHYS_ADDR - 12)) - 1, why = "a frame number below 2^(MAXPHYADDR - 12);"
                    + " MAXPHYADDR = " + XenMachine.MAX_PHYS_ADDR) Long cr3,
            @Dec(max = 3, why = "privilege levels 0..3") Integer cpl,
            @Dec(max = XenMachine.MAX_PCPUS - 1, why = "pCPUs 0..3") Integer pcpu) {
        public Vcpu {
            Bad.required(vpid, "vpid", "vcpu");
            Bad.required(cr3, "cr3", "vcpu");
        }
    }

    /** {@code "kernel": {"vpid": n}}: the domain runs the hybrid kernel, driven by the machine's kernel section. */
    public record KernelDomain(@Dec(min = 1, max = 0xFFFF, why = VPID_WHY) Integer vpid) {
        public KernelDomain {
            Bad.required(vpid, "vpid", "kernel");
        }
    }

    /** Reads a frame range from a frame number (checked as the list's {@link MemoryFrame}) or a range object. */
    static final class FrameOrRange extends JsonDeserializer<FrameRange> implements ContextualDeserializer {
        private final BeanProperty list;

        FrameOrRange() {
            this(null);
        }

        private FrameOrRange(BeanProperty list) {
            this.list = list;
        }

        @Override
        public JsonDeserializer<?> createContextual(DeserializationContext ctxt, BeanProperty property) {
            return new FrameOrRange(property);
        }

        @Override
        public FrameRange deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.isExpectedStartObjectToken()) {
                return ctxt.readValue(p, FrameRange.class);
            }
            Long frame = (Long) ctxt.findContextualValueDeserializer(ctxt.constructType(Long.class), list)
                    .deserialize(p, ctxt);
            return new FrameRange(frame, frame);
        }
    }

    static long[] frameNumbers(List<FrameRange> frames) {
        return frames.stream().flatMapToLong(r -> LongStream.rangeClosed(r.from(), r.to())).toArray();
    }

    /**
     * The section's machine: {@link XenMachine#boot} with {@code xenFrames} (the scenario's seeded faults injected right
     * after), then per domain in order {@link Domains#create}, its {@code memory} writes and {@link Domains#addVcpu}
     * per vCPU. {@code value} is the section in the file, for the places of the reference's refusals.
     */
    static XenMachine build(JsonValue value, MachineSpec base) {
        HypervisorSection s = Binder.bind(value, HypervisorSection.class, base, "hypervisor");
        if (s == null) {
            throw value.error("expected an object, found null");
        }
        if (base.maxPhysAddr() != XenMachine.MAX_PHYS_ADDR) {
            throw value.error("a machine with a hypervisor has maxPhysAddr " + XenMachine.MAX_PHYS_ADDR
                    + " (the reference's XenMachine.MAX_PHYS_ADDR), not " + base.maxPhysAddr());
        }
        if (base.tlb() != TlbPolicy.ADVERSARIAL) {
            throw value.error("a machine with a hypervisor has the adversarial TLB (XenMachine.boot); remove \"tlb\"");
        }
        XenMachine m;
        try {
            m = XenMachine.boot(base.memoryFrames(), s.xenFrames().stream().mapToLong(Long::longValue).toArray())
                    .withPcpus(s.pcpus() == null ? 1 : s.pcpus())
                    .withTlbClockWidth(s.tlbClockWidth() == null ? TlbFlushClock.XEN_WIDTH : s.tlbClockWidth());
            m = (s.tlbClockStart() == null ? m : m.withTlbClockAt(s.tlbClockStart())).withFaults(base.faults());
        } catch (IllegalArgumentException e) {
            throw value.field("xenFrames").error(e.getMessage());
        }
        List<JsonValue> places = value.field("domains").elements();
        int pcpus = m.pcpuCount();
        for (int i = 0; i < s.domains().size(); i++) {
            Domain d = s.domains().get(i);
            for (int j = 0; d.vcpus() != null && j < d.vcpus().size(); j++) {
                Integer q = d.vcpus().get(j).pcpu();
                if (q != null && q >= pcpus) {
                    throw places.get(i).field("vcpus").elements().get(j).field("pcpu").error("the machine has "
                            + pcpus + " pCPU" + (pcpus == 1 ? "" : "s") + " (0.." + (pcpus - 1)
                            + "; machine.hypervisor.pcpus)");
                }
            }
            m = domain(m, d, places.get(i));
        }
        return m;
    }

    private static XenMachine domain(XenMachine m, Domain d, JsonValue at) {
        long[] frames = frameNumbers(d.frames());
        if (d.kernel() != null) {
            try {
                return Loader.addDomain(m, d.id(), d.mode().mode, frames, d.kernel().vpid());
            } catch (IllegalStateException e) {
                throw at.error(e.getMessage());
            }
        }
        SortedMap<Long, Long> p2m = new TreeMap<>();
        if (d.p2m() != null) {
            for (int i = 0; i < d.p2m().size(); i++) {
                P2mEntry e = d.p2m().get(i);
                if (p2m.put(e.gfn(), e.mfn()) != null) {
                    throw at.field("p2m").elements().get(i).field("gfn").error("gfn " + Render.hex(e.gfn())
                            + " is mapped twice");
                }
            }
        } else if (d.mode() == Mode.DIRECT) {
            p2m = Domains.identity(frames);
        } else {
            for (int i = 0; i < frames.length; i++) {
                p2m.put((long) i, frames[i]);
            }
        }
        HvResult r = Domains.create(m, d.id(), d.mode().mode, frames, p2m);
        if (r instanceof HvResult.Refused x) {
            throw at.error("the hypervisor refuses to create d" + d.id() + ": -" + x.errno() + " (" + x.rule() + "): "
                    + x.reason());
        }
        m = ((HvResult.Done) r).machine();
        for (int i = 0; d.memory() != null && i < d.memory().size(); i++) {
            MemoryWrite w = d.memory().get(i);
            if (m.frames().get(w.table()).owner() != d.id()) {
                throw at.field("memory").elements().get(i).field("table").error("frame " + Render.hex(w.table())
                        + " is not d" + d.id() + "'s: the builder writes only the domain's own frames");
            }
            m = m.withPaging(m.paging().write(w.table(), w.index(), w.entry().value()));
        }
        for (int i = 0; i < d.vcpus().size(); i++) {
            Vcpu v = d.vcpus().get(i);
            CpuState guest = CpuState.longMode(v.cr3(), XenMachine.MAX_PHYS_ADDR).withCpl(v.cpl() == null ? 0
                    : v.cpl());
            HvResult a = Domains.addVcpu(m, d.id(), v.vpid(), guest);
            if (a instanceof HvResult.Refused x) {
                throw at.field("vcpus").elements().get(i).error("the hypervisor refuses the vCPU: -" + x.errno() + " ("
                        + x.rule() + "): " + x.reason());
            }
            m = ((HvResult.Done) a).machine();
            if (v.pcpu() != null) { // initial placement, before the vCPU ever ran: not a migration
                org.hybridv.xen.VcpuId id = new org.hybridv.xen.VcpuId(d.id(), i);
                m = m.withVcpu(m.vcpu(id).withPcpu(v.pcpu()));
            }
        }
        return m;
    }
}
