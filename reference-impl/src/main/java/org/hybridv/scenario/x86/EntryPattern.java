package org.hybridv.scenario.x86;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.scenario.Check;
import org.hybridv.x86.Entry;

/**
 * The fields of an entry to check; null means "do not check".
 */
public record EntryPattern(Long raw, Boolean present, Boolean writable, Boolean user, Boolean writeThrough,
        Boolean cacheDisable, Boolean accessed, Boolean dirty, Boolean pageSize, Boolean global, Boolean noExecute,
        Integer protectionKey, Long frame) {

    /** One check per named field, in declaration order. */
    public List<Check> check(Entry e) {
        List<Check> out = new ArrayList<>();
        if (raw != null) {
            out.add(Check.of("raw", Render.hex(raw), Render.hex(e.raw())));
        }
        flag(out, "present", present, e.present());
        flag(out, "writable", writable, e.writable());
        flag(out, "user", user, e.user());
        flag(out, "writeThrough", writeThrough, e.writeThrough());
        flag(out, "cacheDisable", cacheDisable, e.cacheDisable());
        flag(out, "accessed", accessed, e.accessed());
        flag(out, "dirty", dirty, e.dirty());
        flag(out, "pageSize", pageSize, e.pageSize());
        flag(out, "global", global, e.global());
        flag(out, "noExecute", noExecute, e.noExecute());
        if (protectionKey != null) {
            out.add(Check.of("protectionKey", String.valueOf(protectionKey), String.valueOf(e.protectionKey())));
        }
        if (frame != null) {
            out.add(Check.of("frame", Render.hex(frame), Render.hex(e.frame())));
        }
        return out;
    }

    private static void flag(List<Check> out, String name, Boolean expected, boolean observed) {
        if (expected != null) {
            out.add(Check.of(name, String.valueOf(expected), String.valueOf(observed)));
        }
    }
}
