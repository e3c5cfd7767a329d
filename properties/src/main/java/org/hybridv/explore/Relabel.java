package org.hybridv.explore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A permutation of machine frame numbers, applied to a state when it is encoded ({@link CanonicalEncoder}): the
 * frames of a symmetry declaration ({@link Symmetry}) exchange their contents, frame-table entries and every
 * reference to them; every other frame stays. What a reference to a frame is, is fixed here and nowhere else:
 * <ul>
 * <li>a frame number ({@link #frame}): base pointers ({@code guest_table}), p2m keys and values, shadow roots and
 * tables, mmuext and SWITCH_MMU frame arguments;</li>
 * <li>an address or an entry ({@link #address}): bits 12 to 39 (the frame field at the machine's 40-bit physical
 * address width) of every memory word, of CR3, of a TLB entry's physical base and EP4TA, of the EPTP, of the CR3
 * target values and of an exit's guest-physical address; the other bits (flags, offsets, reserved bits) stay.</li>
 * </ul>
 * Linear addresses are never relabelled. {@link #IDENTITY} changes nothing.
 */
public final class Relabel {
    private static final long FRAME_FIELD = ((1L << 28) - 1) << 12;

    /** The permutation that changes nothing. */
    public static final Relabel IDENTITY = new Relabel(new long[0], new long[0]);

    /**
     * The identity too, but another object: the canonical encoder encodes with it by its generic record walk only,
     * and memoises it apart ({@code CanonicalEncoder.fingerprintGeneric}, for tests of the handwritten encoders).
     */
    static final Relabel GENERIC = new Relabel(new long[0], new long[0]);

    private final long[] from;
    private final long[] to;

    private Relabel(long[] from, long[] to) {
        this.from = from;
        this.to = to;
    }

    /** Every permutation of {@code frames} except the identity, in a fixed (lexicographic) order. */
    public static List<Relabel> permutations(long[] frames) {
        List<Relabel> out = new ArrayList<>();
        long[] sorted = frames.clone();
        Arrays.sort(sorted);
        permute(sorted, sorted.clone(), 0, out);
        return List.copyOf(out);
    }

    private static void permute(long[] from, long[] to, int k, List<Relabel> out) {
        if (k == to.length) {
            if (!Arrays.equals(from, to)) {
                out.add(new Relabel(from.clone(), to.clone()));
            }
            return;
        }
        for (int i = k; i < to.length; i++) {
            long[] t = to.clone();
            long x = t[i];
            System.arraycopy(t, k, t, k + 1, i - k);
            t[k] = x;
            permute(from, t, k + 1, out);
        }
    }

    public boolean isIdentity() {
        return from.length == 0;
    }

    /** The image of frame number {@code f}. */
    public long frame(long f) {
        for (int i = 0; i < from.length; i++) {
            if (from[i] == f) {
                return to[i];
            }
        }
        return f;
    }

    /** The frame whose image is {@code f}. */
    public long inverse(long f) {
        for (int i = 0; i < to.length; i++) {
            if (to[i] == f) {
                return from[i];
            }
        }
        return f;
    }

    /** An address or entry with its frame field (bits 12..39) relabelled; the other bits unchanged. */
    public long address(long a) {
        if (from.length == 0) {
            return a;
        }
        long f = (a & FRAME_FIELD) >>> 12;
        long g = frame(f);
        return g == f ? a : (a & ~FRAME_FIELD) | (g << 12);
    }

    /** A map from frames to frames with keys and values relabelled. */
    Map<Long, Long> frameMap(Map<Long, Long> m) {
        Map<Long, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(frame(k), frame(v)));
        return out;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < from.length; i++) {
            if (from[i] != to[i]) {
                b.append(b.length() == 0 ? "" : ", ").append(org.hybridv.x86.Hex.of(from[i])).append(" → ")
                        .append(org.hybridv.x86.Hex.of(to[i]));
            }
        }
        return b.length() == 0 ? "identity" : b.toString();
    }
}
