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

    /** Bits 51:12 of an entry or CR3 hold a frame number: 40 bits. */
    private static final int FRAME_BITS = 40;

    static final Map<String, AccessKind> KINDS = Map.of("read", AccessKind.READ, "write", AccessKind.WRITE, "fetch",
            AccessKind.FETCH);
    static final Map<String, PageSize> PAGE_SIZES = Map.of("4K", PageSize.SIZE_4K, "2M", PageSize.SIZE_2M, "1G",
            PageSize.SIZE_1G);

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

    /** The operands of an access (transitional: for the layers not yet bound by Jackson). */
    public record AccessOperands(Access access, Integer cpl) {
        public static AccessOperands decode(Fields f) {
            JsonValue kind = f.get("kind");
            X86Step.Kind k = f.choice("kind", Map.of("read", X86Step.Kind.READ, "write", X86Step.Kind.WRITE, "fetch",
                    X86Step.Kind.FETCH));
            OptionalLong value = f.optionalUnsigned("value", 64);
            OptionalLong cpl = f.optionalInteger("cpl", 0, 3, "privilege levels 0..3");
            Boolean implicit = f.optionalBool("implicitSupervisor");
            long linear = f.unsigned("linear", 64);
            try {
                X86Step.MemoryAccess.checkAccess("access", linear, k, value.isPresent() ? value.getAsLong() : null,
                        implicit);
            } catch (org.hybridv.scenario.Bad b) {
                throw f.error(b.field(), b.getMessage());
            }
            return new AccessOperands(new Access(linear, k.kind, Boolean.TRUE.equals(implicit), value.orElse(0)),
                    cpl.isPresent() ? (int) cpl.getAsLong() : null);
        }
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
