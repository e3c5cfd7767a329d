/**
 * The x86 layer's scenario operations: {@code pte}, {@code cpu}, {@code access}, {@code invlpg}, {@code movToCr3},
 * {@code expectEntry}, {@code expectTlb}, {@code expectCpu}. Registered by {@link org.hybridv.scenario.x86.X86Module}; each op a record
 * of {@link org.hybridv.scenario.x86.X86Step}, its own JSON form; run by {@code X86Executors}
 * through {@link org.hybridv.x86.Processor}.
 */
package org.hybridv.scenario.x86;
