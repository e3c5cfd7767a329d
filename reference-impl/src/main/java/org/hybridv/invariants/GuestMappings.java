package org.hybridv.invariants;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * The translations a guest can use, enumerated by walking its tables: every present leaf reachable from a 4-level
 * root (direct mode: the guest's own tables, holding machine frames) or from an EPTP (HAP: the EPT). Only present
 * entries are followed, so the cost is the number of present entries in the reachable tables (a few tables on the
 * small machines of the tests and properties). A PS entry at L2/L3 is reported as a leaf of its first frame.
 */
public final class GuestMappings {
    private GuestMappings() {}

    /**
     * A usable translation: {@code address} (linear, or guest-physical for the EPT) → machine {@code frame}, with
     * write permission the AND over the walk, and the path of entries as "L4 0x10[0] → L3 0x11[0] → …".
     */
    public record Mapping(long address, long frame, boolean writable, WalkPath path) {
        @Override
        public String toString() {
            return Hex.of(address) + " → frame " + Hex.of(frame) + (writable ? " writable" : " read-only") + " via "
                    + path;
        }
    }

    /** The leaves of the IA-32e tables rooted at {@code l4} (entries outside memory are skipped). */
    public static List<Mapping> paging(PhysicalMemory m, long l4) {
        List<Mapping> out = new ArrayList<>();
        walk(m, l4, 4, 0, true, null, out, false);
        return out;
    }

    /** The leaves of the EPT rooted at {@code eptp}. */
    public static List<Mapping> ept(PhysicalMemory m, Eptp eptp) {
        List<Mapping> out = new ArrayList<>();
        walk(m, eptp.pml4Address() >>> 12, 4, 0, true, null, out, true);
        return out;
    }

    private static void walk(PhysicalMemory m, long table, int level, long base, boolean writable, WalkPath path,
            List<Mapping> out, boolean ept) {
        if (table < 0 || table >= m.frameCount()) {
            return;
        }
        // only the non-zero words: a zero entry is not present
        for (int i = m.nextNonZero(table, 0); i < PhysicalMemory.WORDS_PER_FRAME;
                i = m.nextNonZero(table, i + 1)) {
            long raw = m.read(table, i);
            boolean present;
            boolean w;
            boolean leaf;
            long frame;
            if (ept) {
                EptEntry e = new EptEntry(raw);
                present = e.present();
                w = e.writable();
                leaf = level == 1 || (level <= 3 && e.largePage());
                frame = e.frame();
            } else {
                Entry e = new Entry(raw);
                present = e.present();
                w = e.writable();
                leaf = level == 1 || (level <= 3 && e.pageSize());
                frame = e.frame();
            }
            if (!present) {
                continue;
            }
            long address = base | ((long) i << (12 + 9 * (level - 1)));
            if (level == 4 && !ept && i >= 256) {
                address |= 0xFFFF_0000_0000_0000L;
            }
            WalkPath here = new WalkPath(path, level, table, i);
            if (leaf) {
                out.add(new Mapping(address, frame, writable && w, here));
            } else {
                walk(m, frame, level - 1, address, writable && w, here, out, ept);
            }
        }
    }
}
