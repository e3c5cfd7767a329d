package org.hybridv.vmx;

/** VMLAUNCH/VMRESUME's outcome and the processor after it. */
public record EntryStep(EntryOutcome outcome, VmxProcessor processor) {}
