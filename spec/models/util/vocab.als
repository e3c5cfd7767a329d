module util/vocab

/*
 * The shared vocabulary of the hybridv Alloy models: the words the Java reference uses (org.hybridv.x86,
 * org.hybridv.vmx, org.hybridv.xen) for the things every model talks about. One idea only: names, no rules.
 *
 * Sources: Intel SDM Vol. 3A §4.7 (the #PF error code), §4.6 (access kinds); Xen xen/arch/x86/include/asm/mm.h
 * (PGT_* page types, docs/rules/xen.md); docs/rules/hybrid.md (MMU modes).
 */

-- A truth value, for the processor and VMCS bits that are plain flags (CR0.WP, exception bitmap bit 14, …).
abstract sig Bool {}
one sig True, False extends Bool {}

-- A 4-KiB machine frame (Java: a frame number of org.hybridv.x86.PhysicalMemory; Xen: an MFN).
sig Frame {}

-- A guest (Java: the int domain id of org.hybridv.xen.FrameInfo.owner; Xen: struct domain).
sig Domain {}

-- The #PF error-code bits, SDM 4.7 (Java org.hybridv.x86.ErrorCode.P … PK): bit 0 P, 1 W/R, 2 U/S, 3 RSVD,
-- 4 I/D, 5 PK. An error code is a set of these bits.
abstract sig EcBit {}
one sig P, WR, US, RSVD, ID, PK extends EcBit {}

-- The access kinds of SDM 4.6 (Java org.hybridv.x86.AccessKind).
abstract sig AccessKind {}
one sig Read, Write, Fetch extends AccessKind {}

-- Xen's page types (PGT_none, PGT_writable_page, PGT_l1..l4_page_table; Java org.hybridv.xen.PageType).
abstract sig PageType {}
one sig None, Writable, L1, L2, L3, L4 extends PageType {}

-- The page-table types (Java PageType.isPageTable).
fun PageTables: set PageType { L1 + L2 + L3 + L4 }

-- The type of the tables an entry of a table of type t references (Java PageType.child; LN-2).
fun child: PageType -> PageType { L4 -> L3 + L3 -> L2 + L2 -> L1 }

-- The MMU modes of a domain (Java org.hybridv.xen.MmuMode; docs/rules/hybrid.md).
abstract sig MmuMode {}
one sig Shadow, Direct, Hap extends MmuMode {}
