package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;

/**
 * Generates {@link MsrCase}s: ECX in the low range, in the high range, on the edges of both ranges, in Xen's
 * 40000000H range or anywhere; bits set at the MSR's own offset in its own region, in the wrong region (read vs
 * write, low vs high) or elsewhere, so that a decoder that confuses regions is caught.
 *
 * <p>Choice 0 everywhere gives RDMSR of MSR 0 without MSR bitmaps.
 */
public final class MsrCases {
    private MsrCases() {}

    public static MsrCase generate(Choices c) {
        boolean use = c.flag(true, 15);
        long msr = switch (c.weighted(35, 35, 20, 10)) {
            case 0 -> c.below(0x2000);
            case 1 -> 0xC000_0000L + c.below(0x2000);
            case 2 -> c.oneOf(0x1FFFL, 0x2000L, 0xBFFF_FFFFL, 0xC000_0000L, 0xC000_1FFFL, 0xC000_2000L, 0x4000_0000L,
                    0xC000_0080L, 0xFFFF_FFFFL, 0x8000_0000L);
            default -> (c.bits64() & 0xFFFF_FFFFL);
        };
        boolean write = c.flag(false, 50);
        int offset = (int) (msr & 0x1FFF);
        List<List<Integer>> regions = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            regions.add(new ArrayList<>());
        }
        // regions: 0 read low, 1 read high, 2 write low, 3 write high
        if (c.flag(false, 50)) {
            boolean high = msr >= 0xC000_0000L;
            regions.get((write ? 2 : 0) + (high ? 1 : 0)).add(offset);
        }
        int others = c.below(4);
        for (int i = 0; i < others; i++) {
            int region = c.below(4);
            int o = c.flag(true, 50) ? offset : c.below(0x2000);
            regions.get(region).add(o);
        }
        return new MsrCase(use, regions.get(0), regions.get(1), regions.get(2), regions.get(3), msr, write);
    }
}
