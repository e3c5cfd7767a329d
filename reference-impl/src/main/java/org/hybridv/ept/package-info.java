/**
 * Layer 2 of the reference, EPT part: extended page tables as the Intel SDM Vol. 3C chapter 28 ("VMX Support for
 * Address Translation") describes them for a page-walk length of 4.
 *
 * <p><b>Citations.</b> Sections are cited as "Intel SDM Vol. 3C §28.2.x" (shortened to "SDM 28.2.x" after the first
 * mention in a file) with the <em>2016-era chapter numbering</em> of Vol. 3C: ch. 24 VMCS, ch. 25 VMX non-root
 * operation, ch. 26 VM entries, ch. 27 VM exits, ch. 28 VMX support for address translation, ch. 30 VMX instruction
 * reference, Appendix A VMX capability reporting. Later editions renumber these chapters (VMX address translation
 * became ch. 29); the section titles are unchanged.
 *
 * <p>One concern per file: {@link org.hybridv.ept.Eptp} (SDM 24.6.11, with the VM-entry checks of 26.2.1.1),
 * {@link org.hybridv.ept.EptEntry} (28.2.2 tables 28-1..28-6), {@link org.hybridv.ept.EptReservedBits} (28.2.2),
 * {@link org.hybridv.ept.EptMisconfigurations} (28.2.3.1), {@link org.hybridv.ept.EptPermissions} (28.2.3.2),
 * {@link org.hybridv.ept.EptPageWalk} (28.2.2, ordered by 28.2.3.3), {@link org.hybridv.ept.EptViolationQualification}
 * (27.2.1 table 27-7), {@link org.hybridv.ept.EptAccessedDirty} (28.2.4), {@link org.hybridv.ept.GuestPhysical}
 * (the 48-bit guest-physical address, 28.2.2), {@link org.hybridv.ept.InveptType} (ch. 30 INVEPT, EP4TA of 28.3).
 * The 2-D walk (guest paging over EPT), VM entry/exit and the TLB are the VMX layer's; it calls
 * {@link org.hybridv.ept.EptPageWalk#translate} once per guest-physical access, with the access kind and the
 * {@link org.hybridv.ept.GuestLinear} context that only it knows.
 *
 * <p>Outcomes are values: a translation returns an {@link org.hybridv.ept.EptTranslation} — translated, EPT violation
 * or EPT misconfiguration; only misuse of the API throws {@link IllegalArgumentException}, naming the bad value.
 * Host memory is the x86 layer's immutable {@link org.hybridv.x86.PhysicalMemory}; a translation that sets EPT
 * accessed/dirty flags returns the new memory.
 *
 * <p>Decisions where the SDM leaves room, each documented at its rule: the order of checks (28.2.3.3, in
 * {@link org.hybridv.ept.EptPageWalk}); memory type 2/3/7 in a 1-GByte PDPTE leaf is a misconfiguration
 * ({@link org.hybridv.ept.EptMisconfigurations#reservedMemoryType}); A/D flags only for completed translations
 * ({@link org.hybridv.ept.EptAccessedDirty}); guest-physical addresses above 48 bits are API misuse
 * ({@link org.hybridv.ept.GuestPhysical}).
 */
package org.hybridv.ept;
