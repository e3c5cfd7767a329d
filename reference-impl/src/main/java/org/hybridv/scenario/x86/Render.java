package org.hybridv.scenario.x86;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.Hex;

/**
 * How the x86 steps show values in traces and reports: hex numbers, entries and registers with their flags. Public
 * for the layers above, whose steps show the same values (a #PF error code delivered to a guest, a guest CR0) the same
 * way.
 */
public final class Render {
    private Render() {}

    public static String hex(long v) {
        return Hex.of(v);
    }

    static String frame(long frame) {
        return Hex.of(frame);
    }

    /** {@code 0x2007 (P RW US frame 0x2)}; {@code 0x0 (not present)}. */
    public static String entry(Entry e) {
        if (!e.present()) {
            return Hex.of(e.raw()) + " (not present)";
        }
        List<String> f = new ArrayList<>();
        f.add("P");
        if (e.writable()) f.add("RW");
        if (e.user()) f.add("US");
        if (e.writeThrough()) f.add("PWT");
        if (e.cacheDisable()) f.add("PCD");
        if (e.accessed()) f.add("A");
        if (e.dirty()) f.add("D");
        if (e.pageSize()) f.add("PS");
        if (e.global()) f.add("G");
        if (e.protectionKey() != 0) f.add("PK" + e.protectionKey());
        if (e.noExecute()) f.add("XD");
        f.add("frame " + Hex.of(e.frame()));
        return Hex.of(e.raw()) + " (" + String.join(" ", f) + ")";
    }

    /** An error code with its flags by SDM name, also for bits the reference does not produce. */
    public static String errorCode(long bits) {
        String[] names = {"P", "W", "U", "RSVD", "I/D", "PK", "SS", "HLAT"};
        List<String> set = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if ((bits & (1L << i)) != 0) {
                set.add(i < names.length ? names[i] : i == 15 ? "SGX" : "bit " + i);
            }
        }
        return Hex.of(bits) + " (" + (set.isEmpty() ? "0" : String.join("|", set)) + ")";
    }

    static String errorCode(ErrorCode e) {
        return errorCode(e.bits());
    }

    /** "pe=1 wp=0" for the fields named (non-null). */
    public static String flags(String[] names, Boolean... values) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if (values[i] != null) {
                out.add(names[i] + "=" + (values[i] ? 1 : 0));
            }
        }
        return String.join(" ", out);
    }

    public static long eferBits(CpuState cpu) {
        return cpu.eferBits();
    }

    public static String cr0(CpuState c) {
        return named(c.cr0().bits(), c.cr0().pe() ? "PE" : null, c.cr0().wp() ? "WP" : null,
                c.cr0().pg() ? "PG" : null);
    }

    public static String cr4(CpuState c) {
        var r = c.cr4();
        return named(r.bits(), r.pse() ? "PSE" : null, r.pae() ? "PAE" : null, r.pge() ? "PGE" : null,
                r.pcide() ? "PCIDE" : null, r.smep() ? "SMEP" : null, r.smap() ? "SMAP" : null,
                r.pke() ? "PKE" : null);
    }

    public static String efer(CpuState c) {
        return named(eferBits(c), c.efer().lme() ? "LME" : null, c.ia32eMode() ? "LMA" : null,
                c.efer().nxe() ? "NXE" : null);
    }

    private static String named(long bits, String... names) {
        List<String> set = new ArrayList<>();
        for (String n : names) {
            if (n != null) {
                set.add(n);
            }
        }
        return set.isEmpty() ? Hex.of(bits) : Hex.of(bits) + " (" + String.join(" ", set) + ")";
    }

    /** An access for the trace: "write 0x1000 value 0x5 at CPL 3". */
    public static String access(org.hybridv.x86.Access a, Integer cpl) {
        StringBuilder s = new StringBuilder(a.kind().name().toLowerCase(java.util.Locale.ROOT)).append(' ')
                .append(hex(a.linear()));
        if (a.isWrite() && a.value() != 0) {
            s.append(" value ").append(hex(a.value()));
        }
        if (cpl != null) {
            s.append(" at CPL ").append(cpl);
        }
        if (a.implicitSupervisor()) {
            s.append(" (implicit supervisor)");
        }
        return s.toString();
    }
}
