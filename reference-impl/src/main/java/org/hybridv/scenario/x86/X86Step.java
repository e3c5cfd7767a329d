package org.hybridv.scenario.x86;

import org.hybridv.scenario.Step;

/**
 * The steps of the x86 layer (Intel SDM Vol. 3A chapter 4 on a bare processor): one record per op, each made by
 * {@link X86Decoders} and run by {@link X86Executors}.
 */
public sealed interface X86Step extends Step permits PteStep, CpuStep, AccessMemoryStep, InvlpgStep, MovToCr3Step,
        ExpectEntryStep, ExpectTlbStep, ExpectCpuStep {}
