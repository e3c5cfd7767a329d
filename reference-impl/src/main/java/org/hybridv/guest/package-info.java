/**
 * The hybrid kernel: a Linux-like guest that boots like a native kernel — real mode, protected mode, long
 * mode (Intel SDM Vol. 3A §9.8.5) — asks CPUID leaf 0x40000000 whether Xen is there, installs the hypercall page,
 * and switches its MMU from shadow paging to direct paging with SWITCH_MMU (J. Nakajima, "The Next Generation of
 * XenLinux", 2007; docs/rules/hybrid.md). The same kernel runs natively on the bare x86 layer
 * ({@link org.hybridv.guest.NativePlatform}) or as a vCPU of the Xen-like hypervisor
 * ({@link org.hybridv.guest.XenPlatform}); the para-virtual operations it uses per stage are one small table,
 * {@link org.hybridv.guest.PvOps}. Depends on {@code x86}, {@code vmx} and {@code xen}.
 */
package org.hybridv.guest;
