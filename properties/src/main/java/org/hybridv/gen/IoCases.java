package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.GuestInstruction;

/**
 * Generates {@link IoCase}s: ports near the bitmap boundaries (0000H, 7FFFH/8000H, FFFFH) and ordinary ones, sizes 1,
 * 2 and 4, and bitmap bits set on, next to, or away from the ports the access touches, so that exits by bitmap A, by
 * bitmap B, by wrap-around, by unconditional exiting, and non-exits all occur.
 *
 * <p>Choice 0 everywhere gives a 1-byte OUT to port 0 with both controls 0 and no bit set.
 */
public final class IoCases {
    private IoCases() {}

    public static IoCase generate(Choices c) {
        boolean useBitmaps = c.flag(true, 25);
        boolean unconditional = c.flag(false, 40);
        int port = switch (c.weighted(30, 30, 40)) {
            case 0 -> c.oneOf(0, 0x7FFE, 0x7FFF, 0x8000, 0xFFFC, 0xFFFD, 0xFFFE, 0xFFFF, 0x7FFD, 0x8001);
            case 1 -> c.oneOf(0x3F8, 0x60, 0x64, 0xCF8, 0xCFC, 0x80);
            default -> c.below(0x10000);
        };
        int size = c.oneOf(1, 2, 4);
        List<Integer> set = new ArrayList<>();
        int near = c.below(4);
        for (int i = 0; i < near; i++) {
            set.add((port + c.below(8) - 3) & 0xFFFF);
        }
        int far = c.below(3);
        for (int i = 0; i < far; i++) {
            set.add(c.below(0x10000));
        }
        if (c.flag(false, 15)) {
            set.add(c.oneOf(0, 0xFFFF, 0x7FFF, 0x8000));
        }
        GuestInstruction.Io io = new GuestInstruction.Io(port, size, c.flag(false, 50), c.flag(false, 20),
                c.flag(false, 20), c.flag(false, 30), c.bits64());
        return new IoCase(useBitmaps, unconditional, set, io);
    }
}
