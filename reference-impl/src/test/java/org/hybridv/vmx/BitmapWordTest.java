package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link Bitmap#word}: bit i of word w is bit 64 w + i; bits past the size read as 0. */
class BitmapWordTest {
    @Test
    void wordsHoldTheBitsInOrder() {
        Bitmap b = Bitmap.clear(130).with(0, true).with(65, true).with(129, true);
        assertThat(b.wordCount()).isEqualTo(3);
        assertThat(b.word(0)).isEqualTo(1L);
        assertThat(b.word(1)).isEqualTo(2L);
        assertThat(b.word(2)).isEqualTo(2L);
        Bitmap all = Bitmap.allSet(70);
        assertThat(all.word(0)).isEqualTo(-1L);
        assertThat(all.word(1)).isEqualTo(0x3FL);
        assertThatThrownBy(() -> b.word(3)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Regression: {@link Bitmap#allSet} of a size that is not a multiple of 64 kept ones in the storage past the size,
     * so it was not equal to (nor hashed like) the same bits set one by one, though every bit and word read the same.
     */
    @Test
    void anAllSetBitmapEqualsTheSameBitsSetOneByOne() {
        for (int size : new int[] {1, 63, 65, 70, 64, 128}) {
            Bitmap oneByOne = Bitmap.clear(size);
            for (int i = 0; i < size; i++) {
                oneByOne = oneByOne.with(i, true);
            }
            assertThat(Bitmap.allSet(size)).as("%d bits", size).isEqualTo(oneByOne);
            assertThat(Bitmap.allSet(size).hashCode()).as("%d bits", size).isEqualTo(oneByOne.hashCode());
        }
        assertThat(Bitmap.allSet(65).with(64, false)).isEqualTo(Bitmap.allSet(64 + 1).with(64, false));
        assertThat(Bitmap.allSet(65).with(64, false)).isNotEqualTo(Bitmap.allSet(65));
    }
}
