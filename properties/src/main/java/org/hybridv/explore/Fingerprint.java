package org.hybridv.explore;

/**
 * A streaming 64-bit hash of a canonical encoding: words go in one at a time, in the encoder's fixed order, and
 * {@link #value()} gives the fingerprint. The round and the final avalanche follow the structure of xxHash64 (a
 * multiply-rotate-multiply round per word, then an xor-shift-multiply avalanche), written here from that published
 * design; the word count is mixed in at the end so that encodings of different lengths differ.
 *
 * <p>Not thread-safe: one per encoding. {@link #value()} never returns 0 (the empty slot of {@link FingerprintSet}).
 */
public final class Fingerprint {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private long h = P5 ^ 0x6879627269647621L;
    private long words;

    /** Adds one 64-bit word. */
    public Fingerprint add(long x) {
        long k = Long.rotateLeft(x * P2, 31) * P1;
        h ^= k;
        h = Long.rotateLeft(h, 27) * P1 + P4;
        words++;
        return this;
    }

    public Fingerprint add(int x) {
        return add((long) x);
    }

    public Fingerprint add(boolean b) {
        return add(b ? 1L : 0L);
    }

    /** Adds a string: its length, then its characters (UTF-16 units), four to a word. */
    public Fingerprint add(String s) {
        add(s.length());
        long w = 0;
        int i = 0;
        for (; i < s.length(); i++) {
            w = (w << 16) | s.charAt(i);
            if ((i & 3) == 3) {
                add(w);
                w = 0;
            }
        }
        if ((i & 3) != 0) {
            add(w);
        }
        return this;
    }

    /** The fingerprint of everything added so far (never 0). */
    public long value() {
        return finish(h ^ words);
    }

    /** The avalanche of a 64-bit value (never 0). */
    public static long finish(long x) {
        x ^= x >>> 33;
        x *= P2;
        x ^= x >>> 29;
        x *= P3;
        x ^= x >>> 32;
        return x == 0 ? P1 : x;
    }

    /** The fingerprint of a string alone (enum constants and record classes are tagged with it). */
    public static long of(String s) {
        return new Fingerprint().add(s).value();
    }
}
