package org.hybridv.guest;

import org.hybridv.x86.PhysicalMemory;

/**
 * The hybrid kernel's address-space layout and its early frames. Numbers a reviewer can check against Linux x86-64:
 * the direct map ("physmap") at {@code 0xffff880000000000}, PML4 slot 272 — the address Linux moved its direct map to
 * in 2.6.27 so that Xen's reserved slots 256–271 (Xen rule SLOT-1, {@code ROOT_PAGETABLE_FIRST/LAST_XEN_SLOT}) stay
 * free; user text at 4 MiB (the ELF default {@code 0x400000}). The direct map uses 4-KByte pages only (the seed:
 * "modified to use 4KB pages for the kernel translation"), so every frame — page tables included — has its own PTE
 * that can be made read-only for direct paging.
 */
public final class Layout {
    private Layout() {}

    /** PML4 slot of the direct map. */
    public static final int DIRECT_MAP_SLOT = 272;
    /** Linear base of the direct map: frame f is at {@code DIRECT_MAP_BASE + f * 4096}. */
    public static final long DIRECT_MAP_BASE = 0xFFFF_8800_0000_0000L;
    /** Linear base of every process's user region: PML4 slot 0, PDPT slot 0, PD slot 2. */
    public static final long USER_BASE = 0x40_0000L;
    /** Pages in the user region: one L1 table's worth. */
    public static final int USER_PAGES = 512;
    /** L2 index of the user region's L1 table. */
    public static final int USER_L2_INDEX = (int) ((USER_BASE >>> 21) & 511);
    /** The most frames a guest may have: the direct map is one L1 table. */
    public static final int MAX_FRAMES = 512;

    /** Early frames, built into the kernel image by the loader (Linux: {@code early_top_pgt} and friends). */
    public static final long EARLY_L4 = 0;
    public static final long EARLY_L3 = 1;
    public static final long EARLY_L2 = 2;
    public static final long EARLY_L1 = 3;
    /** The kernel's data page: quadword 0 is {@code current}, the pid of the running process. */
    public static final long KERNEL_DATA = 4;
    /** Where the kernel asks the hypervisor to put the hypercall page. */
    public static final long HYPERCALL_PAGE = 5;
    /** The first frame the page allocator hands out. */
    public static final long FIRST_FREE = 6;
    /**
     * Frames at the top of the kernel's memory set aside at boot for the tables SWITCH_MMU needs (the kernel's four
     * and four per process). Set aside on bare metal too, so that the page allocator hands out the same frames
     * whatever the platform (native equivalence, I3).
     */
    public static final int SWITCH_RESERVE = 24;
    /** The fewest frames a guest needs: the early frames, room for a process, and the SWITCH_MMU reserve. */
    public static final int MIN_FRAMES = (int) FIRST_FREE + 8 + SWITCH_RESERVE;

    /** Entry flags (SDM Vol. 3A §4.5, tables 4-15 to 4-19): present, read/write, user/supervisor, page size. */
    public static final long P = 1;
    public static final long RW = 1L << 1;
    public static final long US = 1L << 2;
    public static final long PS = 1L << 7;

    /** The kernel's {@code current} variable. */
    public static final long CURRENT_VAR = directMap(KERNEL_DATA);

    /**
     * Processor {@code cpu}'s {@code current} (Linux's per-CPU variable): the quadword after the boot CPU's
     * {@link #CURRENT_VAR} for each further CPU, in the kernel's data frame.
     */
    public static long currentVar(int cpu) {
        return CURRENT_VAR + 8L * cpu;
    }

    /** The direct-map address of frame {@code pfn}. */
    public static long directMap(long pfn) {
        return DIRECT_MAP_BASE + pfn * PhysicalMemory.FRAME_SIZE;
    }

    /** The linear address of user page {@code page}. */
    public static long userPage(int page) {
        return USER_BASE + (long) page * PhysicalMemory.FRAME_SIZE;
    }

    /** The user page index of {@code linear}, or -1 outside the user region. */
    public static int userPageOf(long linear) {
        long off = linear - USER_BASE;
        return off < 0 || off >= (long) USER_PAGES * PhysicalMemory.FRAME_SIZE ? -1
                : (int) (off / PhysicalMemory.FRAME_SIZE);
    }

    /** An entry mapping frame {@code frame} with {@code flags}. */
    public static long entry(long frame, long flags) {
        return (frame << 12) | flags;
    }

    /** The kernel's tick count ({@code jiffies}): a quadword of the kernel's data page. */
    public static final long JIFFIES_VAR = directMap(KERNEL_DATA) + 0x800;
    /** The kernel's clock: the timer ticks its tick handler has accounted (Linux's timekeeping, in ticks). */
    public static final long CLOCK_VAR = directMap(KERNEL_DATA) + 0x808;
    /** The event-channel port bound to {@code VIRQ_TIMER} of the boot CPU (0: none; Linux's per-CPU virq map). */
    public static final long TIMER_PORT_VAR = directMap(KERNEL_DATA) + 0x810;
    /** 1 once the kernel enabled KVM's PV EOI ({@code kvm_guest_cpu_init}), else 0. */
    public static final long PV_EOI_VAR = directMap(KERNEL_DATA) + 0x818;
    /** 1 once the local APIC timer was put in one-shot mode ({@code lapic_timer_set_oneshot}), else 0. */
    public static final long APIC_ONESHOT_VAR = directMap(KERNEL_DATA) + 0x820;

    /**
     * The frame the kernel gives the hypervisor for its shared-info page ({@code XENMEM_add_to_physmap}; Linux
     * {@code xen_hvm_init_shared_info} takes a page of its own image): the one just below the SWITCH_MMU reserve. The
     * page allocator stops below it on every platform, so that it hands out the same frames whatever the platform.
     */
    public static long sharedInfo(int frames) {
        return frames - SWITCH_RESERVE - 1L;
    }
}
