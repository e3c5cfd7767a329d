package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.Choices;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.vmx.Bitmap;
import org.hybridv.vmx.IoBitmaps;
import org.hybridv.vmx.MsrBitmap;

/**
 * The bit arrays behind the VMCS I/O bitmaps and MSR bitmap (Intel SDM Vol. 3C §24.6.4, §24.6.9): each is a region of
 * a 4-KByte page with one bit per port or MSR — "bit n" of the region is bit n mod 8 of its byte n / 8, so, read as
 * little-endian quadwords, bit i of quadword w is bit 64 w + i. After any sequence of bit writes from an all-clear or
 * all-set array, each bit reads as last written, the quadwords hold exactly those bits (none past the array's size),
 * two arrays with the same bits are equal with the same hash and differ when one bit differs, and an index outside
 * the array is refused (API misuse).
 */
class BitmapProperties {
    /** A bitmap size and the writes made to it, from all clear or all set. */
    record Writes(int size, boolean allSet, List<int[]> writes) {
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("Writes[size=" + size + ", from " + (allSet ? "all set" : "clear"));
            for (int[] w : writes) {
                s.append(", ").append(w[0]).append('=').append(w[1]);
            }
            return s.append(']').toString();
        }
    }

    /** The sizes: I/O bitmap A or B (32768 bits), an MSR region (8192 bits), and sizes around a quadword. */
    static Writes generate(Choices c) {
        int size = switch (c.weighted(3, 3, 1, 1, 1, 1, 1)) {
            case 0 -> IoBitmaps.PORTS_PER_BITMAP;
            case 1 -> MsrBitmap.MSRS_PER_REGION;
            case 2 -> 1;
            case 3 -> 63;
            case 4 -> 64;
            case 5 -> 65;
            default -> 1 + c.below(300);
        };
        boolean allSet = c.flag(false, 30);
        List<int[]> writes = new ArrayList<>();
        int n = c.below(24);
        for (int i = 0; i < n; i++) {
            int bit = switch (c.weighted(2, 2, 2, 2, 4)) {
                case 0 -> 0;
                case 1 -> Math.min(63, size - 1);
                case 2 -> Math.min(64, size - 1);
                case 3 -> size - 1;
                default -> c.below(size);
            };
            writes.add(new int[] {bit, c.flag(!allSet, 30) ? 1 : 0});
        }
        return new Writes(size, allSet, writes);
    }

    @Provide
    Arbitrary<Writes> writes() {
        return JqwikChoices.arbitrary(BitmapProperties::generate);
    }

    @Property(seed = Budget.SEED, tries = 200)
    void aBitmapHoldsEachBitAsLastWrittenInTheSdmsLayout(@ForAll("writes") Writes k) {
        int size = k.size();
        boolean[] model = new boolean[size];
        java.util.Arrays.fill(model, k.allSet());
        Bitmap b = k.allSet() ? Bitmap.allSet(size) : Bitmap.clear(size);
        for (int[] w : k.writes()) {
            model[w[0]] = w[1] == 1;
            b = b.with(w[0], w[1] == 1);
        }
        Statistics.label("size").collect(size == 0x8000 ? "I/O bitmap" : size == 0x2000 ? "MSR region"
                : size % 64 == 0 ? "whole quadwords" : "a partial quadword");
        Statistics.label("size").coverage(cov -> {
            cov.check("I/O bitmap").count(n -> n >= 20);
            cov.check("MSR region").count(n -> n >= 20);
            cov.check("a partial quadword").count(n -> n >= 20);
        });
        assertThat(b.size()).isEqualTo(size);
        int set = 0;
        for (int i = 0; i < size; i++) {
            if (b.get(i) != model[i]) {
                assertThat(b.get(i)).as("bit %d of %s", i, k).isEqualTo(model[i]);
            }
            set += model[i] ? 1 : 0;
        }
        assertThat(b.wordCount()).as("quadwords of %d bits", size).isEqualTo((size + 63) / 64);
        for (int w = 0; w < (size + 63) / 64; w++) {
            long expected = 0;
            for (int i = 0; i < 64 && 64 * w + i < size; i++) {
                expected |= model[64 * w + i] ? 1L << i : 0;
            }
            if (b.word(w) != expected) {
                assertThat(b.word(w)).as("quadword %d of %s", w, k).isEqualTo(expected);
            }
        }
        // the same bits written in another order make an equal bitmap: into a clear array, one by one (a small
        // array, so from the other start when it began all set), or, for a large one, from the same start downwards
        boolean fromClear = size <= 512;
        Bitmap same = fromClear || !k.allSet() ? Bitmap.clear(size) : Bitmap.allSet(size);
        for (int i = size - 1; i >= 0; i--) {
            same = model[i] != (!fromClear && k.allSet()) ? same.with(i, model[i]) : same;
        }
        assertThat(b).as("%s against the same bits written one by one", k).isEqualTo(same);
        assertThat(b.hashCode()).as("hash of %s", k).isEqualTo(same.hashCode());
        assertThat(b.toString()).isEqualTo("Bitmap[" + set + "/" + size + " set]");
        int flip = k.writes().isEmpty() ? size - 1 : k.writes().get(0)[0];
        Bitmap other = b.with(flip, !model[flip]);
        assertThat(other).as("%s with bit %d flipped", k, flip).isNotEqualTo(b);
        assertThat(b.with(flip, model[flip])).as("writing bit %d's own value", flip).isEqualTo(b);
        assertThat(Bitmap.clear(size + 1)).isNotEqualTo(Bitmap.clear(size));
        final Bitmap f = b;
        assertThatThrownBy(() -> f.get(size)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> f.get(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> f.with(size, true)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> f.word((size + 63) / 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> f.word(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Bitmap.clear(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
