package org.hybridv.explore;

import java.util.Arrays;
import java.util.List;

/**
 * The symmetry reduction: machine frames declared interchangeable in a configuration. A state is kept as the
 * smallest fingerprint of its orbit — the fingerprints of the state relabelled by every permutation of the declared
 * frames ({@link Relabel}, the identity included) — so states that differ only by which of the frames plays which
 * part are explored once.
 *
 * <p>Sound when the permutations are symmetries of the transition system: the initial state is unchanged by each
 * (checked when the system is built: its relabelled fingerprint equals its own), the alphabet is closed under each
 * (checked: the image of every action is an action; see {@link HypervisorSystem}), and the reference treats the
 * frames alike — relabelling a state and then stepping with the image of an action gives the relabelled successor.
 * The last is a property of the reference and of {@link Relabel}'s list of where frames are referred to; the test
 * suite checks it on every reachable state and action of the shipped symmetric configuration. The invariants (I1,
 * I2, I6, I7) name frames only through ownership, types and counts, which a permutation of frames of one owner
 * preserves. The explorer stores each state as found (a real state on a real path), so counterexamples replay as
 * they are.
 */
public final class Symmetry {
    /** The most frames a declaration may list (4! = 24 fingerprints per state). */
    public static final int MAX_FRAMES = 4;

    private final long[] frames;
    private final List<Relabel> permutations;

    public Symmetry(long[] frames) {
        if (frames.length < 2 || frames.length > MAX_FRAMES) {
            throw new IllegalArgumentException("symmetry: 2 to " + MAX_FRAMES + " frames, not " + frames.length);
        }
        this.frames = frames.clone();
        this.permutations = Relabel.permutations(frames);
    }

    /** The declared frames. */
    public long[] frames() {
        return frames.clone();
    }

    /** Every permutation of the frames except the identity. */
    public List<Relabel> permutations() {
        return permutations;
    }

    /** The representative fingerprint of {@code state}'s orbit: the smallest of its relabelled fingerprints. */
    public long canonical(Object state) {
        long min = CanonicalEncoder.fingerprint(state);
        for (Relabel r : permutations) {
            min = Math.min(min, CanonicalEncoder.fingerprint(state, r));
        }
        return min;
    }

    @Override
    public String toString() {
        return Arrays.stream(frames).mapToObj(org.hybridv.x86.Hex::of).toList().toString();
    }
}
