/**
 * The VMX and EPT layer's scenario operations: {@code vmcs}, {@code vmlaunch}, {@code vmresume}, the guest
 * instructions ({@code guestAccess}, {@code guestInvlpg}, {@code guestMovToCr}, {@code guestMovFromCr}, {@code io},
 * {@code rdmsr}, {@code wrmsr}, {@code cpuid}, {@code vmcall}, {@code hlt}), {@code ept}, {@code invvpid},
 * {@code invept}, {@code expectVmcs}. Registered by {@link org.hybridv.scenario.vmx.VmxModule}; each op a record
 * of {@link org.hybridv.scenario.vmx.VmxStep}, its own JSON form; run by {@code VmxExecutors}
 * through {@link org.hybridv.vmx.VmEntries}, {@link org.hybridv.vmx.NonRoot}, {@link org.hybridv.vmx.Invvpid} and
 * {@link org.hybridv.vmx.Invept}.
 */
package org.hybridv.scenario.vmx;
