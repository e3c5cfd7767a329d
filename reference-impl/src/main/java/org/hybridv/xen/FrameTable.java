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
    private final FrameInfo[] frames;

    private FrameTable(FrameInfo[] frames) {
        this.frames = frames;
    }

    /** A table of {@code frameCount} free frames. */
    public static FrameTable of(int frameCount) {
        Checks.inRange("frameCount", frameCount, 1, org.hybridv.x86.PhysicalMemory.MAX_FRAMES);
        FrameInfo[] f = new FrameInfo[frameCount];
        Arrays.fill(f, FrameInfo.UNUSED);
        return new FrameTable(f);
    }

    public int size() {
        return frames.length;
    }

    /** Whether {@code mfn} is a frame of this machine (Xen {@code mfn_valid}). */
    public boolean contains(long mfn) {
        return mfn >= 0 && mfn < frames.length;
    }

    public FrameInfo get(long mfn) {
        check(mfn);
        return frames[(int) mfn];
    }

    public FrameTable with(long mfn, FrameInfo info) {
        check(mfn);
        Checks.notNull("frame info", info);
        if (frames[(int) mfn].equals(info)) {
            return this;
        }
        FrameInfo[] f = frames.clone();
        f[(int) mfn] = info;
        return new FrameTable(f);
    }

    private void check(long mfn) {
        if (!contains(mfn)) {
            throw new IllegalArgumentException("mfn = " + Hex.of(mfn) + " is outside the frame table (0.."
                    + Hex.of(frames.length - 1L) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FrameTable t && Arrays.equals(t.frames, frames);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(frames);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("FrameTable[");
        boolean first = true;
        for (int i = 0; i < frames.length; i++) {
            if (!frames[i].equals(FrameInfo.UNUSED)) {
                s.append(first ? "" : ", ").append(Hex.of(i)).append('=').append(frames[i]);
                first = false;
            }
        }
        return s.append(']').toString();
    }
}
