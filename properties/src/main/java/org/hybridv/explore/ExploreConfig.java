package org.hybridv.explore;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;

/**
 * An exploration configuration (spec/configs/*.json, schema spec/configs/explore-config.schema.json): the world, the
 * action alphabet, the invariants, the seeded faults and the bounds. Read strictly: an unknown field, a missing one,
 * a value of the wrong type or outside its range is a {@link BadConfig} naming the file, line and column.
 *
 * @param schema      the schema the file names (ignored)
 * @param name        a short name (file names of counterexamples and reports)
 * @param description what the configuration answers, one paragraph
 * @param world       the initial machine: {@code hypervisor} ({@code HypervisorCases.initialMachine()}: d1 direct,
 *                    d2 HAP, d3 shadow, two vCPUs each)
 * @param depth       the documented depth bound
 * @param ciDepth     the depth bound the test suite exhausts it at (≤ depth)
 * @param maxStates   the state bound
 * @param invariants  the invariants checked, of I1, I2, I6 (on every new state) and I7 (on every step), and of the
 *                    interface worlds' I9, I11 (every new state), I10 (every send), EMU (every new state and every
 *                    MSR or port access) and batch (MU-7's batch property when a batch returns); in a hybrid world
 *                    of I1-I8, budget and KRN ({@link #HYBRID_INVARIANTS})
 * @param faults      seeded fault ids injected (docs/faults.md); the command line may add more
 * @param deadlock    whether a state that enables no action is a finding
 * @param symmetry    machine frames declared interchangeable (empty: none; 2 to 4 frames): the symmetry reduction
 *                    identifies states that differ by a permutation of them ({@link Symmetry})
 * @param newVcpus    hypervisor world only: vCPUs the toolstack asks the hypervisor for after the world is built and
 *                    the faults injected, in order ({@link NewVcpu}); empty: none
 * @param pcpus       the number of physical CPUs: in the hypervisor world 1..4 (default 1; every vCPU starts on
 *                    pCPU 0, {@link Schedule} actions move them); in a hybrid world 1 or 2 (2: the SMP kernel, its
 *                    vCPU i on pCPU i, a twin on two processors; docs/smp.md)
 * @param actions     the alphabet: groups, each expanded into actions in a fixed order
 * @param setup       hybrid worlds only: kernel operations applied once, in order, to the initial state before the
 *                    search (each group expanded as an action group is; empty: none) — a process created and a page
 *                    mapped, so that the alphabet need not contain operations that never stop changing the state
 * @param pvSetup     hypervisor world only: the para-virtual interface each listed domain sets up before the search
 *                    ({@link PvSetup}: its shared-info page, its grant table, its upcall vector); empty: none
 * @param cpuid       hybrid worlds only: what the hypervisor answers to the kernel's CPUID scan ({@link Cpuid}), one
 *                    initial state per entry; empty: Xen at 0x40000000
 * @param blkSetup    hypervisor world only: a block back-end built and connected to a front-end's ring before the
 *                    search ({@link BlkSetup}); null: none
 */
public record ExploreConfig(@JsonProperty(value = "$schema") String schema,
        @JsonProperty(required = true) String name,
        @JsonProperty(required = true) String description,
        @JsonProperty(required = true) String world,
        @JsonProperty(required = true) int depth,
        @JsonProperty(required = true) int ciDepth,
        @JsonProperty(required = true) long maxStates,
        @JsonProperty(required = true) List<String> invariants,
        List<String> faults,
        Boolean deadlock,
        List<Value> symmetry,
        List<NewVcpu> newVcpus,
        Integer pcpus,
        @JsonProperty(required = true) List<Group> actions,
        List<Kernel> setup,
        List<PvSetup> pvSetup,
        List<Cpuid> cpuid,
        BlkSetup blkSetup) {
    /** The worlds a configuration may start from. */
    public static final List<String> WORLDS = List.of("hypervisor", "hybrid-shadow", "hybrid-hap");
    /** The invariants a configuration may check: the hypervisor's, or the hybrid kernel's I1–I8. */
    public static final List<String> INVARIANTS = List.of("I1", "I2", "I6", "I7", "I9", "I10", "I11", "EMU",
            "batch", "I11-blk");
    /**
     * The checks of a hybrid-kernel world: the invariants I1–I8 ({@code HybridInvariants}), {@code budget}, the
     * event budgets BUD-1..BUD-10 ({@code EventBudgets}, docs/rules/hybrid.md), and {@code KRN}, the workload
     * contract KRN-1..KRN-8 ({@code KernelContract}), checked in that order on every step as the hybrid-kernel
     * property checks them.
     */
    public static final List<String> HYBRID_INVARIANTS = List.of("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8",
            org.hybridv.check.EventBudgets.NAME, org.hybridv.check.KernelContract.NAME);

    /** Whether the world is the hybrid kernel (with its native twin) rather than the hypervisor's. */
    public boolean hybrid() {
        return world.startsWith("hybrid-");
    }

    public ExploreConfig {
        require(name != null && name.matches("[a-z0-9][a-z0-9-]*"), "name must be lower-case letters, digits and"
                + " dashes");
        require(WORLDS.contains(world), "world \"" + world + "\" is not one of " + WORLDS);
        require(depth >= 1 && depth <= 1000, "depth " + depth + " is outside 1..1000");
        require(ciDepth >= 1 && ciDepth <= depth, "ciDepth " + ciDepth + " is outside 1..depth (" + depth + ")");
        require(maxStates >= 1 && maxStates <= 1_000_000_000L, "maxStates " + maxStates
                + " is outside 1..1000000000");
        require(invariants != null && !invariants.isEmpty(), "invariants must name at least one of " + INVARIANTS);
        List<String> known = world.startsWith("hybrid-") ? HYBRID_INVARIANTS : INVARIANTS;
        for (String i : invariants) {
            require(known.contains(i), "invariant \"" + i + "\" is not one of " + known + " (world " + world + ")");
        }
        invariants = List.copyOf(invariants);
        faults = faults == null ? List.of() : List.copyOf(faults);
        deadlock = deadlock != null && deadlock;
        symmetry = symmetry == null ? List.of() : List.copyOf(symmetry);
        require(symmetry.isEmpty() || symmetry.size() >= 2 && symmetry.size() <= Symmetry.MAX_FRAMES,
                "symmetry must list 2 to " + Symmetry.MAX_FRAMES + " frames");
        require(symmetry.stream().map(Value::raw).distinct().count() == symmetry.size(), "symmetry lists a frame"
                + " twice");
        require(actions != null && !actions.isEmpty(), "actions must list at least one group");
        actions = List.copyOf(actions);
        for (int g = 0; g < actions.size(); g++) {
            require(actions.get(g) instanceof Kernel == world.startsWith("hybrid-"), "actions[" + g + "]: "
                    + (actions.get(g) instanceof Kernel ? "kind kernel needs a hybrid world (hybrid-shadow,"
                    + " hybrid-hap)" : "a hybrid world's actions are of kind kernel"));
        }
        require(symmetry.isEmpty() || !world.startsWith("hybrid-"), "symmetry is for the hypervisor world");
        setup = setup == null ? List.of() : List.copyOf(setup);
        require(setup.isEmpty() || world.startsWith("hybrid-"), "setup is for the hybrid worlds");
        for (int g = 0; g < actions.size(); g++) {
            if (actions.get(g) instanceof Schedule sc) {
                require(pcpus != null && pcpus > 1, "actions[" + g + "]: schedule needs a world with several pCPUs"
                        + " (field pcpus)");
                for (int q : sc.to()) {
                    require(q < (pcpus == null ? 1 : pcpus), "actions[" + g + "]: schedule to pCPU " + q
                            + ", but the world has " + (pcpus == null ? 1 : pcpus) + " pCPU(s) (field pcpus)");
                }
            }
            if (actions.get(g) instanceof DeliverIpi di) {
                require(pcpus != null && pcpus > 1, "actions[" + g + "]: deliver_ipi needs a world with several"
                        + " pCPUs (field pcpus)");
                for (int q : di.pcpus()) {
                    require(q < pcpus, "actions[" + g + "]: deliver_ipi on pCPU " + q + ", but the world has "
                            + pcpus + " pCPU(s) (field pcpus)");
                }
            }
        }
        newVcpus = newVcpus == null ? List.of() : List.copyOf(newVcpus);
        require(newVcpus.isEmpty() || !world.startsWith("hybrid-"), "newVcpus is for the hypervisor world");
        require(newVcpus.size() <= 4, "newVcpus lists more than 4 vCPUs");
        pcpus = pcpus == null ? 1 : pcpus;
        require(pcpus >= 1 && pcpus <= 4, "pcpus " + pcpus + " is outside 1..4");
        require(pcpus <= org.hybridv.guest.Loader.MAX_CPUS || !world.startsWith("hybrid-"), "a hybrid world has 1 or "
                + org.hybridv.guest.Loader.MAX_CPUS + " pCPUs (the SMP kernel: one vCPU per pCPU)");
        for (int g = 0; g < actions.size(); g++) {
            require(!(actions.get(g) instanceof Kernel k) || !k.smp() || pcpus > 1, "actions[" + g + "]: the second"
                    + " processor needs a hybrid world with two pCPUs (field pcpus)");
        }
        for (int g = 0; g < setup.size(); g++) {
            require(!setup.get(g).smp() || pcpus > 1, "setup[" + g + "]: the second processor needs a hybrid world"
                    + " with two pCPUs (field pcpus)");
        }
        require(pcpus == 1 || symmetry.isEmpty(), "symmetry with several pCPUs is not supported");
        pvSetup = pvSetup == null ? List.of() : List.copyOf(pvSetup);
        require(pvSetup.isEmpty() || !world.startsWith("hybrid-"), "pvSetup is for the hypervisor world");
        require(pvSetup.stream().map(PvSetup::domain).distinct().count() == pvSetup.size(), "pvSetup lists a domain"
                + " twice");
        require(blkSetup == null || !world.startsWith("hybrid-"), "blkSetup is for the hypervisor world");
        for (int g = 0; g < actions.size(); g++) {
            require(!(actions.get(g) instanceof BlkPush || actions.get(g) instanceof BlkServe) || blkSetup != null,
                    "actions[" + g + "]: blk_push and blk_serve need a block back-end (field blkSetup)");
        }
        cpuid = cpuid == null ? List.of() : List.copyOf(cpuid);
        require(cpuid.isEmpty() || world.startsWith("hybrid-"), "cpuid is for the hybrid worlds");
        require(cpuid.isEmpty() || pcpus == 1, "cpuid goes with the one-CPU kernel (pcpus 1)");
        require(cpuid.size() <= 16, "cpuid lists more than 16 answers");
        java.util.Map<String, Long> buffers = new java.util.HashMap<>();
        for (int g = 0; g < actions.size(); g++) {
            Group group = actions.get(g);
            require(symmetry.isEmpty() || !(group instanceof Evtchn || group instanceof Gnttab
                    || group instanceof Grant || group instanceof Msr || group instanceof Io
                    || group instanceof MmuBatch || group instanceof Preempt || group instanceof Reissue),
                    "actions[" + g + "]: symmetry goes only with the MMU and access actions");
            if (group instanceof MmuBatch b) {
                require(pcpus > 1, "actions[" + g + "]: mmu_batch needs a world with several pCPUs (on one pCPU a"
                        + " batch runs to its end within its VMCALL: nothing to preempt or interleave; field pcpus)");
                for (String v : b.vcpus()) {
                    long other = buffers.getOrDefault(v, b.buffer().raw());
                    buffers.put(v, b.buffer().raw());
                    require(other == b.buffer().raw(), "actions[" + g + "]: " + v + " has two batch buffers ("
                            + Long.toHexString(other) + ", " + Long.toHexString(b.buffer().raw()) + "): a vCPU's"
                            + " kernel has one");
                }
            }
            if (group instanceof Preempt || group instanceof Reissue) {
                require(pcpus > 1, "actions[" + g + "]: preempt and reissue need a world with several pCPUs (field"
                        + " pcpus)");
            }
        }
    }

    /**
     * A domain's para-virtual interface set up before the search, by its vCPU 0 in this order (the guest's boot):
     * {@code XENMEM_add_to_physmap} of its shared-info page at guest frame {@code sharedInfo} (EVT-1) and of its grant
     * table at {@code grantTable} (GNT-1), then {@code HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)} with upcall vector
     * {@code vector} (EVT-9). A refusal is a configuration error.
     */
    public record PvSetup(@JsonProperty(required = true) int domain,
            @JsonProperty(required = true) Value sharedInfo,
            @JsonProperty(required = true) Value grantTable,
            @JsonProperty(required = true) int vector) {
        public PvSetup {
            require(domain >= 1 && domain <= 0x7FEF, "pvSetup: domain " + domain + " is outside 1..0x7fef");
            require(vector >= 0x20 && vector <= 0xFF, "pvSetup: vector " + vector + " is outside 0x20..0xff");
        }
    }

    /**
     * The split block driver set up before the search (BLK-3, BLK-8; docs/pv-interfaces.md): the toolstack builds
     * back-end domain {@code backEnd} (HAP, VPID {@code vpid}) in the four free frames from {@code firstFrame}
     * ({@code BlkBack.create}); front-end domain {@code frontEnd} (which must have a {@link PvSetup}: its grant table)
     * initialises its ring in its frame {@code ring} — at index {@code index} (default 0: a fresh ring; otherwise the
     * ring an earlier connection left with that many requests answered) — grants it to the back-end as
     * {@code ringRef} and allocates an unbound port for it; the back-end connects. A refusal is a configuration error.
     */
    public record BlkSetup(@JsonProperty(required = true) int backEnd,
            @JsonProperty(required = true) Value firstFrame,
            @JsonProperty(required = true) int vpid,
            @JsonProperty(required = true) int frontEnd,
            @JsonProperty(required = true) Value ring,
            @JsonProperty(required = true) int ringRef,
            Long index) {
        public BlkSetup {
            require(backEnd >= 0 && backEnd <= 0x7FEF && frontEnd >= 0 && frontEnd <= 0x7FEF && backEnd != frontEnd,
                    "blkSetup: backEnd and frontEnd are two domains of 0..0x7fef");
            require(vpid >= 1 && vpid <= 0xFFFF, "blkSetup: vpid " + vpid + " is outside 1..0xffff");
            require(ringRef >= 0 && ringRef < PhysicalMemory.WORDS_PER_FRAME, "blkSetup: ringRef " + ringRef
                    + " is outside 0..511");
            index = index == null ? 0L : index;
            require(index >= 0 && index <= 0xFFFF_FFFFL, "blkSetup: index " + index + " is outside 0..2^32-1");
        }
    }

    /**
     * One segment of a {@link BlkRequest}: grant {@code gref} of the front-end, sectors {@code firstSect} ..
     * {@code lastSect} of its page (BLK-7).
     */
    public record BlkSegment(@JsonProperty(required = true) long gref, @JsonProperty(required = true) int firstSect,
            @JsonProperty(required = true) int lastSect) {
        public BlkSegment {
            require(gref >= 0 && gref <= 0xFFFF_FFFFL && firstSect >= 0 && firstSect <= 0xFF && lastSect >= 0
                    && lastSect <= 0xFF, "blk_push: a segment's gref is 32 bits, its sectors a byte each");
        }
    }

    /**
     * A request the front-end writes into its ring ({@code io/blkif.h}; BLK-1, BLK-7): {@code operation} read or
     * write, its {@code id}, first disk {@code sector}, and its 1..11 segments.
     */
    public record BlkRequest(@JsonProperty(required = true) String operation, @JsonProperty(required = true) long id,
            @JsonProperty(required = true) long sector, @JsonProperty(required = true) List<BlkSegment> segs) {
        public BlkRequest {
            require("read".equals(operation) || "write".equals(operation), "blk_push: operation \"" + operation
                    + "\" is not read or write");
            require(sector >= 0 && sector < (1L << 48), "blk_push: sector " + sector + " is outside 0..2^48-1");
            segs = nonEmpty("segs", segs);
            require(segs.size() <= org.hybridv.xen.Blkif.MAX_SEGMENTS, "blk_push: a request has at most "
                    + org.hybridv.xen.Blkif.MAX_SEGMENTS + " segments");
        }
    }

    /**
     * The block front-end's stores (BLK-1, BLK-2, BLK-7): one action per request of {@code requests}, writing it into
     * the slot at its ring's {@code req_prod} and then advancing {@code req_prod} (no event is sent: an
     * {@code evtchn} send does that). Enabled while the ring has a free slot (fewer than 32 requests unanswered) and
     * the front-end has pushed fewer than {@code maxRequests} requests since the set-up (the bounded world: the ring's
     * indices only grow, so without a bound no depth would exhaust it; default 3).
     */
    public record BlkPush(@JsonProperty(required = true) List<BlkRequest> requests, Integer maxRequests)
            implements Group {
        public BlkPush {
            requests = nonEmpty("requests", requests);
            maxRequests = maxRequests == null ? 3 : maxRequests;
            require(maxRequests >= 1 && maxRequests <= 32, "blk_push: maxRequests " + maxRequests
                    + " is outside 1..32");
        }
    }

    /**
     * One pass of the block back-end's request loop ({@code BlkBack.serve}; BLK-4, BLK-5, BLK-7): it serves every
     * pushed request and answers each. {@code backEnds}: the back-end domain (the {@link BlkSetup}'s).
     */
    public record BlkServe(@JsonProperty(required = true) List<Integer> backEnds) implements Group {
        public BlkServe {
            backEnds = nonEmpty("backEnds", backEnds);
        }
    }

    /**
     * What the hypervisor answers to the kernel's CPUID scan (BOOT-2, BOOT-7; {@code CpuidIdentity}): its
     * interfaces ({@code personality}: {@code xen} or {@code kvm}; a KVM world is a HAP domain), the base of its leaves
     * (0x40000000 + k·0x100), the twelve signature bytes, the number of leaves after the base (default 2 for Xen, 1 for
     * KVM) and leaf 1 ECX[31] (default true).
     */
    public record Cpuid(@JsonProperty(required = true) String personality,
            @JsonProperty(required = true) Value base,
            @JsonProperty(required = true) String signature,
            Long leaves,
            Boolean hypervisorBit) {
        public Cpuid {
            require("xen".equals(personality) || "kvm".equals(personality), "cpuid: personality \"" + personality
                    + "\" is not xen or kvm");
            require(base.raw() >= 0x4000_0000L && base.raw() <= 0x4000_FF00L && (base.raw() & 0xFF) == 0,
                    "cpuid: base " + Long.toHexString(base.raw()) + " is not 0x40000000 + k * 0x100, k in 0..255");
            require(signature != null && signature.length() == 12 && signature.chars().allMatch(c -> c <= 0xFF),
                    "cpuid: the signature must be twelve characters 0..255");
            leaves = leaves == null ? ("xen".equals(personality) ? 2L : 1L) : leaves;
            require(leaves >= 0 && leaves <= 0xFF, "cpuid: leaves " + leaves + " is outside 0..255");
            hypervisorBit = hypervisorBit == null || hypervisorBit;
        }

        /** The answer as the hypervisor presents it. */
        public org.hybridv.xen.CpuidIdentity identity() {
            return new org.hybridv.xen.CpuidIdentity("kvm".equals(personality)
                    ? org.hybridv.xen.CpuidIdentity.Personality.KVM : org.hybridv.xen.CpuidIdentity.Personality.XEN,
                    base.raw(), signature, leaves, hypervisorBit);
        }
    }

    /**
     * A vCPU the toolstack asks the hypervisor for ({@code Domains.addVcpu}) before the search starts: in domain
     * {@code domain}, with VPID {@code vpid}, guest CR3 {@code cr3} (the guest's own value: a guest-physical address
     * under HAP and shadow paging, the L4's machine address in direct mode) and CPL {@code cpl} (default 0). When
     * the hypervisor refuses the VPID (CTL-5: another vCPU has it), the toolstack asks again with the lowest VPID no
     * vCPU uses, as the whole-system property's toolstack does; any other refusal is a configuration error. The new
     * vCPU is named {@code d<domain>v<index>}, its index the next of its domain.
     */
    public record NewVcpu(@JsonProperty(required = true) int domain, @JsonProperty(required = true) int vpid,
            @JsonProperty(required = true) Value cr3, Integer cpl) {
        public NewVcpu {
            require(domain >= 1 && domain <= 0x7FEF, "newVcpus: domain " + domain + " is outside 1..0x7fef");
            require(vpid >= 1 && vpid <= 0xFFFF, "newVcpus: vpid " + vpid + " is outside 1..0xffff");
            cpl = cpl == null ? 0 : cpl;
            require(cpl >= 0 && cpl <= 3, "newVcpus: cpl " + cpl + " is outside 0..3");
        }
    }

    /** A group of actions: each vCPU of {@code vcpus} with each combination of the group's value lists. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "kind")
    @JsonSubTypes({@JsonSubTypes.Type(value = Access.class, name = "access"),
        @JsonSubTypes.Type(value = MmuUpdate.class, name = "mmu_update"),
        @JsonSubTypes.Type(value = MmuextOp.class, name = "mmuext_op"),
        @JsonSubTypes.Type(value = UpdateVaMapping.class, name = "update_va_mapping"),
        @JsonSubTypes.Type(value = Invlpg.class, name = "invlpg"),
        @JsonSubTypes.Type(value = MovToCr.class, name = "mov_to_cr"),
        @JsonSubTypes.Type(value = SwitchMmu.class, name = "switch_mmu"),
        @JsonSubTypes.Type(value = Hlt.class, name = "hlt"),
        @JsonSubTypes.Type(value = Schedule.class, name = "schedule"),
        @JsonSubTypes.Type(value = DeliverIpi.class, name = "deliver_ipi"),
        @JsonSubTypes.Type(value = ContinueHypercall.class, name = "continue_hypercall"),
        @JsonSubTypes.Type(value = Evtchn.class, name = "evtchn"),
        @JsonSubTypes.Type(value = Gnttab.class, name = "gnttab"),
        @JsonSubTypes.Type(value = Grant.class, name = "grant"),
        @JsonSubTypes.Type(value = Msr.class, name = "msr"),
        @JsonSubTypes.Type(value = Io.class, name = "io"),
        @JsonSubTypes.Type(value = MmuBatch.class, name = "mmu_batch"),
        @JsonSubTypes.Type(value = Preempt.class, name = "preempt"),
        @JsonSubTypes.Type(value = Reissue.class, name = "reissue"),
        @JsonSubTypes.Type(value = Kernel.class, name = "kernel"),
        @JsonSubTypes.Type(value = BlkPush.class, name = "blk_push"),
        @JsonSubTypes.Type(value = BlkServe.class, name = "blk_serve")})
    public sealed interface Group {
        /** The vCPUs, as {@code d<domain>v<index>} (none for the hybrid kernel's operations). */
        default List<String> vcpus() {
            return List.of();
        }
    }

    /** The kernel operations of the hybrid world and the fields each takes (the scenario layer's kernel steps). */
    public static final Map<String, List<String>> KERNEL_OPS = Map.ofEntries(Map.entry("boot", List.of("to")),
            Map.entry("newProcess", List.of("cpu")), Map.entry("switchTo", List.of("pid", "cpu")),
            Map.entry("map", List.of("page", "writable", "cpu")), Map.entry("unmap", List.of("page", "cpu")),
            Map.entry("user", List.of("linear", "access", "value", "cpu")),
            Map.entry("kernelAccess", List.of("linear", "access", "value", "cpu")),
            Map.entry("syscall", List.of("cpu")), Map.entry("idle", List.of("cpu")),
            Map.entry("switchMmu", List.of("root", "mfn", "fromUser", "force")), Map.entry("startAp", List.of("cpu")));
    /** SWITCH_MMU roots by their scenario names. */
    public static final Map<String, org.hybridv.guest.SwitchRoot> ROOTS = Map.of("kernelBuilt",
            org.hybridv.guest.SwitchRoot.KERNEL_BUILT, "superpage", org.hybridv.guest.SwitchRoot.SUPERPAGE,
            "writablePageTable", org.hybridv.guest.SwitchRoot.WRITABLE_PAGE_TABLE, "foreignFrame",
            org.hybridv.guest.SwitchRoot.FOREIGN_FRAME, "xenSlot", org.hybridv.guest.SwitchRoot.XEN_SLOT,
            "writableSelfMap", org.hybridv.guest.SwitchRoot.WRITABLE_SELF_MAP, "explicit",
            org.hybridv.guest.SwitchRoot.EXPLICIT);

    /**
     * Hybrid-kernel operations ({@code GuestOp}): {@code do} one of {@link #KERNEL_OPS}, each combination of the
     * value lists it takes ({@code to}: boot stages; {@code pid}; {@code page}; {@code writable}; {@code linear},
     * {@code access} (read, write, fetch) and {@code value} for user and kernel accesses; {@code root} (scenario
     * names: kernelBuilt, superpage, writablePageTable, foreignFrame, xenSlot, writableSelfMap, explicit), {@code mfn}
     * (for foreignFrame and explicit), {@code fromUser} and {@code force} for switchMmu). A list it does not take is
     * refused; one it needs is required.
     */
    public record Kernel(@JsonProperty(value = "do", required = true) String what, List<String> to,
            List<Integer> pid, List<Integer> page, List<Boolean> writable, List<Value> linear, List<String> access,
            List<Value> value, List<String> root, List<Value> mfn, List<Boolean> fromUser, List<Boolean> force,
            List<Integer> cpu) implements Group {
        public Kernel {
            require(what != null && KERNEL_OPS.containsKey(what), "kernel operation \"" + what + "\" is not one of "
                    + KERNEL_OPS.keySet().stream().sorted().collect(Collectors.joining(", ")));
            List<String> takes = KERNEL_OPS.get(what);
            String[] names = {"to", "pid", "page", "writable", "linear", "access", "value", "root", "mfn", "fromUser",
                "force", "cpu"};
            Object[] lists = {to, pid, page, writable, linear, access, value, root, mfn, fromUser, force, cpu};
            for (int i = 0; i < names.length; i++) {
                require(lists[i] == null || takes.contains(names[i]), "kernel operation " + what + " takes no \""
                        + names[i] + "\"" + (takes.isEmpty() ? "" : " (it takes " + String.join(", ", takes) + ")"));
            }
            switch (what) {
                case "boot" -> {
                    to = nonEmpty("to", to);
                    for (String t : to) {
                        require(Arrays.stream(org.hybridv.guest.BootStage.values()).anyMatch(b -> b.name().equals(t)),
                                "boot stage \"" + t + "\" is not one of " + Arrays.toString(
                                        org.hybridv.guest.BootStage.values()));
                    }
                }
                case "switchTo" -> {
                    pid = nonEmpty("pid", pid);
                    for (int x : pid) {
                        require(x >= 0 && x <= 4096, "pid " + x + " is outside 0..4096");
                    }
                }
                case "map", "unmap" -> {
                    page = nonEmpty("page", page);
                    for (int x : page) {
                        require(x >= 0 && x < org.hybridv.guest.Layout.USER_PAGES, "page " + x + " is outside 0.."
                                + (org.hybridv.guest.Layout.USER_PAGES - 1));
                    }
                    writable = what.equals("map") ? (writable == null ? List.of(true) : nonEmpty("writable",
                            writable)) : null;
                }
                case "user", "kernelAccess" -> {
                    linear = nonEmpty("linear", linear);
                    access = nonEmpty("access", access);
                    for (String k : access) {
                        require(List.of("read", "write", "fetch").contains(k), "access \"" + k + "\" is not one of"
                                + " read, write, fetch");
                    }
                    value = value == null ? List.of(new Value(0)) : nonEmpty("value", value);
                }
                case "switchMmu" -> {
                    root = root == null ? List.of("kernelBuilt") : nonEmpty("root", root);
                    for (String r : root) {
                        require(ROOTS.containsKey(r), "root \"" + r + "\" is not one of " + ROOTS.keySet().stream()
                                .sorted().collect(Collectors.joining(", ")));
                    }
                    boolean takesMfn = root.stream().anyMatch(r -> r.equals("explicit") || r.equals("foreignFrame"));
                    require(takesMfn == (mfn != null), takesMfn ? "roots explicit and foreignFrame need \"mfn\""
                            : "\"mfn\" only goes with roots explicit and foreignFrame");
                    mfn = mfn == null ? List.of(new Value(0)) : nonEmpty("mfn", mfn);
                    fromUser = fromUser == null ? List.of(false) : nonEmpty("fromUser", fromUser);
                    force = force == null ? List.of(false) : nonEmpty("force", force);
                }
                default -> { }
            }
            if (takes.contains("cpu")) {
                // the SMP kernel's processors: startAp brings up an AP; the others run on the CPUs listed
                cpu = cpu == null && !what.equals("startAp") ? List.of(0) : nonEmpty("cpu", cpu);
                for (int c : cpu) {
                    require(c >= (what.equals("startAp") ? 1 : 0) && c < org.hybridv.guest.Loader.MAX_CPUS, "cpu " + c
                            + " is outside " + (what.equals("startAp") ? 1 : 0) + ".."
                            + (org.hybridv.guest.Loader.MAX_CPUS - 1));
                }
            }
        }

        /** Whether the group needs a second processor (an AP brought up, or an operation on CPU 1). */
        boolean smp() {
            return cpu != null && cpu.stream().anyMatch(c -> c > 0);
        }
    }

    /** Guest memory accesses: each kind ({@code read}, {@code write}, {@code fetch}) at each linear address. */
    public record Access(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<String> kinds,
            @JsonProperty(required = true) List<Value> linear,
            List<Value> values) implements Group {
        public Access {
            vcpus = nonEmpty("vcpus", vcpus);
            kinds = kindsOf("access", kinds, "read", "write", "fetch");
            linear = nonEmpty("linear", linear);
            values = values == null ? List.of(new Value(0)) : nonEmpty("values", values);
        }
    }

    /** {@code mmu_update} (MMU_NORMAL_PT_UPDATE) of entry {@code index} of table frame {@code table}. */
    public record MmuUpdate(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<Value> table,
            @JsonProperty(required = true) List<Integer> index,
            @JsonProperty(required = true) List<Value> values) implements Group {
        public MmuUpdate {
            vcpus = nonEmpty("vcpus", vcpus);
            table = nonEmpty("table", table);
            index = nonEmpty("index", index);
            for (int i : index) {
                require(i >= 0 && i < PhysicalMemory.WORDS_PER_FRAME, "index " + i + " is outside 0..511");
            }
            values = nonEmpty("values", values);
        }
    }

    /** The {@code mmuext_op} commands this explorer offers, by name, with their numbers. */
    public static final Map<String, Integer> MMUEXT = Map.ofEntries(Map.entry("pin_l1_table", 0),
            Map.entry("pin_l2_table", 1), Map.entry("pin_l3_table", 2), Map.entry("pin_l4_table", 3),
            Map.entry("unpin_table", 4), Map.entry("new_baseptr", 5), Map.entry("tlb_flush_local", 6),
            Map.entry("invlpg_local", 7), Map.entry("tlb_flush_all", 10), Map.entry("invlpg_all", 11));

    /** {@code mmuext_op}: each command with each argument (a frame, or a linear address for the INVLPG ones). */
    public record MmuextOp(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<String> cmds,
            @JsonProperty(required = true) List<Value> args) implements Group {
        public MmuextOp {
            vcpus = nonEmpty("vcpus", vcpus);
            cmds = nonEmpty("cmds", cmds);
            for (String c : cmds) {
                require(MMUEXT.containsKey(c), "mmuext_op command \"" + c + "\" is not one of "
                        + MMUEXT.keySet().stream().sorted().collect(Collectors.joining(", ")));
            }
            args = nonEmpty("args", args);
        }
    }

    /** {@code update_va_mapping}: each linear address, value and flush flag ({@code none}, {@code tlb_flush},
     * {@code invlpg}). */
    public record UpdateVaMapping(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<Value> linear,
            @JsonProperty(required = true) List<Value> values,
            @JsonProperty(required = true) List<String> flags) implements Group {
        public UpdateVaMapping {
            vcpus = nonEmpty("vcpus", vcpus);
            linear = nonEmpty("linear", linear);
            values = nonEmpty("values", values);
            flags = nonEmpty("flags", flags);
            for (String f : flags) {
                require(List.of("none", "tlb_flush", "invlpg").contains(f), "flag \"" + f + "\" is not one of none,"
                        + " tlb_flush, invlpg");
            }
        }
    }

    /** INVLPG of each linear address. */
    public record Invlpg(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<Value> linear) implements Group {
        public Invlpg {
            vcpus = nonEmpty("vcpus", vcpus);
            linear = nonEmpty("linear", linear);
        }
    }

    /** MOV to CR0, CR3 or CR4 of each value. */
    public record MovToCr(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) int cr,
            @JsonProperty(required = true) List<Value> values) implements Group {
        public MovToCr {
            vcpus = nonEmpty("vcpus", vcpus);
            require(cr == 0 || cr == 3 || cr == 4, "cr " + cr + " is not 0, 3 or 4");
            values = nonEmpty("values", values);
        }
    }

    /** The SWITCH_MMU hypercall with each root frame. */
    public record SwitchMmu(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<Value> roots) implements Group {
        public SwitchMmu {
            vcpus = nonEmpty("vcpus", vcpus);
            roots = nonEmpty("roots", roots);
        }
    }

    /**
     * The scheduler moves each vCPU to each pCPU of {@code to} ({@code Hypervisor.schedule}: MIG-1, MIG-2; nothing
     * happens if it is there already). Needs {@code pcpus} > 1.
     */
    public record Schedule(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<Integer> to) implements Group {
        public Schedule {
            vcpus = nonEmpty("vcpus", vcpus);
            to = nonEmpty("to", to);
            for (int q : to) {
                require(q >= 0 && q < 4, "schedule: pCPU " + q + " is outside 0..3");
            }
        }
    }

    /**
     * Each pCPU of {@code pcpus} takes the flush IPIs pending on it ({@code FlushIpis.deliverIpi}: the handler flushes
     * in each request's scope and acknowledges; a hypercall whose last acknowledgement it is completes; Xen rules
     * IPI-1..IPI-3); enabled while an IPI is pending there. Needs {@code pcpus} > 1.
     */
    public record DeliverIpi(@JsonProperty(required = true) List<Integer> pcpus) implements Group {
        public DeliverIpi {
            pcpus = nonEmpty("pcpus", pcpus);
            for (int q : pcpus) {
                require(q >= 0 && q < 4, "deliver_ipi: pCPU " + q + " is outside 0..3");
            }
        }
    }

    /**
     * The vCPU's hypercall in progress takes its next step ({@code PreemptibleValidation.continueHypercall}: an L2–L4
     * pin on several pCPUs validates one entry of its table per step, Xen rule TYP-8); enabled while the vCPU is
     * inside such a hypercall and awaits no flush acknowledgement.
     */
    public record ContinueHypercall(@JsonProperty(required = true) List<String> vcpus) implements Group {
        public ContinueHypercall {
            vcpus = nonEmpty("vcpus", vcpus);
        }
    }

    /**
     * {@code event_channel_op} (EVT-1..EVT-8; {@code EventChannels}): each command of {@code cmds} —
     * {@code alloc_unbound} (a port of the caller's domain for each remote domain of {@code domains}),
     * {@code bind_interdomain} (to each remote domain of {@code domains} and remote port of {@code ports}),
     * {@code send}, {@code close}, {@code unmask} (each local port of {@code ports}). The world is bounded: a
     * command that opens a port (alloc_unbound, bind_interdomain) is taken only while the caller's domain holds fewer
     * than {@code maxPorts} ports (default 2; Xen's limit is the ABI's 4096, which no exhaustive search reaches).
     */
    public record Evtchn(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<String> cmds,
            List<Integer> domains,
            List<Integer> ports,
            Integer maxPorts) implements Group {
        /** The commands, by name, with their numbers ({@code event_channel.h}). */
        public static final Map<String, Integer> CMDS = Map.of("alloc_unbound",
                org.hybridv.xen.EventChannels.EVTCHNOP_ALLOC_UNBOUND, "bind_interdomain",
                org.hybridv.xen.EventChannels.EVTCHNOP_BIND_INTERDOMAIN, "send", org.hybridv.xen.EventChannels.EVTCHNOP_SEND,
                "close", org.hybridv.xen.EventChannels.EVTCHNOP_CLOSE, "unmask",
                org.hybridv.xen.EventChannels.EVTCHNOP_UNMASK);

        public Evtchn {
            vcpus = nonEmpty("vcpus", vcpus);
            cmds = nonEmpty("cmds", cmds);
            for (String c : cmds) {
                require(CMDS.containsKey(c), "evtchn command \"" + c + "\" is not one of " + CMDS.keySet().stream()
                        .sorted().collect(Collectors.joining(", ")));
            }
            boolean remote = cmds.contains("alloc_unbound") || cmds.contains("bind_interdomain");
            boolean local = cmds.stream().anyMatch(c -> !c.equals("alloc_unbound"));
            require(remote == (domains != null), remote ? "evtchn: alloc_unbound and bind_interdomain need"
                    + " \"domains\"" : "evtchn: \"domains\" goes only with alloc_unbound and bind_interdomain");
            require(local == (ports != null), local ? "evtchn: bind_interdomain, send, close and unmask need"
                    + " \"ports\"" : "evtchn: \"ports\" goes only with bind_interdomain, send, close and unmask");
            domains = domains == null ? List.of() : nonEmpty("domains", domains);
            ports = ports == null ? List.of() : nonEmpty("ports", ports);
            for (int p : ports) {
                require(p >= 0 && p < 4096, "evtchn: port " + p + " is outside 0..4095");
            }
            maxPorts = maxPorts == null ? 2 : maxPorts;
            require(maxPorts >= 1 && maxPorts <= 64, "evtchn: maxPorts " + maxPorts + " is outside 1..64");
        }
    }

    /**
     * {@code grant_table_op} (GNT-2, GNT-5, GNT-6; {@code GrantTables}): {@code map} (GNTMAP_host_map at each linear
     * address of {@code addresses}, of each grant {@code refs} of each granting domain {@code domains}, read-only or
     * not as each of {@code readonly} says), {@code unmap} (each address with each map handle of {@code handles}),
     * {@code copy} (8 bytes from each grant {@code refs} of each domain {@code domains} into each own frame of
     * {@code frames}, GNTCOPY_source_gref).
     */
    public record Gnttab(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<String> cmds,
            List<Value> addresses, List<Integer> domains, List<Integer> refs, List<Boolean> readonly,
            List<Integer> handles, List<Value> frames) implements Group {
        public Gnttab {
            vcpus = nonEmpty("vcpus", vcpus);
            cmds = nonEmpty("cmds", cmds);
            for (String c : cmds) {
                require(List.of("map", "unmap", "copy").contains(c), "gnttab command \"" + c + "\" is not one of"
                        + " copy, map, unmap");
            }
            boolean map = cmds.contains("map");
            boolean unmap = cmds.contains("unmap");
            boolean copy = cmds.contains("copy");
            require((map || unmap) == (addresses != null), "gnttab: \"addresses\" goes with map and unmap, and"
                    + " only with them");
            require((map || copy) == (domains != null) && (map || copy) == (refs != null), "gnttab: \"domains\" and"
                    + " \"refs\" go with map and copy, and only with them");
            require(unmap == (handles != null), "gnttab: \"handles\" goes with unmap, and only with it");
            require(copy == (frames != null), "gnttab: \"frames\" goes with copy, and only with it");
            require(map || readonly == null, "gnttab: \"readonly\" goes only with map");
            addresses = addresses == null ? List.of() : nonEmpty("addresses", addresses);
            domains = domains == null ? List.of() : nonEmpty("domains", domains);
            refs = refs == null ? List.of() : nonEmpty("refs", refs);
            for (int r : refs) {
                require(r >= 0 && r < PhysicalMemory.WORDS_PER_FRAME, "gnttab: ref " + r + " is outside 0..511");
            }
            readonly = readonly == null ? List.of(false) : nonEmpty("readonly", readonly);
            handles = handles == null ? List.of() : nonEmpty("handles", handles);
            frames = frames == null ? List.of() : nonEmpty("frames", frames);
        }
    }

    /**
     * The granting guest's own store into its grant table (GNT-1, {@code GrantTables.guestGrant}): grant each ref of
     * {@code refs} to each domain of {@code domains} for each own frame of {@code frames}, read-only or not as each
     * of {@code readonly} says; with {@code end} true, the guest ends the grant instead (which it does only while Xen
     * shows it unmapped, GNT-7: otherwise nothing changes).
     */
    public record Grant(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<Integer> refs,
            List<Integer> domains, List<Value> frames, List<Boolean> readonly, List<Boolean> end) implements Group {
        public Grant {
            vcpus = nonEmpty("vcpus", vcpus);
            refs = nonEmpty("refs", refs);
            for (int r : refs) {
                require(r >= 0 && r < PhysicalMemory.WORDS_PER_FRAME, "grant: ref " + r + " is outside 0..511");
            }
            end = end == null ? List.of(false) : nonEmpty("end", end);
            boolean grants = end.contains(false);
            require(grants == (domains != null) && grants == (frames != null), "grant: \"domains\" and \"frames\""
                    + " are needed to grant, and only then");
            domains = domains == null ? List.of() : nonEmpty("domains", domains);
            frames = frames == null ? List.of() : nonEmpty("frames", frames);
            readonly = readonly == null ? List.of(false) : nonEmpty("readonly", readonly);
        }
    }

    /** RDMSR of each MSR of {@code msrs} and WRMSR of each with each of {@code values} ({@code kinds}: rdmsr, wrmsr). */
    public record Msr(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<String> kinds,
            @JsonProperty(required = true) List<Value> msrs,
            List<Value> values) implements Group {
        public Msr {
            vcpus = nonEmpty("vcpus", vcpus);
            kinds = kindsOf("msr", kinds, "rdmsr", "wrmsr");
            msrs = nonEmpty("msrs", msrs);
            require(kinds.contains("wrmsr") == (values != null), "msr: \"values\" goes with wrmsr, and only with it");
            values = values == null ? List.of() : nonEmpty("values", values);
        }
    }

    /** One-byte IN from each port of {@code ports} and OUT of each of {@code values} ({@code kinds}: in, out). */
    public record Io(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) List<String> kinds,
            @JsonProperty(required = true) List<Integer> ports,
            List<Value> values) implements Group {
        public Io {
            vcpus = nonEmpty("vcpus", vcpus);
            kinds = kindsOf("io", kinds, "in", "out");
            ports = nonEmpty("ports", ports);
            for (int p : ports) {
                require(p >= 0 && p <= 0xFFFF, "io: port " + p + " is outside 0..0xffff");
            }
            require(kinds.contains("out") == (values != null), "io: \"values\" goes with out, and only with it");
            values = values == null ? List.of() : nonEmpty("values", values);
            for (Value v : values) {
                require(v.raw() >= 0 && v.raw() <= 0xFF, "io: value " + v.raw() + " is outside 0..0xff (one byte)");
            }
        }
    }

    /**
     * A batched {@code mmu_update} (MU-7; {@code MmuBatch}) from the vCPU's batch buffer at guest-linear
     * {@code buffer}: word 0 is {@code *pdone}, word 1 the request count n, then n requests of two words (ptr, val) —
     * the kernel's own record of what it issued, as Linux's multicall buffer keeps its entries and their count. One
     * action per count of {@code counts}: the guest writes the first n requests of {@code requests} (each
     * MMU_NORMAL_PT_UPDATE of entry {@code index} of table frame {@code table} to {@code value}), n and
     * {@code *pdone} = 0 with ordinary stores, then issues {@code mmu_update(buffer + 16, n, buffer, DOMID_SELF)}.
     * Needs {@code pcpus} > 1 (one request per step); a vCPU has one buffer.
     */
    public record MmuBatch(@JsonProperty(required = true) List<String> vcpus,
            @JsonProperty(required = true) Value buffer,
            @JsonProperty(required = true) List<Request> requests,
            List<Integer> counts) implements Group {
        public MmuBatch {
            vcpus = nonEmpty("vcpus", vcpus);
            require((buffer.raw() & 0xFFF) == 0, "mmu_batch: the buffer must start a page (" + Long.toHexString(
                    buffer.raw()) + ")");
            requests = nonEmpty("requests", requests);
            require(requests.size() <= 16, "mmu_batch: more than 16 requests");
            counts = counts == null ? List.of(requests.size()) : nonEmpty("counts", counts);
            for (int n : counts) {
                require(n >= 1 && n <= requests.size(), "mmu_batch: count " + n + " is outside 1.." + requests.size());
            }
        }
    }

    /** One request of a batch: entry {@code index} of page-table frame {@code table} := {@code value}. */
    public record Request(@JsonProperty(required = true) Value table, @JsonProperty(required = true) int index,
            @JsonProperty(required = true) Value value) {
        public Request {
            require(index >= 0 && index < PhysicalMemory.WORDS_PER_FRAME, "mmu_batch: index " + index
                    + " is outside 0..511");
        }
    }

    /**
     * The hypervisor preempts the vCPU's batch between two requests (MU-8, {@code MmuBatch.preempt}): the count done
     * is written to {@code *pdone} and the vCPU holds the continuation ({@code Vcpu.continuation}); enabled while its
     * batch is between two requests with requests left and awaits no acknowledgement. Needs {@code pcpus} > 1.
     */
    public record Preempt(@JsonProperty(required = true) List<String> vcpus) implements Group {
        public Preempt {
            vcpus = nonEmpty("vcpus", vcpus);
        }
    }

    /**
     * The guest executes its VMCALL again with the continuation it holds (MU-8): the only thing a vCPU holding one
     * does (its RIP was rewound to the VMCALL); enabled exactly then.
     */
    public record Reissue(@JsonProperty(required = true) List<String> vcpus) implements Group {
        public Reissue {
            vcpus = nonEmpty("vcpus", vcpus);
        }
    }

    /** HLT (the vCPU blocks: its actions are no longer enabled). */
    public record Hlt(@JsonProperty(required = true) List<String> vcpus) implements Group {
        public Hlt {
            vcpus = nonEmpty("vcpus", vcpus);
        }
    }

    /**
     * A 64-bit value: a JSON integer, a string {@code "0x…"} (hexadecimal), or an IA-32e entry
     * {@code {"frame": 32, "writable": true, "user": true, "pageSize": false, "global": false, "dirty": false,
     * "reservedBit": 45}} (present; {@code {"present": false}} is 0).
     */
    @JsonDeserialize(using = ValueReader.class)
    public record Value(long raw) {}

    static final class ValueReader extends JsonDeserializer<Value> {
        private static final List<String> ENTRY_FIELDS = List.of("present", "frame", "writable", "user", "pageSize",
                "global", "dirty", "reservedBit");

        @Override
        public Value deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                return new Value(p.getLongValue());
            }
            if (t == JsonToken.VALUE_STRING) {
                String s = p.getText();
                if (s.matches("0x[0-9a-fA-F_]{1,20}")) {
                    try {
                        return new Value(Long.parseUnsignedLong(s.substring(2).replace("_", ""), 16));
                    } catch (NumberFormatException e) {
                        // falls through to the error below
                    }
                }
                throw JsonMappingException.from(p, "\"" + s + "\" is not a number (an integer or \"0x\" and hex"
                        + " digits)");
            }
            if (t == JsonToken.START_OBJECT) {
                JsonNode n = ctxt.readTree(p);
                Iterator<String> names = n.fieldNames();
                while (names.hasNext()) {
                    String f = names.next();
                    if (!ENTRY_FIELDS.contains(f)) {
                        throw JsonMappingException.from(p, "unknown entry field \"" + f + "\" (known: "
                                + String.join(", ", ENTRY_FIELDS) + ")");
                    }
                }
                if (n.has("present") && !n.get("present").asBoolean(true)) {
                    if (n.size() != 1) {
                        throw JsonMappingException.from(p, "a not-present entry has no other field");
                    }
                    return new Value(0);
                }
                if (!n.has("frame") || !n.get("frame").canConvertToLong()) {
                    throw JsonMappingException.from(p, "an entry needs \"frame\" (an integer)");
                }
                Entry e = Entry.table(n.get("frame").asLong(), flag(n, "writable", p), flag(n, "user", p))
                        .withPageSize(flag(n, "pageSize", p)).withGlobal(flag(n, "global", p))
                        .withDirty(flag(n, "dirty", p));
                long raw = e.raw();
                if (n.has("reservedBit")) {
                    int bit = n.get("reservedBit").asInt(-1);
                    if (bit < 12 || bit > 62) {
                        throw JsonMappingException.from(p, "reservedBit " + n.get("reservedBit") + " is outside"
                                + " 12..62");
                    }
                    raw |= 1L << bit;
                }
                return new Value(raw);
            }
            throw JsonMappingException.from(p, "expected a number, \"0x…\" or an entry object, found " + t);
        }

        private static boolean flag(JsonNode n, String f, JsonParser p) throws JsonMappingException {
            if (!n.has(f)) {
                return false;
            }
            if (!n.get(f).isBoolean()) {
                throw JsonMappingException.from(p, "entry field \"" + f + "\" must be true or false");
            }
            return n.get(f).asBoolean();
        }
    }

    /** A configuration file that cannot be used: {@code file:line:column: problem}, one line. */
    public static final class BadConfig extends Exception {
        private static final long serialVersionUID = 1L;

        public BadConfig(String message) {
            super(message);
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Reads {@code file}; {@code shown} is how messages name it. */
    public static ExploreConfig read(Path file, String shown) throws BadConfig {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BadConfig(shown + ": cannot read: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
        try {
            unknownFields(bytes, shown);
            return MAPPER.readValue(bytes, ExploreConfig.class);
        } catch (JsonProcessingException e) {
            throw new BadConfig(shown + where(e.getLocation()) + ": " + problem(e));
        } catch (IOException e) {
            throw new BadConfig(shown + ": " + e.getMessage());
        }
    }

    /** The fields each action kind has, besides {@code kind}. */
    private static final Map<String, Class<?>> KINDS = Map.ofEntries(Map.entry("access", Access.class),
            Map.entry("mmu_update", MmuUpdate.class), Map.entry("mmuext_op", MmuextOp.class),
            Map.entry("update_va_mapping", UpdateVaMapping.class), Map.entry("invlpg", Invlpg.class),
            Map.entry("mov_to_cr", MovToCr.class), Map.entry("switch_mmu", SwitchMmu.class),
            Map.entry("hlt", Hlt.class), Map.entry("kernel", Kernel.class), Map.entry("schedule", Schedule.class),
            Map.entry("deliver_ipi", DeliverIpi.class), Map.entry("continue_hypercall", ContinueHypercall.class),
            Map.entry("evtchn", Evtchn.class), Map.entry("gnttab", Gnttab.class), Map.entry("grant", Grant.class),
            Map.entry("msr", Msr.class), Map.entry("io", Io.class), Map.entry("mmu_batch", MmuBatch.class),
            Map.entry("preempt", Preempt.class), Map.entry("reissue", Reissue.class),
            Map.entry("blk_push", BlkPush.class), Map.entry("blk_serve", BlkServe.class));

    /**
     * Reports a misspelt field before Jackson would report a required one as missing (it checks the required fields
     * of a record first): the top level's fields, and each action's fields for its kind.
     */
    private static void unknownFields(byte[] bytes, String shown) throws IOException, BadConfig {
        try (JsonParser p = MAPPER.getFactory().createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return;
            }
            List<String> top = new java.util.ArrayList<>(names(ExploreConfig.class));
            top.add("$schema");
            top.remove("schema");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String f = p.currentName();
                if (!top.contains(f)) {
                    throw new BadConfig(shown + where(p.currentTokenLocation()) + ": unknown field \"" + f
                            + "\" (known: " + top.stream().sorted().collect(Collectors.joining(", ")) + ")");
                }
                JsonToken v = p.nextToken();
                if (f.equals("actions") && v == JsonToken.START_ARRAY) {
                    int i = 0;
                    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken(), i++) {
                        JsonLocation at = p.currentTokenLocation();
                        JsonNode n = MAPPER.readTree(p);
                        Class<?> kind = n != null && n.isObject() && n.get("kind") != null
                                ? KINDS.get(n.get("kind").asText()) : null;
                        if (kind == null) {
                            continue;
                        }
                        List<String> known = new java.util.ArrayList<>(names(kind));
                        known.add("kind");
                        Iterator<String> it = n.fieldNames();
                        while (it.hasNext()) {
                            String g = it.next();
                            if (!known.contains(g)) {
                                throw new BadConfig(shown + where(at) + ": actions[" + i + "]: unknown field \"" + g
                                        + "\" for kind " + n.get("kind").asText() + " (known: " + known.stream()
                                                .sorted().collect(Collectors.joining(", ")) + ")");
                            }
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (JsonProcessingException e) {
            // a syntax error: the binding below reports it with its place
        }
    }

    private static List<String> names(Class<?> record) {
        return Arrays.stream(record.getRecordComponents()).map(c -> {
            JsonProperty p = c.getAnnotation(JsonProperty.class);
            return p != null && !p.value().isEmpty() ? p.value() : c.getName();
        }).toList();
    }

    private static String where(JsonLocation l) {
        return l == null || l.getLineNr() < 1 ? "" : ":" + l.getLineNr() + ":" + l.getColumnNr();
    }

    private static String problem(JsonProcessingException e) {
        String path = e instanceof JsonMappingException m ? path(m) : "";
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds() == null ? List.of() : u.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().toList();
            return "unknown field \"" + u.getPropertyName() + "\"" + (path.isEmpty() ? "" : " in " + path)
                    + " (known: " + String.join(", ", known) + ")";
        }
        if (e instanceof InvalidTypeIdException t) {
            return (path.isEmpty() ? "" : path + ": ") + "unknown or missing action kind"
                    + (t.getTypeId() == null ? "" : " \"" + t.getTypeId() + "\"") + " (known: " + KINDS.keySet().stream()
                    .sorted().collect(Collectors.joining(", ")) + ")";
        }
        if (e instanceof ValueInstantiationException v && v.getCause() != null) {
            return (path.isEmpty() ? "" : path + ": ") + v.getCause().getMessage();
        }
        String msg = e.getOriginalMessage();
        if (msg.startsWith("Missing required creator property")) {
            int q = msg.indexOf('\'');
            String field = q >= 0 ? msg.substring(q + 1, msg.indexOf('\'', q + 1)) : "?";
            return (path.isEmpty() ? "" : path + ": ") + "missing field \"" + field + "\"";
        }
        msg = msg.replaceAll("\\(class [^)]*\\)", "").replaceAll("`[a-zA-Z.$]*\\.([A-Za-z]+)`", "$1");
        int nl = msg.indexOf('\n');
        return (path.isEmpty() ? "" : path + ": ") + (nl >= 0 ? msg.substring(0, nl) : msg).trim();
    }

    private static String path(JsonMappingException m) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** {@code kinds}, non-empty, each one of {@code allowed} (the {@code group}'s kinds, for the message). */
    private static List<String> kindsOf(String group, List<String> kinds, String... allowed) {
        List<String> l = nonEmpty("kinds", kinds);
        for (String k : l) {
            require(List.of(allowed).contains(k), group + " kind \"" + k + "\" is not one of "
                    + String.join(", ", allowed));
        }
        return l;
    }

    private static <T> List<T> nonEmpty(String field, List<T> l) {
        require(l != null && !l.isEmpty(), field + " must list at least one value");
        for (T t : l) {
            require(t != null, field + " must not contain null");
        }
        return List.copyOf(l);
    }
}
