package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.ept.EptFixture.*;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every value of bits 2:0 in each of the four EPT entries of the fixture's walk (8<sup>4</sup> = 4096 walks), for
 * each access and with and without execute-only support, against an independent formulation of Intel SDM Vol. 3C
 * §28.2.3.1–28.2.3.3 and table 27-7 written here from the text (not from the code under test).
 */
class EptExhaustiveTest {
    private static final long[] BASES = {0x2000, 0x3000, 0x4000, 0xABCDE030L}; // PTE with WB in bits 5:3

    /** SDM 28.2.3.1, first two bullets: 010b, 110b; 100b without execute-only support. */
    private static boolean misconfigured(int rwx, boolean xo) {
        return rwx == 0b010 || rwx == 0b110 || (rwx == 0b100 && !xo);
    }

    private static PhysicalMemory memoryOf(int[] rwx) {
        return memory(BASES[0] | rwx[0], BASES[1] | rwx[1], BASES[2] | rwx[2], BASES[3] | rwx[3]);
    }

    /**
     * The expected outcome, as a string: "translated", "misconfiguration@i", or "violation@i:qualification". SDM
     * 28.2.3.3: walk entry by entry, stop at the first not-present (violation) or misconfigured entry; at the leaf
     * evaluate the AND of the privileges. Table 27-7: bits 2:0 the access, 5:3 the AND over the entries used
     * (including a not-present one), bits 8:7 = 11b for the fixture's translated linear access.
     */
    private static String expected(int[] rwx, AccessKind access, boolean xo) {
        int and = 0b111;
        for (int i = 0; i < 4; i++) {
            and &= rwx[i];
            if (rwx[i] == 0) {
                return "violation@" + i + ":" + Long.toHexString(accessBit(access) | 0x180);
            }
            if (misconfigured(rwx[i], xo)) {
                return "misconfiguration@" + i;
            }
        }
        int needed = access == AccessKind.READ ? 0b001 : access == AccessKind.WRITE ? 0b010 : 0b100;
        if ((and & needed) == 0) {
            return "violation@3:" + Long.toHexString(accessBit(access) | ((long) and << 3) | 0x180);
        }
        return "translated";
    }

    private static long accessBit(AccessKind access) {
        return access == AccessKind.READ ? 0x1 : access == AccessKind.WRITE ? 0x2 : 0x4;
    }

    private static String actual(EptTranslation t) {
        if (t instanceof EptTranslated) {
            return "translated";
        }
        if (t instanceof EptMisconfiguration c) {
            return "misconfiguration@" + c.entry().level().ordinal();
        }
        EptViolation v = (EptViolation) t;
        return "violation@" + v.lastEntry().level().ordinal() + ":" + Long.toHexString(v.qualification().bits());
    }

    @Test
    @DisplayName("SDM 28.2.3.1-28.2.3.3, table 27-7: all 4096 combinations of bits 2:0 × access × execute-only")
    void everyPermissionCombination() {
        int checked = 0;
        for (int c = 0; c < 4096; c++) {
            int[] rwx = {c & 7, (c >> 3) & 7, (c >> 6) & 7, (c >> 9) & 7};
            PhysicalMemory m = memoryOf(rwx);
            for (boolean xo : new boolean[] {false, true}) {
                EptSupport s = new EptSupport(N, xo, true);
                for (AccessKind access : AccessKind.values()) {
                    assertThat(actual(translate(m, s, access)))
                            .as("bits 2:0 = %s, %s, execute-only %s", java.util.Arrays.toString(rwx), access, xo)
                            .isEqualTo(expected(rwx, access, xo));
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(4096 * 2 * 3);
    }

    @Test
    @DisplayName("Removing a permission from any entry never turns an EPT violation into a success")
    void removingPermissionNeverHelps() {
        for (int c = 0; c < 4096; c++) {
            int[] rwx = {c & 7, (c >> 3) & 7, (c >> 6) & 7, (c >> 9) & 7};
            PhysicalMemory m = memoryOf(rwx);
            for (AccessKind access : AccessKind.values()) {
                if (!(translate(m, SUPPORT_XO, access) instanceof EptViolation)) {
                    continue;
                }
                for (int level = 0; level < 4; level++) {
                    for (int bit = 0; bit < 3; bit++) {
                        int[] fewer = rwx.clone();
                        fewer[level] &= ~(1 << bit);
                        assertThat(translate(memoryOf(fewer), SUPPORT_XO, access).isSuccess()).isFalse();
                    }
                }
            }
        }
    }
}
