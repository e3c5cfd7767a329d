package org.hybridv.xen;

/**
 * How a domain's guest-linear addresses reach machine frames (docs/rules/hybrid.md).
 * <ul>
 * <li>{@link #SHADOW}: the guest's tables hold guest frames; the hypervisor walks them with the p2m and keeps shadow
 * tables in its own frames that the hardware walks (docs/rules/xen.md SH-1..5).</li>
 * <li>{@link #DIRECT}: the guest's tables hold machine frames, validated by the hypervisor (docs/rules/xen.md) and walked by the
 * hardware directly, EPT off; guest-physical = machine for the domain's own frames.</li>
 * <li>{@link #HAP}: the guest owns its tables outright; the EPT built from the p2m confines it (HAP-1, HAP-2).</li>
 * </ul>
 */
public enum MmuMode {
    SHADOW,
    DIRECT,
    HAP
}
