package org.hybridv.vmx;

/** A guest instruction's outcome and the processor after it. */
public record GuestStep(GuestOutcome outcome, VmxProcessor processor) {}
