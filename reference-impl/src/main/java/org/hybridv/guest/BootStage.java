package org.hybridv.guest;

import java.util.EnumSet;
import java.util.Set;

/**
 * The hybrid kernel's boot stages (docs/rules/hybrid.md: BOOT-1 CPU modes, BOOT-2 and BOOT-3 enablement, in the
 * order the seed gives). Early initialization ({@link #REAL} → {@link #PROTECTED} → {@link #LONG}) is the same whether or not a
 * hypervisor is present; only the stages after CPUID leaf 0x40000000 differ.
 */
public enum BootStage {
    /** CR0.PE = 0: reset, firmware (SDM Vol. 3A §9.1.1). */
    REAL,
    /** CR0.PE = 1, CR0.PG = 0 (SDM §9.9.1 "switching to protected mode"). */
    PROTECTED,
    /** CR0.PG = 1, CR4.PAE = 1, EFER.LME = 1, hence EFER.LMA = 1 (SDM §9.8.5). */
    LONG,
    /** The CPUID scan found no known hypervisor (BOOT-2): the kernel stays native for good. */
    NATIVE,
    /** The CPUID scan found "XenVMMXenVMM" with at least two leaves after it (BOOT-2). */
    HYPERVISOR_DETECTED,
    /** WRMSR to the MSR of leaf 0x40000002 installed the hypercall page ({@code hypercall_page_installed}). */
    HYPERCALL_PAGE_INSTALLED,
    /** SWITCH_MMU was accepted: direct paging (PRE-1..3, POST-1..3 of docs/rules/hybrid.md). */
    DIRECT,
    /**
     * The CPUID scan found "KVMKVMKVM\0\0\0" (BOOT-2): the kernel stays on its own page tables (the domain is in HAP
     * mode) and enables the KVM paravirtual features its feature leaf offers (BOOT-7).
     */
    KVM;

    /** The stages this one may move to in one boot step (I8: the boot never leaves these transitions). */
    public Set<BootStage> next() {
        return switch (this) {
            case REAL -> EnumSet.of(PROTECTED);
            case PROTECTED -> EnumSet.of(LONG);
            case LONG -> EnumSet.of(NATIVE, HYPERVISOR_DETECTED, KVM);
            case HYPERVISOR_DETECTED -> EnumSet.of(HYPERCALL_PAGE_INSTALLED);
            case HYPERCALL_PAGE_INSTALLED -> EnumSet.of(DIRECT);
            case NATIVE, DIRECT, KVM -> EnumSet.noneOf(BootStage.class);
        };
    }

    /** Whether the kernel runs with paging on (every stage from {@link #LONG}). */
    public boolean pagingOn() {
        return compareTo(LONG) >= 0;
    }

    /** Whether hypercalls may be issued: only once the hypercall page is installed (I8). */
    public boolean hypercallsAllowed() {
        return this == HYPERCALL_PAGE_INSTALLED || this == DIRECT;
    }
}
