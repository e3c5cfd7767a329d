package org.hybridv.xen;

import org.hybridv.x86.PhysicalMemory;

/**
 * The layout of the shared-info page of Xen's public ABI ({@code struct shared_info} and {@code struct vcpu_info},
 * {@code xen/include/public/xen.h}, x86-64), over a frame of 64-bit words, and the bit operations of the 2-level event
 * channel ABI on it ({@code xen/common/event_2l.c}). The guest reads the same frame through its own mappings: this is
 * the only copy of pending and mask state.
 * <ul>
 * <li>{@code vcpu_info[v]} (64 bytes, v &lt; 32 = {@code XEN_LEGACY_MAX_VCPUS}) at word {@code 8v}: byte 0
 * {@code evtchn_upcall_pending}, byte 1 {@code evtchn_upcall_mask}; word {@code 8v + 1}
 * {@code evtchn_pending_sel} (bit i: word i of {@code evtchn_pending} may have a pending port);</li>
 * <li>{@code evtchn_pending[64]} at byte 2048 (word 256): bit {@code p % 64} of word {@code p / 64} is port p's;</li>
 * <li>{@code evtchn_mask[64]} at byte 2560 (word 320), the same bit positions.</li>
 * </ul>
 */
public final class SharedInfo {
    private SharedInfo() {}

    /** {@code XEN_LEGACY_MAX_VCPUS}: the vCPUs with a {@code vcpu_info} in the shared-info page. */
    public static final int MAX_VCPUS = 32;
    /** Ports of the 2-level ABI on x86-64: 64 words of 64 bits ({@code EVTCHN_2L_NR_CHANNELS}). */
    public static final int NR_EVENT_CHANNELS = 64 * 64;
    public static final int VCPU_INFO_WORDS = 8;
    public static final int PENDING_WORD = 256;
    public static final int MASK_WORD = 320;
    /** Bit 0 of byte 0 of {@code vcpu_info}: {@code evtchn_upcall_pending}. */
    public static final long UPCALL_PENDING = 1L;
    /** Byte 1 of {@code vcpu_info}: {@code evtchn_upcall_mask} (bit 8 of the word). */
    public static final long UPCALL_MASK = 1L << 8;

    public static boolean pending(PhysicalMemory m, long frame, int port) {
        return (m.read(frame, PENDING_WORD + port / 64) >>> (port % 64) & 1) != 0;
    }

    public static boolean masked(PhysicalMemory m, long frame, int port) {
        return (m.read(frame, MASK_WORD + port / 64) >>> (port % 64) & 1) != 0;
    }

    public static boolean upcallPending(PhysicalMemory m, long frame, int vcpu) {
        return (m.read(frame, VCPU_INFO_WORDS * vcpu) & UPCALL_PENDING) != 0;
    }

    /** {@code evtchn_pending_sel} bit {@code word} of vCPU {@code vcpu}. */
    public static boolean selected(PhysicalMemory m, long frame, int vcpu, int word) {
        return (m.read(frame, VCPU_INFO_WORDS * vcpu + 1) >>> word & 1) != 0;
    }

    public static PhysicalMemory setPending(PhysicalMemory m, long frame, int port, boolean on) {
        return setBit(m, frame, PENDING_WORD + port / 64, port % 64, on);
    }

    public static PhysicalMemory setMasked(PhysicalMemory m, long frame, int port, boolean on) {
        return setBit(m, frame, MASK_WORD + port / 64, port % 64, on);
    }

    public static PhysicalMemory setUpcallPending(PhysicalMemory m, long frame, int vcpu, boolean on) {
        return setBit(m, frame, VCPU_INFO_WORDS * vcpu, 0, on);
    }

    public static PhysicalMemory setSelected(PhysicalMemory m, long frame, int vcpu, int word, boolean on) {
        return setBit(m, frame, VCPU_INFO_WORDS * vcpu + 1, word, on);
    }

    /** The whole {@code evtchn_pending_sel} of vCPU {@code vcpu} cleared (the guest's {@code xchg(..., 0)}). */
    public static PhysicalMemory clearSelector(PhysicalMemory m, long frame, int vcpu) {
        return m.read(frame, VCPU_INFO_WORDS * vcpu + 1) == 0 ? m : m.write(frame, VCPU_INFO_WORDS * vcpu + 1, 0);
    }

    private static PhysicalMemory setBit(PhysicalMemory m, long frame, int word, int bit, boolean on) {
        long w = m.read(frame, word);
        long n = on ? w | (1L << bit) : w & ~(1L << bit);
        return n == w ? m : m.write(frame, word, n);
    }
}
