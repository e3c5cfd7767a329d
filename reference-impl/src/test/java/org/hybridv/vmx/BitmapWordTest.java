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
}
