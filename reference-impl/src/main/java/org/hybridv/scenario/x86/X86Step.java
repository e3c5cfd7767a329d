package org.hybridv.scenario.x86;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.Values;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.scenario.Values.MemoryFrame;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.Efer;
import org.hybridv.x86.PageSize;

/**
 * The steps of the x86 layer (Intel SDM Vol. 3A chapter 4 on a bare processor): one record per op, which is its own
 * JSON form (docs/scenario-format.md, "Operations"), run by {@link X86Executors}.
 */
public sealed interface X86Step extends Step {
    String CPL_WHY = "privilege levels 0..3";
    String INDEX_WHY = "512 entries per paging structure";

    /**
     * {@code pte}: store a paging-structure entry into memory. A plain memory write: the TLB is not touched, so a
     * translation cached before stays in use until something invalidates it (SDM Vol. 3A §4.10.4).
     *
     * @param table the frame holding the paging structure (below memoryFrames)
     * @param index the entry's index in it, 0..511
     * @param entry the 64-bit entry
     */
    @JsonTypeName("pte")
    record Pte(@MemoryFrame Long table, @Dec(max = 511, why = INDEX_WHY) Integer index, EntryBits entry)
            implements X86Step {
        public Pte {
            Bad.required(table, "table", "pte step");
            Bad.required(index, "index", "pte step");
            Bad.required(entry, "entry", "pte step");
        }

        @Override
        public String describe() {
            return "table " + Render.frame(table) + "[" + index + "] := " + Render.entry(entry.value());
        }
    }

    /**
     * {@code cpu}: set the named register fields, leaving every other field as it is. The writes are the instructions
     * a kernel would use (MOV to CR0/CR3/CR4, WRMSR to IA32_EFER) with their architectural side effects, made at
     * CPL 0 in the order {@link X86Executors#cpu} documents; {@code cpl} is applied last. A #GP stops the step.
     */
    @JsonTypeName("cpu")
    record Cpu(Cr0Bits cr0, Cr3Load cr3, Cr4Bits cr4, EferBits efer, @Hex Long cr2,
            @Dec(max = 3, why = CPL_WHY) Integer cpl, Boolean ac, @Hex(32) Integer pkru, Result expect)
            implements X86Step {
        public Cpu {
            Bad.requireAny("cpu step", List.of("cr0", "cr3", "cr4", "efer", "cr2", "cpl", "ac", "pkru"), cr0, cr3, cr4,
                    efer, cr2, cpl, ac, pkru);
        }

        @Override
        public String describe() {
            List<String> parts = new ArrayList<>();
            // the order the writes are made in when entering paging (see X86Executors#cpu)
            add(parts, "efer ", efer);
            add(parts, "cr4 ", cr4);
            add(parts, "cr3 ", cr3);
            add(parts, "cr0 ", cr0);
            add(parts, "cr2 ", cr2 == null ? null : Render.hex(cr2));
            add(parts, "ac ", ac == null ? null : ac ? 1 : 0);
            add(parts, "pkru ", pkru == null ? null : Render.hex(pkru & 0xFFFF_FFFFL));
            add(parts, "cpl ", cpl);
            return String.join(", ", parts);
        }

        private static void add(List<String> parts, String name, Object v) {
            if (v != null) {
                parts.add(name + v);
            }
        }
    }

    /** CR0 bits; null leaves a bit unchanged. */
    record Cr0Bits(Boolean pe, Boolean wp, Boolean pg) {
        public Cr0Bits {
            Bad.requireAny("cr0", List.of("pe", "wp", "pg"), pe, wp, pg);
        }

        public Cr0 applyTo(Cr0 old) {
            return new Cr0(pe == null ? old.pe() : pe, wp == null ? old.wp() : wp, pg == null ? old.pg() : pg);
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"pe", "wp", "pg"}, pe, wp, pg);
        }
    }

    /** CR4 bits; null leaves a bit unchanged. */
    record Cr4Bits(Boolean pse, Boolean pae, Boolean pge, Boolean pcide, Boolean smep, Boolean smap, Boolean pke) {
        public Cr4Bits {
            Bad.requireAny("cr4", List.of("pse", "pae", "pge", "pcide", "smep", "smap", "pke"), pse, pae, pge, pcide,
                    smep, smap, pke);
        }

        public Cr4 applyTo(Cr4 old) {
            return new Cr4(pse == null ? old.pse() : pse, pae == null ? old.pae() : pae, pge == null ? old.pge() : pge,
                    pcide == null ? old.pcide() : pcide, smep == null ? old.smep() : smep,
                    smap == null ? old.smap() : smap, pke == null ? old.pke() : pke);
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"pse", "pae", "pge", "pcide", "smep", "smap", "pke"}, pse, pae, pge,
                    pcide, smep, smap, pke);
        }
    }

    /** IA32_EFER bits; null leaves a bit unchanged (LMA is not written: it is CR0.PG ∧ EFER.LME). */
    record EferBits(Boolean lme, Boolean nxe) {
        public EferBits {
            Bad.requireAny("efer", List.of("lme", "nxe"), lme, nxe);
        }

        public Efer applyTo(Efer old) {
            return new Efer(lme == null ? old.lme() : lme, nxe == null ? old.nxe() : nxe);
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"lme", "nxe"}, lme, nxe);
        }
    }

    /**
     * A CR3 load: the PML4 frame and bits 11:0 (the PCID when CR4.PCIDE = 1); an absent part keeps its value.
     * {@code noFlush} sets bit 63 of the operand (SDM Vol. 3A §4.10.4.1).
     */
    record Cr3Load(@Dec(bits = 40) Long frame, @Dec(bits = 12) Integer pcid, Boolean noFlush) {
        public Cr3Load {
            Bad.requireAny("cr3", List.of("frame", "pcid"), frame, pcid);
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (frame != null) {
                parts.add("frame " + Render.frame(frame));
            }
            if (pcid != null) {
                parts.add("pcid " + Render.hex(pcid));
            }
            if (Boolean.TRUE.equals(noFlush)) {
                parts.add("noFlush");
            }
            return String.join(" ", parts);
        }
    }

    /** The access kinds as a scenario names them. */
    enum Kind {
        @JsonProperty("read") READ(AccessKind.READ),
        @JsonProperty("write") WRITE(AccessKind.WRITE),
        @JsonProperty("fetch") FETCH(AccessKind.FETCH);

        public final AccessKind kind;

        Kind(AccessKind kind) {
            this.kind = kind;
        }

        public static Kind of(AccessKind k) {
            return values()[k.ordinal()];
        }
    }

    /**
     * {@code access}: one aligned quadword access through the MMU (SDM Vol. 3A §4.5–4.10), delivering a #PF (CR2
     * written) if it faults.
     *
     * @param linear             the linear address, 8-byte aligned
     * @param kind               read, write or fetch
     * @param value              the quadword written (only a write has one; absent: 0)
     * @param cpl                the CPL for this access only, or null for the current CPL
     * @param implicitSupervisor an implicit supervisor-mode access (to a system data structure; SDM 4.6)
     * @param expect             what must happen, or null to check nothing
     */
    @JsonTypeName("access")
    record MemoryAccess(@Hex Long linear, Kind kind, @Hex Long value, @Dec(max = 3, why = CPL_WHY) Integer cpl,
            Boolean implicitSupervisor, AccessExpect expect) implements X86Step {
        public MemoryAccess {
            checkAccess("access step", linear, kind, value, implicitSupervisor);
        }

        /** The access operands' rules, shared with the VMX layer's {@code guestAccess}. */
        public static void checkAccess(String what, Long linear, Kind kind, Long value, Boolean implicitSupervisor) {
            Bad.required(linear, "linear", what);
            Bad.required(kind, "kind", what);
            if ((linear & 7) != 0) {
                throw Bad.at("linear", Render.hex(linear) + " is not 8-byte aligned (an access is one aligned"
                        + " quadword, so it never spans two pages)");
            }
            if (value != null && kind != Kind.WRITE) {
                throw Bad.at("value", "only a write has a value (this access is a " + kind.name().toLowerCase(
                        Locale.ROOT) + ")");
            }
            if (Boolean.TRUE.equals(implicitSupervisor) && kind == Kind.FETCH) {
                throw Bad.at("implicitSupervisor", "an instruction fetch cannot be an implicit supervisor-mode access"
                        + " (SDM Vol. 3A §4.6: implicit accesses are data accesses to system structures)");
            }
        }

        public org.hybridv.x86.Access access() {
            return new org.hybridv.x86.Access(linear, kind.kind, Boolean.TRUE.equals(implicitSupervisor),
                    value == null ? 0 : value);
        }

        @Override
        public String describe() {
            return Render.access(access(), cpl);
        }
    }

    /** What an {@code access} is expected to do; every field but {@code result} is optional (absent: not checked). */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
    @JsonSubTypes({@JsonSubTypes.Type(AccessExpect.Ok.class), @JsonSubTypes.Type(AccessExpect.PageFault.class),
        @JsonSubTypes.Type(AccessExpect.GeneralProtection.class)})
    sealed interface AccessExpect {
        /** It completes: the physical address, the quadword read or written, whether a cached translation decided. */
        @JsonTypeName("ok")
        record Ok(@Hex(52) Long physical, @Hex Long value, Boolean tlbHit) implements AccessExpect {}

        /** #PF with its error code (SDM Vol. 3A §4.7) and CR2 afterwards. */
        @JsonTypeName("pageFault")
        record PageFault(@Hex(32) Integer errorCode, @Hex Long cr2, Boolean tlbHit) implements AccessExpect {}

        /** #GP(0), e.g. a non-canonical address. */
        @JsonTypeName("generalProtection")
        record GeneralProtection() implements AccessExpect {}
    }

    /** The outcome words of a system instruction. */
    enum Outcome {
        @JsonProperty("ok") OK,
        @JsonProperty("generalProtection") GENERAL_PROTECTION;

        public String word() {
            return Values.word(this);
        }
    }

    /** What a system instruction must do: {@code {"result": "ok"}} (retire) or {@code "generalProtection"}. */
    record Result(Outcome result) {
        public static final Result OK = new Result(Outcome.OK);

        public Result {
            Bad.required(result, "result", "expect");
        }

        /** The expectation of a step: {@code expect}, or retire when absent. */
        public static Result orOk(Result r) {
            return r == null ? OK : r;
        }
    }

    /** {@code invlpg}: INVLPG at the current CPL (SDM Vol. 2A INVLPG; Vol. 3A §4.10.4.1). */
    @JsonTypeName("invlpg")
    record Invlpg(@Hex Long linear, Result expect) implements X86Step {
        public Invlpg {
            Bad.required(linear, "linear", "invlpg step");
        }

        @Override
        public String describe() {
            return Render.hex(linear);
        }
    }

    /**
     * {@code movToCr3}: MOV to CR3 of an exact 64-bit operand at the current CPL: bit 63 is the no-flush hint with
     * CR4.PCIDE = 1, bits 11:0 the PCID (SDM Vol. 3A §4.10.4.1), bits above MAXPHYADDR are reserved (#GP).
     */
    @JsonTypeName("movToCr3")
    record MovToCr3(@Hex Long value, Result expect) implements X86Step {
        public MovToCr3 {
            Bad.required(value, "value", "movToCr3 step");
        }

        @Override
        public String describe() {
            return Render.hex(value);
        }
    }

    /**
     * {@code invpcid}: INVPCID at the current CPL (SDM Vol. 2A INVPCID; Vol. 3A §4.10.4.1) with the register operand
     * {@code type} and the 128-bit descriptor given by value: {@code pcid} is its low quadword (the PCID in bits 11:0;
     * bits 63:12 must be zero or the instruction raises #GP) and {@code linear} its high quadword (used by type 0
     * only; default 0).
     *
     * @param type   0 individual-address, 1 single-context, 2 all-context including globals, 3 all-context; larger
     *               values raise #GP
     * @param pcid   the descriptor's bits 63:0
     * @param linear the descriptor's bits 127:64
     */
    @JsonTypeName("invpcid")
    record Invpcid(@Dec(bits = 32) Long type, @Hex Long pcid, @Hex Long linear, Result expect) implements X86Step {
        public Invpcid {
            Bad.required(type, "type", "invpcid step");
            Bad.required(pcid, "pcid", "invpcid step");
        }

        /** The descriptor's linear address, 0 when absent. */
        public long linearOrZero() {
            return linear == null ? 0 : linear;
        }

        @Override
        public String describe() {
            return "type " + type + " pcid " + Render.hex(pcid) + (linear == null ? "" : " " + Render.hex(linear));
        }
    }

    /** The caches of SDM Vol. 3A §4.10 as a scenario names them. */
    enum Cache {
        /** The TLB (§4.10.2): a translation. */
        @JsonProperty("tlb") TLB,
        /** The PML4 cache (§4.10.3.1). */
        @JsonProperty("pml4") PML4,
        /** The PDPTE cache. */
        @JsonProperty("pdpte") PDPTE,
        /** The PDE cache. */
        @JsonProperty("pde") PDE;

        public String word() {
            return Values.word(this);
        }
    }

    /** A linear address of an entry of the TLB or of a paging-structure cache: canonical, as every cached one is. */
    private static void checkCachedAddress(long linear) {
        if (!Canonical.isCanonical(linear)) {
            throw Bad.at("linear", Render.hex(linear) + " is not canonical (the caches only hold canonical"
                    + " addresses)");
        }
    }

    /** An EP4TA (EPTP bits 51:12), if given: 4-KByte aligned. */
    private static void checkEp4ta(Long ep4ta) {
        if (ep4ta != null && (ep4ta & 0xFFF) != 0) {
            throw Bad.at("ep4ta", Render.hex(ep4ta) + " is not 4-KByte aligned (the EP4TA is EPTP bits 51:12)");
        }
    }

    /** How an evict or expectPsc step names its cache entry. */
    private static String describeCached(Cache cache, long linear, Integer pcid, Integer vpid) {
        return cache.word() + " " + Render.hex(linear) + (pcid == null ? "" : " pcid " + Render.hex(pcid))
                + (vpid == null ? "" : " vpid " + Render.hex(vpid));
    }

    /**
     * {@code evict}: the processor drops one cached entry on its own, as it may at any time (SDM Vol. 3A §4.10.4.1:
     * "The processor is always free to invalidate additional entries in the TLBs and paging-structure caches."): the
     * entry of {@code cache} a lookup of {@code linear} would use in the given context (PCID default the current one;
     * VPID default 0; EP4TA default none). Evicting what is not cached changes nothing; {@code evicted} checks which
     * happened.
     */
    @JsonTypeName("evict")
    record Evict(Cache cache, @Hex Long linear, @Dec(bits = 12) Integer pcid, @Dec(bits = 16) Integer vpid,
            @Hex(52) Long ep4ta, Boolean evicted) implements X86Step {
        public Evict {
            Bad.required(cache, "cache", "evict step");
            Bad.required(linear, "linear", "evict step");
            checkCachedAddress(linear);
            checkEp4ta(ep4ta);
        }

        @Override
        public String describe() {
            return describeCached(cache, linear, pcid, vpid);
        }
    }

    /**
     * {@code expectEntry}: check fields of the paging-structure entry in memory (e.g. the A and D flags the
     * processor set, SDM Vol. 3A §4.8); absent fields are not checked.
     */
    @JsonTypeName("expectEntry")
    record ExpectEntry(@MemoryFrame Long table, @Dec(max = 511, why = INDEX_WHY) Integer index, Boolean present,
            Boolean writable, Boolean user, Boolean writeThrough, Boolean cacheDisable, Boolean accessed,
            Boolean dirty, Boolean pageSize, Boolean global, Boolean noExecute,
            @Dec(max = 15, why = "bits 62:59, a 4-bit key") Integer protectionKey, @Dec(bits = 40) Long frame,
            @Hex Long raw) implements X86Step {
        public ExpectEntry {
            Bad.required(table, "table", "expectEntry step");
            Bad.required(index, "index", "expectEntry step");
            Bad.requireAny("expectEntry step", List.of("present", "writable", "user", "writeThrough", "cacheDisable",
                    "accessed", "dirty", "pageSize", "global", "noExecute", "protectionKey", "frame", "raw"), present,
                    writable, user, writeThrough, cacheDisable, accessed, dirty, pageSize, global, noExecute,
                    protectionKey, frame, raw);
        }

        /** The fields to check. */
        public EntryBits pattern() {
            return new EntryBits(present, writable, user, writeThrough, cacheDisable, accessed, dirty, pageSize,
                    global, noExecute, protectionKey, frame, null);
        }

        @Override
        public String describe() {
            return "table " + Render.frame(table) + "[" + index + "]";
        }
    }

    /**
     * {@code expectCpu}: check register values as their architectural values (CR0 0x80010001 …, EFER with LMA);
     * absent fields are not checked.
     */
    @JsonTypeName("expectCpu")
    record ExpectCpu(@Hex Long cr0, @Hex Long cr2, @Hex Long cr3, @Hex Long cr4, @Hex Long efer,
            @Dec(max = 3, why = CPL_WHY) Integer cpl, Boolean ac, @Hex(32) Long pkru) implements X86Step {
        public ExpectCpu {
            Bad.requireAny("expectCpu step", List.of("cr0", "cr2", "cr3", "cr4", "efer", "cpl", "ac", "pkru"), cr0, cr2,
                    cr3, cr4, efer, cpl, ac, pkru);
        }

        @Override
        public String describe() {
            return "registers";
        }
    }

    /** Page sizes as a scenario names them. */
    enum Size {
        @JsonProperty("4K") SIZE_4K,
        @JsonProperty("2M") SIZE_2M,
        @JsonProperty("1G") SIZE_1G;

        public String word() {
            return Values.word(this);
        }

        public static Size of(PageSize s) {
            return valueOf(s.name());
        }
    }

    /**
     * {@code expectTlb}: check the translation the TLB would use for a linear address (SDM Vol. 3A §4.10.2), looked
     * up as the processor would for the given PCID (default: the current one) in the given VMX context (SDM Vol. 3C
     * §28.3.1: VPID and, for a combined mapping, EP4TA; default VPID 0 without EPT). Absent fields are not checked;
     * the attributes other than {@code cached} are checked only when a translation is cached.
     */
    @JsonTypeName("expectTlb")
    record ExpectTlb(@Hex Long linear, @Dec(bits = 12) Integer pcid, @Dec(bits = 16) Integer vpid, @Hex(52) Long ep4ta,
            Boolean cached, @Hex(52) Long physical, Size pageSize, Boolean global, Boolean writable, Boolean user,
            Boolean noExecute, Boolean dirty) implements X86Step {
        public ExpectTlb {
            Bad.required(linear, "linear", "expectTlb step");
            if (!Canonical.isCanonical(linear)) {
                throw Bad.at("linear", Render.hex(linear) + " is not canonical (bits 63:47 must be all 0 or all 1;"
                        + " a TLB only holds canonical addresses)");
            }
            Bad.requireAny("expectTlb step", List.of("cached", "physical", "pageSize", "global", "writable", "user",
                    "noExecute", "dirty"), cached, physical, pageSize, global, writable, user, noExecute, dirty);
            if (ep4ta != null && (ep4ta & 0xFFF) != 0) {
                throw Bad.at("ep4ta", Render.hex(ep4ta) + " is not 4-KByte aligned (the EP4TA is the address of the"
                        + " EPT PML4 table, EPTP bits 51:12: for eptp frame 20 it is 0x14000)");
            }
        }

        @Override
        public String describe() {
            return Render.hex(linear) + (pcid == null ? "" : " pcid " + Render.hex(pcid))
                    + (vpid == null ? "" : " vpid " + Render.hex(vpid))
                    + (ep4ta == null ? "" : " ep4ta " + Render.hex(ep4ta));
        }
    }

    /**
     * {@code expectPsc}: check the paging-structure-cache entry (SDM Vol. 3A §4.10.3) of one cache that the processor
     * would use for a linear address in the given context (PCID default the current one; VPID default 0; EP4TA
     * default none). Absent fields are not checked; the fields other than {@code cached} are checked only when an
     * entry is cached.
     *
     * @param cache      pml4, pdpte or pde
     * @param table      the physical address of the next paging structure the entry holds
     * @param writable   the AND of R/W it holds
     * @param user       the AND of U/S it holds
     * @param noExecute  the OR of XD it holds
     */
    @JsonTypeName("expectPsc")
    record ExpectPsc(Cache cache, @Hex Long linear, @Dec(bits = 12) Integer pcid, @Dec(bits = 16) Integer vpid,
            @Hex(52) Long ep4ta, Boolean cached, @Hex(52) Long table, Boolean writable, Boolean user,
            Boolean noExecute) implements X86Step {
        public ExpectPsc {
            Bad.required(cache, "cache", "expectPsc step");
            if (cache == Cache.TLB) {
                throw Bad.at("cache", "expectPsc checks a paging-structure cache (pml4, pdpte or pde); the TLB is"
                        + " checked with expectTlb");
            }
            Bad.required(linear, "linear", "expectPsc step");
            checkCachedAddress(linear);
            Bad.requireAny("expectPsc step", List.of("cached", "table", "writable", "user", "noExecute"), cached,
                    table, writable, user, noExecute);
            checkEp4ta(ep4ta);
        }

        @Override
        public String describe() {
            return describeCached(cache, linear, pcid, vpid);
        }
    }
}
