package org.hybridv.scenario.vmx;

import org.hybridv.scenario.Step;

/**
 * The steps of the VMX layer (Intel SDM Vol. 3C chapters 24–28): one record per kind of step, each made by
 * {@link VmxDecoders} and run by {@link VmxExecutors}. The guest instructions share one record,
 * {@link GuestInstructionStep}, because the reference already names each of them as a
 * {@link org.hybridv.vmx.GuestInstruction}.
 */
public sealed interface VmxStep extends Step permits VmcsStep, VmEntryStep, GuestInstructionStep, EptStep,
        InvvpidStep, InveptStep, ExpectVmcsStep {}
