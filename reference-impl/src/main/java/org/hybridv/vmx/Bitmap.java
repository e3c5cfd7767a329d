package org.hybridv.vmx;

import java.util.Arrays;

/** An immutable fixed-size bit array (the VMCS I/O and MSR bitmaps are 4-KByte pages of such bits). */
public final class Bitmap {
    private final int size;
    private final long[] words;

    private Bitmap(int size, long[] words) {
        this.size = size;
        this.words = words;
    }

    /** {@code size} bits, all clear. */
    public static Bitmap clear(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("bitmap size = " + size + " must be positive");
        }
        return new Bitmap(size, new long[(size + 63) >>> 6]);
    }

    /**
     * {@code size} bits, all set. The storage past {@code size} in the last word stays 0, as in every other bitmap,
     * so that two bitmaps holding the same bits are equal whichever way they were built.
     */
    public static Bitmap allSet(int size) {
        Bitmap b = clear(size);
        Arrays.fill(b.words, -1L);
        if ((size & 63) != 0) {
            b.words[b.words.length - 1] = (1L << (size & 63)) - 1;
        }
        return b;
    }

    public int size() {
        return size;
    }

    public boolean get(int bit) {
        check(bit);
        return ((words[bit >>> 6] >>> (bit & 63)) & 1) != 0;
    }

    /** How many 64-bit words {@link #word} has: ⌈size / 64⌉. */
    public int wordCount() {
        return words.length;
    }

    /**
     * Bits {@code 64 * index} to {@code 64 * index + 63} (bit i of the result is bit {@code 64 * index + i}); bits at
     * or past {@link #size()} read as 0.
     */
    public long word(int index) {
        if (index < 0 || index >= words.length) {
            throw new IllegalArgumentException("word = " + index + " is outside the bitmap (0.." + (words.length - 1)
                    + ")");
        }
        int valid = size - 64 * index;
        return valid >= 64 ? words[index] : words[index] & ((1L << valid) - 1);
    }

    /** This bitmap with {@code bit} set to {@code value}. */
    public Bitmap with(int bit, boolean value) {
        check(bit);
        if (get(bit) == value) {
            return this;
        }
        long[] w = words.clone();
        w[bit >>> 6] ^= 1L << (bit & 63);
        return new Bitmap(size, w);
    }

    private void check(int bit) {
        if (bit < 0 || bit >= size) {
            throw new IllegalArgumentException("bit = " + bit + " is outside the bitmap (0.." + (size - 1) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bitmap b && b.size == size && Arrays.equals(b.words, words);
    }

    @Override
    public int hashCode() {
        return 31 * size + Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        int set = 0;
        for (long w : words) {
            set += Long.bitCount(w);
        }
        return "Bitmap[" + set + "/" + size + " set]";
    }
}
