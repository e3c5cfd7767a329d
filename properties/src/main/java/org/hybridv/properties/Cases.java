package org.hybridv.properties;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;
import org.hybridv.gen.PagingCase;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.Walk;
import org.hybridv.x86.X86Machine;

/** Small helpers the layer properties share. */
final class Cases {
    private Cases() {}

    static Translation translate(X86Machine m, org.hybridv.x86.Access a) {
        return PageWalk.translate(m.memory(), m.cpu(), a);
    }

    static Translation translate(PagingCase c) {
        return translate(c.machine(), c.access());
    }

    /** The entries the walk for the case reads; empty when paging is off or the address is not canonical. */
    static List<VisitedEntry> visited(PagingCase c) {
        if (!(translate(c) instanceof Translated) && !(translate(c) instanceof org.hybridv.x86.PageFault)) {
            return List.of();
        }
        Walk w = PageWalk.walk(c.machine().memory(), c.machine().cpu(), c.access().linear());
        return w.path();
    }

    /** The memory with the entry at {@code v} rewritten by {@code f}. */
    static PhysicalMemory rewrite(PhysicalMemory m, VisitedEntry v, LongUnaryOperator f) {
        return m.writePhysical(v.address(), f.applyAsLong(m.readPhysical(v.address())));
    }

    /** The same memory built afresh, word by word: equal content, no shared structure. */
    static PhysicalMemory copyOf(PhysicalMemory m) {
        PhysicalMemory copy = PhysicalMemory.ofFrames(m.frameCount());
        for (int f = 0; f < m.frameCount(); f++) {
            long[] words = m.frame(f);
            for (int i = 0; i < words.length; i++) {
                copy = copy.write(f, i, words[i]);
            }
        }
        return copy;
    }

    /**
     * Whether an access outcome says the same as a translation: same physical address for a completed access, the
     * same fault otherwise.
     */
    static boolean agree(AccessOutcome access, Translation translation) {
        if (access instanceof AccessOutcome.Completed done) {
            return translation instanceof Translated t && t.physicalAddress() == done.physicalAddress();
        }
        return access.equals(translation);
    }

    static List<Long> entryAddresses(List<VisitedEntry> path) {
        List<Long> out = new ArrayList<>();
        for (VisitedEntry v : path) {
            out.add(v.address());
        }
        return out;
    }

    /**
     * Every word of {@code got} is the word of {@code want} (each frame compared word by word, so that a failure names
     * the first word that differs as "{@code what}: word i of frame f"); frames with the same content token hold the
     * same fixed contents and are skipped.
     */
    static void assertSameWords(PhysicalMemory want, PhysicalMemory got, String what) {
        for (int f = 0; f < want.frameCount(); f++) {
            if (want.contentToken(f) == got.contentToken(f)) {
                continue;
            }
            long[] a = want.frame(f);
            long[] b = got.frame(f);
            if (java.util.Arrays.equals(a, b)) {
                continue;
            }
            for (int i = 0; i < a.length; i++) {
                org.assertj.core.api.Assertions.assertThat(b[i]).as("%s: word %d of frame %#x", what, i, f)
                        .isEqualTo(a[i]);
            }
        }
    }
}
