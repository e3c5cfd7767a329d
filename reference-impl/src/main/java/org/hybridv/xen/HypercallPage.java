package org.hybridv.xen;

import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * The hypercall page (BOOT-3, docs/rules/hybrid.md; Xen {@code guest_wrmsr_xen},
 * xen/arch/x86/msr.c, and {@code vmx_init_hypercall_page}, xen/arch/x86/hvm/vmx/vmx.c).
 */
public final class HypercallPage {
    private HypercallPage() {}

    /** The MSR a guest writes to install the page (leaf 0x40000002 EBX). */
    public static final long MSR = CpuidLeaves.MSR_BASE;
    /** {@code __HYPERVISOR_iret}: its slot holds ud2 (not supported for HVM). */
    public static final int HYPERVISOR_IRET = 23;
    /** Bytes per stub. */
    public static final int STUB_SIZE = 32;

    /** The machine frame the page goes to, or a refusal reason (both as a value). */
    public record Target(long mfn, String refusal) {}

    /**
     * Where {@code WRMSR(MSR, value)} from domain {@code d} installs the page. {@code value} bits 11:0 are the page
     * index: only 0 is valid (one page). The guest frame is translated through the p2m in shadow and HAP modes; in
     * direct mode it is the machine frame itself and must be the domain's. The frame must be able to take
     * {@code PGT_writable_page} ({@code get_page_and_type}: not in use as a page table, TYP-1).
     */
    public static Target target(DirectPagingState s, Domain d, long value) {
        long index = value & 0xFFF;
        if (index != 0) {
            return new Target(-1, "page index " + index + " (only 0: one hypercall page)");
        }
        long gfn = value >>> 12;
        long mfn = d.mode() == MmuMode.DIRECT ? gfn : d.machineFrame(gfn);
        if (mfn < 0 || !s.isFrame(mfn) || s.frame(mfn).owner() != d.id()) {
            return new Target(-1, "gfn " + Hex.of(gfn) + " is not RAM of d" + d.id());
        }
        MmuResult r = PageTypes.getPageAndType(s, mfn, PageType.WRITABLE, d.id());
        if (r instanceof MmuResult.Refused x) {
            return new Target(-1, "frame " + Hex.of(mfn) + " cannot be writable: " + x);
        }
        return new Target(mfn, null);
    }

    /**
     * The page contents: for each hypercall number i the 32-byte stub at i*32 is {@code mov $i,%eax} (B8 i32),
     * {@code vmcall} (0F 01 C1), {@code ret} (C3); slot 23 ({@code __HYPERVISOR_iret}) starts with {@code ud2}
     * (0F 0B). Bytes not written by a stub are 0 here (the model does not claim Xen's filler). As 512 little-endian
     * quadwords.
     */
    public static long[] contents() {
        byte[] b = new byte[PhysicalMemory.FRAME_SIZE];
        for (int i = 0; i < PhysicalMemory.FRAME_SIZE / STUB_SIZE; i++) {
            int p = i * STUB_SIZE;
            if (i == HYPERVISOR_IRET) {
                b[p] = 0x0F;
                b[p + 1] = 0x0B;
                continue;
            }
            b[p] = (byte) 0xB8;
            b[p + 1] = (byte) i;
            b[p + 2] = (byte) (i >>> 8);
            b[p + 3] = (byte) (i >>> 16);
            b[p + 4] = (byte) (i >>> 24);
            b[p + 5] = 0x0F;
            b[p + 6] = 0x01;
            b[p + 7] = (byte) 0xC1;
            b[p + 8] = (byte) 0xC3;
        }
        long[] words = new long[PhysicalMemory.WORDS_PER_FRAME];
        for (int w = 0; w < words.length; w++) {
            long v = 0;
            for (int k = 7; k >= 0; k--) {
                v = (v << 8) | (b[w * 8 + k] & 0xFF);
            }
            words[w] = v;
        }
        return words;
    }

    /** Byte {@code offset} of frame {@code mfn} (little-endian quadwords), for tests reading the stubs. */
    public static int byteAt(PhysicalMemory m, long mfn, int offset) {
        return (int) ((m.read(mfn, offset / 8) >>> (8 * (offset % 8))) & 0xFF);
    }
}
