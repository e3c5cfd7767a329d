package org.hybridv.vmx;

/** VMX root operation (the hypervisor) or VMX non-root operation (a guest), Intel SDM Vol. 3C §23.3. */
public enum VmxMode {
    ROOT,
    NON_ROOT
}
