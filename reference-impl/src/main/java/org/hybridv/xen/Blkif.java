package org.hybridv.xen;

import org.hybridv.x86.PhysicalMemory;

/**
 * The block-device protocol of Xen's split driver, as the public headers {@code io/blkif.h} and {@code io/ring.h}
 * define it for x86-64 (rules BLK-1, BLK-2 of docs/rules/xen.md): one shared page holding the ring's producer and
 * event indices and 32 slots, each slot a request (written by the front-end) or, once served, its response (written
 * by the back-end). The model's memory is read in 8-byte words, so every field is given as a word index of the ring
 * frame and its bits; the byte offsets are the C layout's.
 *
 * <pre>
 * word 0   req_prod (bits 31:0, byte 0)   req_event (bits 63:32, byte 4)
 * word 1   rsp_prod (bits 31:0, byte 8)   rsp_event (bits 63:32, byte 12)
 * words 2–7  __pad (48 bytes): the header is 64 bytes
 * words 8 + 14·i .. 8 + 14·i + 13   slot i (i = 0..31), union blkif_sring_entry: 112 bytes
 *   request  word 0 operation (7:0) nr_segments (15:8) handle (31:16); word 1 id; word 2 sector_number;
 *            word 3 + s seg[s]: gref (31:0) first_sect (39:32) last_sect (47:40)
 *   response word 0 id; word 1 operation (7:0) status (31:16, int16_t)
 * </pre>
 *
 * <p>A sector is 512 bytes (64 words; {@code blkif_sector_t} counts 512-byte units), eight to a page.
 */
public final class Blkif {
    private Blkif() {}

    public static final int BLKIF_OP_READ = 0;
    public static final int BLKIF_OP_WRITE = 1;
    public static final int BLKIF_RSP_OKAY = 0;
    public static final int BLKIF_RSP_ERROR = -1;
    public static final int BLKIF_RSP_EOPNOTSUPP = -2;
    /** {@code BLKIF_MAX_SEGMENTS_PER_REQUEST}: a slot has room for 11 segments (words 3 .. 13 of the slot). */
    public static final int MAX_SEGMENTS = 11;
    /** Bytes in a sector ({@code blkif.h}: sector numbers and first/last_sect are in 512-byte units). */
    public static final int SECTOR_SIZE = 512;
    public static final int WORDS_PER_SECTOR = SECTOR_SIZE / 8;
    public static final int SECTORS_PER_PAGE = PhysicalMemory.FRAME_SIZE / SECTOR_SIZE;
    /** The header of {@code struct blkif_sring}: four 32-bit indices and 48 bytes of padding. */
    public static final int HEADER_WORDS = 8;
    /** {@code sizeof(union blkif_sring_entry)} on x86-64: the request's 112 bytes. */
    public static final int SLOT_WORDS = 14;
    /**
     * {@code __CONST_RING_SIZE(blkif, 4096)}: (4096 − 64) / 112 = 36 slots fit, rounded down to a power of two, so that
     * {@code idx & (size − 1)} is a slot.
     */
    public static final int RING_SIZE = 32;

    /** Sectors of the model's virtual disk (two pages' worth). */
    public static final int DISK_SECTORS = 16;

    /** A request ({@code struct blkif_request}) with its first segment. */
    public record Request(int operation, int nrSegments, int handle, long id, long sector, long gref, int firstSect,
            int lastSect) {}

    /** A response ({@code struct blkif_response}). */
    public record Response(long id, int operation, int status) {}

    /**
     * BLK-1, BLK-7: one segment of a request ({@code struct blkif_request_segment}): grant {@code gref} names the page,
     * and the transfer covers its 512-byte sectors {@code firstSect} .. {@code lastSect}.
     */
    public record Segment(long gref, int firstSect, int lastSect) {}

    /** The ring's four indices. */
    public record Indices(long reqProd, long reqEvent, long rspProd, long rspEvent) {}

    /** The first word of slot {@code idx & (RING_SIZE − 1)} ({@code RING_GET_REQUEST} / {@code RING_GET_RESPONSE}). */
    public static int slot(long idx) {
        return HEADER_WORDS + SLOT_WORDS * (int) (idx & (RING_SIZE - 1));
    }

    /** BLK-1: the indices of the ring in {@code frame}. */
    public static Indices indices(PhysicalMemory m, long frame) {
        long w0 = m.read(frame, 0);
        long w1 = m.read(frame, 1);
        return new Indices(w0 & 0xFFFF_FFFFL, w0 >>> 32, w1 & 0xFFFF_FFFFL, w1 >>> 32);
    }

    /** The two index words of {@code i}. */
    public static long[] words(Indices i) {
        return new long[] {(i.reqProd() & 0xFFFF_FFFFL) | (i.reqEvent() << 32),
            (i.rspProd() & 0xFFFF_FFFFL) | (i.rspEvent() << 32)};
    }

    /** BLK-1 {@code SHARED_RING_INIT}: producers 0, both event indices 1 (notify on the first message). */
    public static final Indices INITIAL = new Indices(0, 1, 0, 1);

    /**
     * BLK-8: the indices of a ring an earlier connection left with every request answered at index {@code idx}
     * (free-running, taken mod 2^32): both producers {@code idx}, both event indices {@code idx + 1}, as
     * {@code SHARED_RING_INIT} leaves them at 0.
     */
    public static Indices attachedAt(long idx) {
        long i = idx & 0xFFFF_FFFFL;
        return new Indices(i, (i + 1) & 0xFFFF_FFFFL, i, (i + 1) & 0xFFFF_FFFFL);
    }

    /** BLK-1: the request in slot {@code idx} of the ring in {@code frame}. */
    public static Request request(PhysicalMemory m, long frame, long idx) {
        int s = slot(idx);
        long w0 = m.read(frame, s);
        long seg = m.read(frame, s + 3);
        return new Request((int) (w0 & 0xFF), (int) ((w0 >>> 8) & 0xFF), (int) ((w0 >>> 16) & 0xFFFF),
                m.read(frame, s + 1), m.read(frame, s + 2), seg & 0xFFFF_FFFFL, (int) ((seg >>> 32) & 0xFF),
                (int) ((seg >>> 40) & 0xFF));
    }

    /**
     * BLK-1, BLK-7: the segments of the request in slot {@code idx}: {@code seg[0]} .. {@code seg[n − 1]} with n its
     * {@code nr_segments}, at most {@link #MAX_SEGMENTS} (the slot holds no more).
     */
    public static java.util.List<Segment> segments(PhysicalMemory m, long frame, long idx) {
        int s = slot(idx);
        int n = Math.min(MAX_SEGMENTS, (int) ((m.read(frame, s) >>> 8) & 0xFF));
        java.util.List<Segment> out = new java.util.ArrayList<>();
        for (int k = 0; k < n; k++) {
            long w = m.read(frame, s + 3 + k);
            out.add(new Segment(w & 0xFFFF_FFFFL, (int) ((w >>> 32) & 0xFF), (int) ((w >>> 40) & 0xFF)));
        }
        return out;
    }

    /** The slot word of segment {@code g} (word 3 + its index). */
    public static long word(Segment g) {
        return (g.gref() & 0xFFFF_FFFFL) | (long) (g.firstSect() & 0xFF) << 32 | (long) (g.lastSect() & 0xFF) << 40;
    }

    /** The slot words of {@code r} (word 0 .. 3). */
    public static long[] words(Request r) {
        return new long[] {(r.operation() & 0xFF) | (long) (r.nrSegments() & 0xFF) << 8
                | (long) (r.handle() & 0xFFFF) << 16, r.id(), r.sector(),
            (r.gref() & 0xFFFF_FFFFL) | (long) (r.firstSect() & 0xFF) << 32 | (long) (r.lastSect() & 0xFF) << 40};
    }

    /** BLK-1: the response in slot {@code idx}. */
    public static Response response(PhysicalMemory m, long frame, long idx) {
        int s = slot(idx);
        long w1 = m.read(frame, s + 1);
        return new Response(m.read(frame, s), (int) (w1 & 0xFF), (short) ((w1 >>> 16) & 0xFFFF));
    }

    /** The slot words of {@code r} (word 0 .. 1). */
    public static long[] words(Response r) {
        return new long[] {r.id(), (r.operation() & 0xFF) | (long) (r.status() & 0xFFFF) << 16};
    }

    /**
     * BLK-2, the producer's side of {@code RING_PUSH_REQUESTS_AND_CHECK_NOTIFY} / {@code
     * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY}: having moved its producer index from {@code oldProd} to {@code newProd},
     * the producer notifies the other end iff the consumer's event index lies in (oldProd, newProd] — in 32-bit
     * unsigned arithmetic, {@code (new − event) < (new − old)}. The consumer sets its event index to the next index it
     * wants to be woken for (BLK-2's consumer side, {@code RING_FINAL_CHECK_FOR_REQUESTS} / {@code _RESPONSES}).
     */
    public static boolean notifyNeeded(long oldProd, long newProd, long event) {
        return ((newProd - event) & 0xFFFF_FFFFL) < ((newProd - oldProd) & 0xFFFF_FFFFL);
    }

    /**
     * The content of word {@code word} of sector {@code sector} of the virtual disk as shipped (every platform's disk
     * starts with these bytes, so that the kernel and its native twin read the same): a tag, the sector, the word.
     */
    public static long initialWord(long sector, int word) {
        return 0x5EC7_0000_0000_0000L | (sector << 16) | word;
    }
}
