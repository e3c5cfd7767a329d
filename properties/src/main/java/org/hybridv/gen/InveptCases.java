package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.InveptType;

/**
 * Generates {@link InveptCase}s: an {@link EptCases} case with a permissive guest (so that accesses complete and fill
 * combined mappings often), one to three EPT rewrites — mostly of the EPT PTE that maps the accessed page, flipping
 * R, W, X, an address bit (a remap) or a memory-type bit — and an INVEPT type.
 *
 * <p>Choice 0 everywhere gives VPID 1, one rewrite clearing R in the data page's EPT PTE, and single-context INVEPT.
 */
public final class InveptCases {
    private static final long[] FLIPPABLE = {
        1L << EptEntry.R, 1L << EptEntry.W, 1L << EptEntry.X, 1L << 12, 1L << 13, 1L << 14, 1L << 3
    };

    private InveptCases() {}

    public static InveptCase generate(Choices c) {
        EptCase ept = EptCases.generate(c, c.flag(true, 25));
        int vpid = VpidCases.vpid(c);
        int n = 1 + c.below(3);
        List<EptRewrite> rewrites = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long address = ept.dataEptEntry() >= 0 && c.flag(true, 40) ? ept.dataEptEntry()
                    : ept.eptEntries().get(c.below(ept.eptEntries().size()));
            rewrites.add(new EptRewrite(address, FLIPPABLE[c.below(FLIPPABLE.length)]));
        }
        InveptType type = c.oneOf(InveptType.SINGLE_CONTEXT, InveptType.ALL_CONTEXT);
        return new InveptCase(ept, vpid, rewrites, type);
    }
}
