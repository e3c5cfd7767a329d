/**
 * Layer 3 of the reference: the hypervisor. So far its direct-paging (PV MMU) core, after Xen's
 * {@code xen/arch/x86/mm.c} and {@code pv/ro-page-fault.c}, with the rule IDs of
 * the rulebook docs/rules/xen.md (OWN-*, TYP-*, L1-*, LN-*, PRO-*, LIN-*, SP-*, SLOT-*, MU-*, MX-*, UVA-*, PTW-*,
 * TLB-*) cited in each function's Javadoc: {@link org.hybridv.xen.DirectPagingState} (memory, frame table, base
 * pointers), {@link org.hybridv.xen.PageTypes} (references, types, (de)validation, entry references),
 * {@link org.hybridv.xen.EntryRules} (flag masks, Xen's L4 slots, the fast path) and
 * {@link org.hybridv.xen.DirectPaging} (the hypercalls and writable-page-table emulation).
 *
 * <p>Outcomes are values: every operation returns {@link org.hybridv.xen.MmuResult} — success with the post-state
 * and the TLB obligations ({@link org.hybridv.xen.Effect}) the caller must honour, or a refusal with Xen's errno and
 * the rule ID, which carries no state. Only misuse of the API throws {@link IllegalArgumentException}.
 */
package org.hybridv.xen;
