package org.hybridv.scenario.x86;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.x86.Entry;

/**
 * A 64-bit paging-structure entry as a scenario writes it: by named fields (an absent flag is 0) or as {@code raw},
 * never both (SDM Vol. 3A §4.5, tables 4-15 to 4-20). As an expectation ({@code expectEntry}), only the named fields
 * are checked.
 *
 * @param frame the frame number, bits 51:12 (40 bits)
 * @param raw   all 64 bits
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EntryBits(Boolean present, Boolean writable, Boolean user, Boolean writeThrough, Boolean cacheDisable,
        Boolean accessed, Boolean dirty, Boolean pageSize, Boolean global, Boolean noExecute,
        @Dec(max = 15, why = "bits 62:59, a 4-bit key") Integer protectionKey, @Dec(bits = 40) Long frame,
        @Hex Long raw) {
    static final List<String> NAMED = List.of("present", "writable", "user", "writeThrough", "cacheDisable", "accessed",
            "dirty", "pageSize", "global", "noExecute", "protectionKey", "frame");

    public EntryBits {
        Object[] named = {present, writable, user, writeThrough, cacheDisable, accessed, dirty, pageSize, global,
            noExecute, protectionKey, frame};
        for (int i = 0; raw != null && i < named.length; i++) {
            if (named[i] != null) {
                throw Bad.at(NAMED.get(i), "\"raw\" gives every bit of the entry; it cannot be combined with \""
                        + NAMED.get(i) + "\"");
            }
        }
    }

    /** The entry as {@code raw}: how generators write an entry they hold. */
    public static EntryBits of(Entry e) {
        return new EntryBits(null, null, null, null, null, null, null, null, null, null, null, null, e.raw());
    }

    /** The 64-bit value: {@code raw}, or the named fields with every other bit 0. */
    public Entry value() {
        if (raw != null) {
            return new Entry(raw);
        }
        Entry e = Entry.NOT_PRESENT;
        Boolean[] flags = {present, writable, user, writeThrough, cacheDisable, accessed, dirty, pageSize, global,
            noExecute};
        int[] bits = {Entry.P, Entry.RW, Entry.US, Entry.PWT, Entry.PCD, Entry.A, Entry.D, Entry.PS, Entry.G, Entry.XD};
        for (int i = 0; i < bits.length; i++) {
            e = e.with(bits[i], Boolean.TRUE.equals(flags[i]));
        }
        return e.withProtectionKey(protectionKey == null ? 0 : protectionKey).withFrame(frame == null ? 0 : frame);
    }

    /** The checks of an expectation: one per field given, compared as values. */
    public List<Check> check(Entry e) {
        List<Check> out = new ArrayList<>();
        if (raw != null) {
            out.add(Check.value("raw", raw, e.raw(), Render::hex));
        }
        Boolean[] flags = {present, writable, user, writeThrough, cacheDisable, accessed, dirty, pageSize, global,
            noExecute};
        boolean[] seen = {e.present(), e.writable(), e.user(), e.writeThrough(), e.cacheDisable(), e.accessed(),
            e.dirty(), e.pageSize(), e.global(), e.noExecute()};
        for (int i = 0; i < flags.length; i++) {
            Check.flag(out, NAMED.get(i), flags[i], seen[i]);
        }
        if (protectionKey != null) {
            out.add(Check.value("protectionKey", protectionKey, e.protectionKey(), String::valueOf));
        }
        if (frame != null) {
            out.add(Check.value("frame", frame, e.frame(), Render::hex));
        }
        return out;
    }
}
