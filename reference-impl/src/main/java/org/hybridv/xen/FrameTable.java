package org.hybridv.xen;

import java.util.Arrays;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * The frame table (Xen {@code frame_table}, one {@code struct page_info} per machine frame), immutable: a change
 * returns a new table. TYP-1 (a frame is in one type at a time; a page-table frame is never also writable) is a
 * property of the operations in {@link PageTypes}, not of this container.
 */
public final class FrameTable {
    /** The entries are kept in blocks of this many frames; a change copies one block and shares the others. */
    public static final int BLOCK = 16;
    private static final int BLOCK_SHIFT = 4;

    /** Block {@code b} holds the entries of frames {@code b * BLOCK} onwards; blocks are never mutated once shared. */
    private final FrameInfo[][] blocks;
    private final int size;

    private FrameTable(FrameInfo[][] blocks, int size) {
        this.blocks = blocks;
        this.size = size;
    }

    /** A table of {@code frameCount} free frames. */
    public static FrameTable of(int frameCount) {
        Checks.inRange("frameCount", frameCount, 1, org.hybridv.x86.PhysicalMemory.MAX_FRAMES);
        FrameInfo[][] b = new FrameInfo[(frameCount + BLOCK - 1) >>> BLOCK_SHIFT][];
        for (int i = 0; i < b.length; i++) {
            b[i] = new FrameInfo[Math.min(BLOCK, frameCount - (i << BLOCK_SHIFT))];
            Arrays.fill(b[i], FrameInfo.UNUSED);
        }
        return new FrameTable(b, frameCount);
    }

    public int size() {
        return size;
    }

    /** Whether {@code mfn} is a frame of this machine (Xen {@code mfn_valid}). */
    public boolean contains(long mfn) {
        return mfn >= 0 && mfn < size;
    }

    public FrameInfo get(long mfn) {
        check(mfn);
        return blocks[(int) mfn >>> BLOCK_SHIFT][(int) mfn & (BLOCK - 1)];
    }

    public FrameTable with(long mfn, FrameInfo info) {
        check(mfn);
        Checks.notNull("frame info", info);
        int b = (int) mfn >>> BLOCK_SHIFT;
        int i = (int) mfn & (BLOCK - 1);
        if (blocks[b][i].equals(info)) {
            return this;
        }
        FrameInfo[][] t = blocks.clone();
        t[b] = blocks[b].clone();
        t[b][i] = info;
        return new FrameTable(t, size);
    }

    /** The number of blocks of {@link #BLOCK} frames (the last may be shorter). */
    public int blockCount() {
        return blocks.length;
    }

    /**
     * An opaque token of the entries of block {@code b} (frames {@code b * BLOCK} up to {@code BLOCK} onwards): the
     * same object for as long as none of them changes (a table derived from this one by changes elsewhere shares
     * it). Blocks are never mutated, so a token stands for fixed entries: it lets a caller memoise what it computes
     * from a block (the explorer's fingerprints) by identity. Two tokens that differ may still stand for equal
     * entries.
     */
    public Object blockToken(int b) {
        Checks.inRange("block", b, 0, blocks.length - 1);
        return blocks[b];
    }

    private void check(long mfn) {
        if (!contains(mfn)) {
            throw new IllegalArgumentException("mfn = " + Hex.of(mfn) + " is outside the frame table (0.."
                    + Hex.of(size - 1L) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof FrameTable t) || t.size != size) {
            return false;
        }
        for (int b = 0; b < blocks.length; b++) {
            if (t.blocks[b] != blocks[b] && !Arrays.equals(t.blocks[b], blocks[b])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        // as Arrays.hashCode of the entries in frame order
        int h = 1;
        for (FrameInfo[] block : blocks) {
            for (FrameInfo i : block) {
                h = 31 * h + i.hashCode();
            }
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("FrameTable[");
        boolean first = true;
        for (int mfn = 0; mfn < size; mfn++) {
            FrameInfo i = get(mfn);
            if (!i.equals(FrameInfo.UNUSED)) {
                s.append(first ? "" : ", ").append(Hex.of(mfn)).append('=').append(i);
                first = false;
            }
        }
        return s.append(']').toString();
    }
}
