package org.hybridv.scenario.x86;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.hybridv.scenario.DecodeContext;
import org.hybridv.scenario.Fields;
import org.hybridv.scenario.JsonValue;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PageSize;

/**
 * JSON → x86 step records. Each decoder reads only the fields its op declares in {@link X86Module} and checks every
 * range the reference would otherwise reject as API misuse, so that a bad file is rejected with a message and
 * never reaches the reference.
 */
public final class X86Decoders {
    private X86Decoders() {}

    /** Named fields of an entry, in documentation order; plus "raw". */
    static final List<String> ENTRY_FLAGS = List.of("present", "writable", "user", "writeThrough", "cacheDisable",
            "accessed", "dirty", "pageSize", "global", "noExecute");
    public static final List<String> ENTRY_FIELDS = concat(ENTRY_FLAGS, List.of("protectionKey", "frame", "raw"));

    static final List<String> PTE = List.of("table", "index", "entry");
    static final List<String> CPU = List.of("cr0", "cr3", "cr4", "efer", "cr2", "cpl", "ac", "pkru", "expect");
    static final List<String> ACCESS = List.of("linear", "kind", "value", "cpl", "implicitSupervisor", "expect");
    static final List<String> INVLPG = List.of("linear", "expect");
    static final List<String> MOV_TO_CR3 = List.of("value", "expect");
    static final List<String> EXPECT_ENTRY = concat(List.of("table", "index"), ENTRY_FIELDS);
    static final List<String> EXPECT_CPU = List.of("cr0", "cr2", "cr3", "cr4", "efer", "cpl", "ac", "pkru");
    static final List<String> EXPECT_TLB = List.of("linear", "pcid", "vpid", "ep4ta", "cached", "physical", "pageSize", "global",
            "writable", "user", "noExecute", "dirty");

    private static final int INDEX_MAX = 511;
    private static final String INDEX_WHY = "512 entries per paging structure";
    /** Bits 51:12 of an entry or CR3 hold a frame number: 40 bits. */
    private static final int FRAME_BITS = 40;

    static final Map<String, AccessKind> KINDS = Map.of("read", AccessKind.READ, "write", AccessKind.WRITE, "fetch",
            AccessKind.FETCH);
    static final Map<String, PageSize> PAGE_SIZES = Map.of("4K", PageSize.SIZE_4K, "2M", PageSize.SIZE_2M, "1G",
            PageSize.SIZE_1G);

    static PteStep pte(Fields f, DecodeContext c) {
        long table = c.memoryFrame(f, "table");
        int index = (int) f.integer("index", 0, INDEX_MAX, INDEX_WHY);
        return new PteStep(table, index, entry(f.object("entry", "entry", ENTRY_FIELDS)));
    }

    /** An entry by named fields (absent flags are 0) or as {@code "raw"}, not both. */
    public static Entry entry(Fields f) {
        if (f.has("raw")) {
            for (String name : f.present()) {
                if (!name.equals("raw")) {
                    throw f.error(name, "\"raw\" gives every bit of the entry; it cannot be combined with \"" + name
                            + "\"");
                }
            }
            return new Entry(f.unsigned("raw", 64));
        }
        Entry e = Entry.NOT_PRESENT;
        int[] bits = {Entry.P, Entry.RW, Entry.US, Entry.PWT, Entry.PCD, Entry.A, Entry.D, Entry.PS, Entry.G,
            Entry.XD};
        for (int i = 0; i < ENTRY_FLAGS.size(); i++) {
            e = e.with(bits[i], f.bool(ENTRY_FLAGS.get(i), false));
        }
        e = e.withProtectionKey((int) f.optionalInteger("protectionKey", 0, 15, "bits 62:59, a 4-bit key")
                .orElse(0));
        return e.withFrame(f.optionalUnsigned("frame", FRAME_BITS).orElse(0));
    }

    static CpuStep cpu(Fields f, DecodeContext c) {
        f.requireAny(List.of("cr0", "cr3", "cr4", "efer", "cr2", "cpl", "ac", "pkru"));
        CpuStep.Cr0Bits cr0 = f.optionalObject("cr0", "cr0", List.of("pe", "wp", "pg")).map(o -> {
            o.requireAny(List.of("pe", "wp", "pg"));
            return new CpuStep.Cr0Bits(o.optionalBool("pe"), o.optionalBool("wp"), o.optionalBool("pg"));
        }).orElse(null);
        CpuStep.Cr3Load cr3 = f.optionalObject("cr3", "cr3", List.of("frame", "pcid", "noFlush")).map(o -> {
            o.requireAny(List.of("frame", "pcid"));
            OptionalLong frame = o.optionalUnsigned("frame", FRAME_BITS);
            OptionalLong pcid = o.optionalUnsigned("pcid", 12);
            return new CpuStep.Cr3Load(frame.isPresent() ? frame.getAsLong() : null,
                    pcid.isPresent() ? (int) pcid.getAsLong() : null, o.bool("noFlush", false));
        }).orElse(null);
        List<String> cr4Names = List.of("pse", "pae", "pge", "pcide", "smep", "smap", "pke");
        CpuStep.Cr4Bits cr4 = f.optionalObject("cr4", "cr4", cr4Names).map(o -> {
            o.requireAny(cr4Names);
            return new CpuStep.Cr4Bits(o.optionalBool("pse"), o.optionalBool("pae"), o.optionalBool("pge"),
                    o.optionalBool("pcide"), o.optionalBool("smep"), o.optionalBool("smap"), o.optionalBool("pke"));
        }).orElse(null);
        CpuStep.EferBits efer = f.optionalObject("efer", "efer", List.of("lme", "nxe")).map(o -> {
            o.requireAny(List.of("lme", "nxe"));
            return new CpuStep.EferBits(o.optionalBool("lme"), o.optionalBool("nxe"));
        }).orElse(null);
        OptionalLong cr2 = f.optionalUnsigned("cr2", 64);
        OptionalLong cpl = f.optionalInteger("cpl", 0, 3, "privilege levels 0..3");
        OptionalLong pkru = f.optionalUnsigned("pkru", 32);
        return new CpuStep(cr0, cr3, cr4, efer, cr2.isPresent() ? cr2.getAsLong() : null,
                cpl.isPresent() ? (int) cpl.getAsLong() : null, f.optionalBool("ac"),
                pkru.isPresent() ? (int) pkru.getAsLong() : null, instructionExpectation(f));
    }

    static AccessMemoryStep access(Fields f, DecodeContext c) {
        AccessOperands o = AccessOperands.decode(f);
        Access a = o.access();
        return new AccessMemoryStep(a.linear(), a.kind(), a.value(), o.cpl(), a.implicitSupervisor(),
                f.find("expect").map(X86Decoders::accessExpectation).orElse(null));
    }

    static AccessExpectation accessExpectation(JsonValue v) {
        JsonNode n = v.node();
        String named = n.isObject() && n.path("result").isTextual() ? n.get("result").textValue() : "";
        List<String> fields = switch (named) {
            case "ok" -> List.of("result", "physical", "value", "tlbHit");
            case "pageFault" -> List.of("result", "errorCode", "cr2", "tlbHit");
            case "generalProtection" -> List.of("result");
            default -> List.of("result", "physical", "value", "errorCode", "cr2", "tlbHit");
        };
        Fields f = Fields.of(v, named.isEmpty() || fields.size() == 6 ? "expect" : "expect (result " + named + ")",
                fields);
        String result = f.choice("result", Map.of("ok", "ok", "pageFault", "pageFault", "generalProtection",
                "generalProtection"));
        switch (result) {
            case "ok" -> {
                OptionalLong physical = f.optionalUnsigned("physical", 52);
                OptionalLong value = f.optionalUnsigned("value", 64);
                return new AccessExpectation.Completes(physical.isPresent() ? physical.getAsLong() : null,
                        value.isPresent() ? value.getAsLong() : null, f.optionalBool("tlbHit"));
            }
            case "pageFault" -> {
                OptionalLong errorCode = f.optionalUnsigned("errorCode", 32);
                OptionalLong cr2 = f.optionalUnsigned("cr2", 64);
                return new AccessExpectation.PageFaults(errorCode.isPresent() ? (int) errorCode.getAsLong() : null,
                        cr2.isPresent() ? cr2.getAsLong() : null, f.optionalBool("tlbHit"));
            }
            default -> {
                return new AccessExpectation.GeneralProtects();
            }
        }
    }

    /** The optional {@code expect} of a system instruction; absent means it must retire. */
    static InstructionExpectation instructionExpectation(Fields step) {
        Optional<Fields> e = step.optionalObject("expect", "expect", List.of("result"));
        if (e.isEmpty()) {
            return InstructionExpectation.RETIRES;
        }
        return e.get().choice("result", Map.of("ok", InstructionExpectation.RETIRES, "generalProtection",
                InstructionExpectation.FAULTS));
    }

    static InvlpgStep invlpg(Fields f, DecodeContext c) {
        return new InvlpgStep(f.unsigned("linear", 64), instructionExpectation(f));
    }

    static MovToCr3Step movToCr3(Fields f, DecodeContext c) {
        return new MovToCr3Step(f.unsigned("value", 64), instructionExpectation(f));
    }

    static ExpectEntryStep expectEntry(Fields f, DecodeContext c) {
        long table = c.memoryFrame(f, "table");
        int index = (int) f.integer("index", 0, INDEX_MAX, INDEX_WHY);
        f.requireAny(ENTRY_FIELDS);
        OptionalLong raw = f.optionalUnsigned("raw", 64);
        OptionalLong key = f.optionalInteger("protectionKey", 0, 15, "bits 62:59, a 4-bit key");
        OptionalLong frame = f.optionalUnsigned("frame", FRAME_BITS);
        return new ExpectEntryStep(table, index, new EntryPattern(raw.isPresent() ? raw.getAsLong() : null,
                f.optionalBool("present"), f.optionalBool("writable"), f.optionalBool("user"),
                f.optionalBool("writeThrough"), f.optionalBool("cacheDisable"), f.optionalBool("accessed"),
                f.optionalBool("dirty"), f.optionalBool("pageSize"), f.optionalBool("global"),
                f.optionalBool("noExecute"), key.isPresent() ? (int) key.getAsLong() : null,
                frame.isPresent() ? frame.getAsLong() : null));
    }

    static ExpectTlbStep expectTlb(Fields f, DecodeContext c) {
        long linear = f.unsigned("linear", 64);
        if (!Canonical.isCanonical(linear)) {
            throw f.error("linear", Render.hex(linear) + " is not canonical (bits 63:47 must be all 0 or all 1;"
                    + " a TLB only holds canonical addresses)");
        }
        f.requireAny(List.of("cached", "physical", "pageSize", "global", "writable", "user", "noExecute", "dirty"));
        OptionalLong pcid = f.optionalUnsigned("pcid", 12);
        OptionalLong vpid = f.optionalUnsigned("vpid", 16);
        OptionalLong ep4ta = f.optionalUnsigned("ep4ta", 52);
        if (ep4ta.isPresent() && (ep4ta.getAsLong() & 0xFFF) != 0) {
            throw f.error("ep4ta", Render.hex(ep4ta.getAsLong()) + " is not 4-KByte aligned (the EP4TA is the address"
                    + " of the EPT PML4 table, EPTP bits 51:12: for eptp frame 20 it is 0x14000)");
        }
        OptionalLong physical = f.optionalUnsigned("physical", 52);
        return new ExpectTlbStep(linear, pcid.isPresent() ? (int) pcid.getAsLong() : null,
                vpid.isPresent() ? (int) vpid.getAsLong() : null, boxed(ep4ta), f.optionalBool("cached"),
                physical.isPresent() ? physical.getAsLong() : null, f.optionalChoice("pageSize", PAGE_SIZES)
                        .orElse(null), f.optionalBool("global"), f.optionalBool("writable"), f.optionalBool("user"),
                f.optionalBool("noExecute"), f.optionalBool("dirty"));
    }

    static ExpectCpuStep expectCpu(Fields f, DecodeContext c) {
        f.requireAny(EXPECT_CPU);
        OptionalLong cpl = f.optionalInteger("cpl", 0, 3, "privilege levels 0..3");
        return new ExpectCpuStep(boxed(f.optionalUnsigned("cr0", 64)), boxed(f.optionalUnsigned("cr2", 64)),
                boxed(f.optionalUnsigned("cr3", 64)), boxed(f.optionalUnsigned("cr4", 64)),
                boxed(f.optionalUnsigned("efer", 64)), cpl.isPresent() ? (int) cpl.getAsLong() : null,
                f.optionalBool("ac"), boxed(f.optionalUnsigned("pkru", 32)));
    }

    private static Long boxed(OptionalLong v) {
        return v.isPresent() ? v.getAsLong() : null;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }
}
