package org.hybridv.gen;

import org.hybridv.vmx.VmxProcessor;

/**
 * A VM entry to judge (Intel SDM Vol. 3C chapter 26): VMLAUNCH ({@code resume} false) or VMRESUME from a processor in
 * VMX root operation whose current VMCS may violate any of the checks of §26.1–§26.3 the reference models.
 *
 * @param root   the processor just before the instruction
 * @param resume VMRESUME rather than VMLAUNCH
 */
public record VmEntryCase(VmxProcessor root, boolean resume) {}
