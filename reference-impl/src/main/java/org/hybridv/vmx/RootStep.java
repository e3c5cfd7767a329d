package org.hybridv.vmx;

/** A root-mode VMX instruction's outcome and the processor after it (unchanged after a failure). */
public record RootStep(RootOutcome outcome, VmxProcessor processor) {}
