package org.hybridv.xen;

/**
 * How a domain's guest-linear addresses reach machine frames (hybrid-design.md §1.2 {@code mmu_mode}).
 * <ul>
 * <li>{@link #SHADOW}: the guest's tables hold guest frames; the hypervisor walks them with the p2m and keeps shadow
 * tables in its own frames that the hardware walks (xen-direct-paging.md §16, SH-*).</li>
 * <li>{@link #DIRECT}: the guest's tables hold machine frames, validated by the hypervisor (§1–§12) and walked by the
 * hardware directly, EPT off; guest-physical = machine for the domain's own frames.</li>
 * <li>{@link #HAP}: the guest owns its tables outright; the EPT built from the p2m confines it (§17, HAP-*).</li>
 * </ul>
 */
public enum MmuMode {
    SHADOW,
    DIRECT,
    HAP
}
