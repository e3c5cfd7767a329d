/**
 * Layer 1 of the reference: the x86 processor as the Intel SDM Vol. 3A chapter 4 describes it for IA-32e
 * 4-level paging.
 *
 * <p>One concern per file: {@link org.hybridv.x86.PhysicalMemory} (frames of 512 64-bit words),
 * {@link org.hybridv.x86.CpuState} and its control registers, {@link org.hybridv.x86.Entry} (the
 * paging-structure entry formats, SDM 4.5), {@link org.hybridv.x86.ReservedBits} (SDM 4.5 tables 4-14..4-20),
 * {@link org.hybridv.x86.PageWalk} (SDM 4.5), {@link org.hybridv.x86.AccessRights} (SDM 4.6.1),
 * {@link org.hybridv.x86.ProtectionKeys} (SDM 4.6.2), {@link org.hybridv.x86.ErrorCode} (SDM 4.7),
 * {@link org.hybridv.x86.AccessedDirty} (SDM 4.8), {@link org.hybridv.x86.Tlb} (the TLB and the paging-structure
 * caches, SDM 4.10) with {@link org.hybridv.x86.PscEntry} and {@link org.hybridv.x86.PagingStructureCaches}
 * (SDM 4.10.3), {@link org.hybridv.x86.Invpcid} (SDM Vol. 2A INVPCID, 4.10.4.1) and
 * {@link org.hybridv.x86.Processor}, which puts them together into instructions.
 *
 * <p>Outcomes are values: a translation or an access returns a {@link org.hybridv.x86.Translation} or an
 * {@link org.hybridv.x86.AccessOutcome}; only misuse of the API throws {@link IllegalArgumentException}.
 * Nothing here prints or exits.
 */
package org.hybridv.x86;
