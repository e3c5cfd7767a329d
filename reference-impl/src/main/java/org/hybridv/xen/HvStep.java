package org.hybridv.xen;

/** One vCPU step: what happened and the hypervisor's state after it. */
public record HvStep(VcpuOutcome outcome, XenMachine machine) {}
