package org.hybridv.x86;

import java.util.Arrays;

/**
 * Physical memory: {@code frameCount} frames of 4 KiB, each 512 64-bit words. Paging structures are just memory
 * (Intel SDM Vol. 3A §4.5: each paging structure is 4096 bytes holding 512 64-bit entries).
 *
 * <p>Immutable: a write returns a new memory that shares every untouched frame with this one (copy-on-write per
 * frame, frames grouped in chunks of 64 so that a write copies at most one chunk index and one frame). A frame
 * never written reads as zeroes.
 *
 * <p>Physical addresses at or beyond {@code frameCount * 4096} are <em>unbacked</em>: a paging structure may point
 * there (its address field may hold any value below 2<sup>MAXPHYADDR</sup>). Like a PC chipset that answers an
 * access nobody claims with a master abort, unbacked memory reads as all ones ({@link #UNBACKED_READ}) and drops
 * writes. This is platform behaviour, not SDM behaviour; the reference states it so that every walk has a defined
 * outcome. The frame- and index-based API, by contrast, rejects frames outside memory as API misuse.
 *
 * <p>Each written frame also keeps a bitmap of its non-zero words, maintained by every write (one 64-byte copy), so
 * that enumerating the entries of a paging structure ({@link #nextNonZero}) costs the number of non-zero entries, not
 * 512 reads: an entry whose word is zero is not present in any format (IA-32e or EPT). The invariants enumerate every
 * reachable table after every step; this is what makes that affordable.
 */
public final class PhysicalMemory {
    /** Words per frame: 4096 bytes / 8 bytes (SDM 4.5: 512 entries per paging structure). */
    public static final int WORDS_PER_FRAME = 512;
    /** Bytes per frame. */
    public static final int FRAME_SIZE = 4096;
    /** What a read of unbacked physical memory returns (all ones, as a master-aborted read on a PC). */
    public static final long UNBACKED_READ = -1L;
    /** The largest memory this reference models: 2<sup>20</sup> frames (4 GiB). */
    public static final int MAX_FRAMES = 1 << 20;

    private static final int CHUNK_SHIFT = 6;
    private static final int CHUNK = 1 << CHUNK_SHIFT;

    private final int frameCount;
    /**
     * One written frame: its words and the bitmap of the non-zero ones (bit i of nonZero[i / 64] is set iff words[i]
     * != 0). Never mutated once it is part of a memory.
     */
    private static final class Frame {
        final long[] words;
        final long[] nonZero;

        Frame(long[] words, long[] nonZero) {
            this.words = words;
            this.nonZero = nonZero;
        }
    }

    /** chunks[c][f] is frame (c*64 + f), or null when that frame was never written (all zeroes). */
    private final Frame[][] chunks;

    private PhysicalMemory(int frameCount, Frame[][] chunks) {
        this.frameCount = frameCount;
        this.chunks = chunks;
    }

    /** A memory of {@code frameCount} zero-filled frames; 1 ≤ frameCount ≤ {@link #MAX_FRAMES}. */
    public static PhysicalMemory ofFrames(int frameCount) {
        Checks.inRange("frameCount", frameCount, 1, MAX_FRAMES);
        return new PhysicalMemory(frameCount, new Frame[(frameCount + CHUNK - 1) >>> CHUNK_SHIFT][]);
    }

    public int frameCount() {
        return frameCount;
    }

    /** Size of backed memory in bytes. */
    public long size() {
        return (long) frameCount * FRAME_SIZE;
    }

    /** Whether physical address {@code address} lies in backed memory. */
    public boolean isBacked(long address) {
        return address >= 0 && address < size();
    }

    /** Word {@code index} (0..511) of frame {@code frame} (0..frameCount-1). */
    public long read(long frame, int index) {
        checkFrame(frame);
        Checks.inRange("index", index, 0, WORDS_PER_FRAME - 1);
        long[] words = frameWords((int) frame);
        return words == null ? 0L : words[index];
    }

    /** This memory with word {@code index} of frame {@code frame} set to {@code value}. */
    public PhysicalMemory write(long frame, int index, long value) {
        checkFrame(frame);
        Checks.inRange("index", index, 0, WORDS_PER_FRAME - 1);
        return store((int) frame, index, value);
    }

    /**
     * The 64-bit word at physical address {@code address} (8-byte aligned). Unbacked addresses read as
     * {@link #UNBACKED_READ}.
     */
    public long readPhysical(long address) {
        Checks.aligned("physical address", address, 8);
        if (!isBacked(address)) {
            return UNBACKED_READ;
        }
        long[] words = frameWords((int) (address >>> 12));
        return words == null ? 0L : words[(int) ((address & 0xFFF) >>> 3)];
    }

    /** This memory with the word at {@code address} (8-byte aligned) set; a write to unbacked memory is dropped. */
    public PhysicalMemory writePhysical(long address, long value) {
        Checks.aligned("physical address", address, 8);
        if (!isBacked(address)) {
            return this;
        }
        return store((int) (address >>> 12), (int) ((address & 0xFFF) >>> 3), value);
    }

    /** A copy of the 512 words of {@code frame}. */
    public long[] frame(long frame) {
        checkFrame(frame);
        long[] words = frameWords((int) frame);
        return words == null ? new long[WORDS_PER_FRAME] : words.clone();
    }

    /**
     * The index of the first non-zero word of {@code frame} at or after {@code from} (0..512), or
     * {@link #WORDS_PER_FRAME} if there is none. Enumerates the possibly present entries of a paging structure:
     * {@code for (int i = m.nextNonZero(f, 0); i < WORDS_PER_FRAME; i = m.nextNonZero(f, i + 1))} visits exactly the
     * indices whose word is non-zero, in increasing order.
     */
    public int nextNonZero(long frame, int from) {
        checkFrame(frame);
        Checks.inRange("from", from, 0, WORDS_PER_FRAME);
        Frame f = frameOf((int) frame);
        if (f == null) {
            return WORDS_PER_FRAME;
        }
        for (int w = from >>> 6; w < f.nonZero.length; w++) {
            long bits = f.nonZero[w];
            if (w == from >>> 6) {
                bits &= -1L << (from & 63);
            }
            if (bits != 0) {
                return (w << 6) + Long.numberOfTrailingZeros(bits);
            }
        }
        return WORDS_PER_FRAME;
    }

    /**
     * An opaque token of the contents of {@code frame}: the same object for as long as the frame is not written (a
     * memory derived from this one by writes elsewhere shares it), {@code null} for a frame never written. Frames
     * are never mutated, so a token stands for fixed contents: it lets a caller memoise what it computes from a frame
     * (the explorer's fingerprints) by identity. Two tokens that differ may still stand for equal contents.
     */
    public Object contentToken(long frame) {
        checkFrame(frame);
        return frameOf((int) frame);
    }

    private Frame frameOf(int frame) {
        Frame[] chunk = chunks[frame >>> CHUNK_SHIFT];
        return chunk == null ? null : chunk[frame & (CHUNK - 1)];
    }

    private long[] frameWords(int frame) {
        Frame f = frameOf(frame);
        return f == null ? null : f.words;
    }

    private PhysicalMemory store(int frame, int index, long value) {
        Frame old = frameOf(frame);
        if ((old == null ? 0L : old.words[index]) == value) {
            return this;
        }
        Frame[][] newChunks = chunks.clone();
        int c = frame >>> CHUNK_SHIFT;
        Frame[] chunk = newChunks[c] == null ? new Frame[CHUNK] : newChunks[c].clone();
        long[] words = old == null ? new long[WORDS_PER_FRAME] : old.words.clone();
        long[] nonZero = old == null ? new long[WORDS_PER_FRAME >>> 6] : old.nonZero.clone();
        words[index] = value;
        if (value != 0) {
            nonZero[index >>> 6] |= 1L << (index & 63);
        } else {
            nonZero[index >>> 6] &= ~(1L << (index & 63));
        }
        chunk[frame & (CHUNK - 1)] = new Frame(words, nonZero);
        newChunks[c] = chunk;
        return new PhysicalMemory(frameCount, newChunks);
    }

    private void checkFrame(long frame) {
        if (frame < 0 || frame >= frameCount) {
            throw new IllegalArgumentException("frame = " + frame + " is outside memory (0.." + (frameCount - 1)
                    + ")");
        }
    }

    private static boolean isZero(long[] words) {
        if (words == null) {
            return true;
        }
        for (long w : words) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PhysicalMemory other) || other.frameCount != frameCount) {
            return false;
        }
        for (int f = 0; f < frameCount; f++) {
            long[] a = frameWords(f);
            long[] b = other.frameWords(f);
            if (a == b) {
                continue;
            }
            if (a == null ? !isZero(b) : b == null ? !isZero(a) : !Arrays.equals(a, b)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = frameCount;
        for (int f = 0; f < frameCount; f++) {
            long[] words = frameWords(f);
            if (!isZero(words)) {
                h = 31 * h + f;
                h = 31 * h + Arrays.hashCode(words);
            }
        }
        return h;
    }

    @Override
    public String toString() {
        int written = 0;
        for (int f = 0; f < frameCount; f++) {
            if (!isZero(frameWords(f))) {
                written++;
            }
        }
        return "PhysicalMemory[" + frameCount + " frames, " + written + " non-zero]";
    }
}
