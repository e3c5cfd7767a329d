package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Entry;
import org.hybridv.x86.TlbPolicy;

/** Generates {@link TlbCase}s: a paging case with the given TLB policy and one to three entry rewrites. */
public final class TlbCases {
    /** The bits a rewrite flips: present, R/W, U/S, XD, G, PS, D, or an address bit (a different frame). */
    private static final long[] FLIPPABLE = {
        1L << Entry.P, 1L << Entry.RW, 1L << Entry.US, 1L << Entry.XD, 1L << Entry.G, 1L << Entry.PS,
        1L << Entry.D, 1L << 12, 1L << 13, 1L << 14
    };

    private TlbCases() {}

    public static TlbCase generate(Choices c, TlbPolicy policy) {
        PagingCase paging = PagingCases.generate(c, policy);
        int n = 1 + c.below(3);
        List<Rewrite> rewrites = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            rewrites.add(new Rewrite(3 - c.below(4), FLIPPABLE[c.below(FLIPPABLE.length)]));
        }
        return new TlbCase(paging, rewrites);
    }
}
