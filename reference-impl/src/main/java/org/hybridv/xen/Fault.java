package org.hybridv.xen;

/**
 * The seeded-fault catalog (docs/faults.md): each constant is one precise deviation from one named rule of the
 * reference, modelled on a real bug where one exists. A fault is configuration carried by the state
 * ({@link XenMachine#faults()}, {@link DirectPagingState#faults()}); it is consulted in exactly one place, the function
 * that implements its rule, whose Javadoc names it. No other code knows about faults.
 */
public enum Fault {
    /** SP-1: {@link EntryRules#lnFlagsCheck} lets PSE through in L2/L3 entries. */
    SUPERPAGE_ACCEPTED("superpage-accepted", "SP-1",
            "accepts PSE in a guest L2/L3 entry, validating it as if it pointed at a table: the hardware then maps a"
                    + " 2 MiB/1 GiB window of frames that carry no references (page tables, foreign and Xen frames)",
            "XSA-167"),
    /** LIN-6: {@link EntryRules#takesFastPath} puts RW into the L2–L4 fast-path whitelist. */
    FASTPATH_RW_CHANGE("fastpath-rw-change", "LIN-6",
            "lets a flags-only update of an L2/L3/L4 entry change RW without revalidation, so a read-only linear"
                    + " entry becomes writable", "XSA-182"),
    /** LIN-1: {@link PageTypes#getLinearPagetable} accepts a writable linear entry. */
    WRITABLE_LINEAR_ACCEPTED("writable-linear-accepted", "LIN-1",
            "accepts a writable linear (same-level or self) page-table entry, giving the guest write access to its"
                    + " own page tables", "XSA-185"),
    /** LIN-4: {@link PageTypes#getLinearPagetable} does not limit linear chains to depth 1. */
    LINEAR_CHAIN_UNBOUNDED("linear-chain-unbounded", "LIN-4",
            "does not refuse a linear entry whose target has linear entries itself (or whose table is itself a"
                    + " linear target): chains of same-level tables of depth 2 and more", "XSA-240"),
    /** L1-3: {@link PageTypes#getPageFromL1e} takes no WRITABLE type reference for an RW entry. */
    WRITABLE_PAGETABLE_MAPPING("writable-pagetable-mapping", "L1-3",
            "maps a frame writable without taking a WRITABLE type reference, so a frame in use as a page table can"
                    + " be mapped writable", "Xen mm.c get_page_from_l1e (the rule every PV page-table XSA attacks)"),
    /** L1-2: {@link PageTypes#getPageFromL1e} skips the owner check. */
    FOREIGN_FRAME_IN_L1("foreign-frame-in-l1", "L1-2",
            "accepts an L1 entry that maps a frame of another domain or of Xen (the reference is taken on the frame's"
                    + " real owner)", "Xen mm.c get_page_from_l1e (pg_owner check)"),
    /** TLB-1: {@link PageTypes#typeChangeObligation} hands out no flush obligation on a type change. */
    TYPE_CHANGE_NO_FLUSH("type-change-no-flush", "TLB-1",
            "changes a frame's type (e.g. writable → L1) without flushing the TLBs that may still hold translations"
                    + " made under the old type", "XSA-408"),
    /** MU-5: {@link DirectPaging#mmuUpdate} returns from an L2–L4 update without the domain flush. */
    PT_UPDATE_NO_FLUSH("pt-update-no-flush", "MU-5",
            "returns from an mmu_update of an L2/L3/L4 entry without flushing the domain's TLBs", "XSA-286"),
    /** SLOT-2: {@link DirectPaging#modLnEntry} accepts a write to Xen's L4 slots 256–271. */
    XEN_SLOT_UPDATE("xen-slot-update", "SLOT-2",
            "accepts an mmu_update of an L4 entry in Xen's slots 256–271", "Xen mm.c mod_l4_entry (is_guest_l4_slot)"),
    /** MX-2: {@link DirectPaging#unpin} drops the general reference but leaks the type reference. */
    UNPIN_LEAKS_TYPE_REF("unpin-leaks-type-ref", "MX-2",
            "MMUEXT_UNPIN_TABLE clears the pin and drops the general reference but not the type reference: the"
                    + " frame stays a validated page table nobody references", "Xen mm.c MMUEXT_UNPIN_TABLE (put_page_and_type)"),
    /** XSA-76: {@link Hypervisor#cplPermits} accepts hypercalls from CPL &gt; 0. */
    HYPERCALL_FROM_USER("hypercall-from-user", "XSA-76",
            "accepts a hypercall (VMCALL) from guest user mode (CPL 3)", "XSA-76"),
    /** MU-1: {@link Hypervisor#pvMmuPermitted} lets a shadow/HAP domain into the PV MMU hypercalls. */
    PV_MMU_FROM_TRANSLATED("pv-mmu-from-translated", "MU-1",
            "lets a translated (shadow or HAP) domain issue mmu_update, update_va_mapping and mmuext_op", "XSA-109"),
    /** I7-filter: {@link VmcsSetup#direct(int, org.hybridv.x86.Cr0, Faults)} sets PFEC_MATCH = P|W|U. */
    PFEC_SUPERVISOR_WRITE_BYPASS("pfec-supervisor-write-bypass", "I7-filter",
            "sets the direct-mode PFEC_MATCH to P|W|U: supervisor write-protection faults (the page-table writes the"
                    + " hypervisor must emulate, PTW-1) go straight to the guest, and user write faults exit instead",
            "design"),
    /** HAP-5: {@link VmcsSetup#hap(int, long, Faults)} leaves a PFEC mask/match with EB[14] = 0. */
    HAP_PFEC_WITHOUT_PF_BIT("hap-pfec-without-pf-bit", "HAP-5",
            "sets PFEC_MASK = PFEC_MATCH = P|W with exception-bitmap bit 14 clear in HAP mode, as if the filter only"
                    + " acted with the bit set: every #PF whose error code mismatches then exits", "KVM commit b502e6ecdc3b"),
    /** PRE-1: {@link Hypervisor#cplPermits} lets SWITCH_MMU through from CPL &gt; 0. */
    SWITCH_MMU_FROM_USER("switch-mmu-from-user", "PRE-1",
            "accepts SWITCH_MMU issued from guest user mode (CPL 3)", "design"),
    /** PRE-2: {@link SwitchMmu#validates} checks only the root's own entries. */
    SWITCH_MMU_TOP_LEVEL_ONLY("switch-mmu-top-level-only", "PRE-2",
            "validates only the top-level table of the SWITCH_MMU root (its entries' flags, slots and owners) and"
                    + " marks it a validated L4 without promoting the tables below", "design"),
    /** POST-2: {@link SwitchMmu#switchMmu} performs no TLB flush. */
    SWITCH_MMU_NO_FLUSH("switch-mmu-no-flush", "POST-2",
            "switches to direct mode and loads the root into each vCPU's CR3 without any INVVPID: translations"
                    + " cached from the shadow tables survive", "design"),
    /** VPID: {@link Domains#addVcpu} gives a vCPU a VPID another domain's vCPU already uses. */
    VPID_SHARED_ACROSS_DOMAINS("vpid-shared-across-domains", "VPID",
            "accepts for a new vCPU a VPID that a vCPU of another domain already uses, without INVVPID: the new"
                    + " vCPU hits the other domain's TLB entries", "design"),
    /** SH-2: {@link ShadowPaging#propagate} grants RW whenever the guest leaf is dirty. */
    SHADOW_MORE_PERMISSIVE("shadow-more-permissive", "SH-2",
            "makes a shadow leaf writable whenever the guest leaf is dirty, without ANDing in the RW of the guest"
                    + " walk: the shadow grants writes the guest's tables forbid", "CVE-2021-38198 (KVM)"),
    /** MIG-1: {@link Hypervisor#vmclearOnDeparture} takes the vCPU out but does not VMCLEAR its VMCS. */
    MIGRATION_WITHOUT_VMCLEAR("migration-without-vmclear", "MIG-1",
            "moves a vCPU to another pCPU without VMCLEAR on the old one: its launch state stays launched, so the new"
                    + " pCPU would VMRESUME a VMCS whose data the old logical processor may still hold (SDM §24.11.1)",
            "Xen vmx_vcpu_migrate / vmx_clear_vmcs (SDM Vol. 3C §24.11.1)"),
    /** MIG-2: {@link Hypervisor#flushVpidOnArrival} skips the INVVPID on the destination pCPU. */
    MIGRATION_WITHOUT_VPID_FLUSH("migration-without-vpid-flush", "MIG-2",
            "moves a vCPU to another pCPU without invalidating its VPID there: translations the vCPU cached on that"
                    + " pCPU before it left survive its own later INVLPGs on other pCPUs and are used again",
            "Xen vmx_do_resume (hvm_asid_flush_vcpu on migration)"),
    /** TLB-9: {@link TlbDiscipline#flushTlbMask} sends no flush IPIs. */
    FLUSH_IPI_LOCAL_ONLY("flush-ipi-local-only", "TLB-9",
            "performs a domain-wide flush (an L2-L4 mmu_update, a type change, MMUEXT_TLB_FLUSH_ALL) on the pCPU it"
                    + " runs on only: the other pCPUs of the domain's dirty CPU mask keep the translations it was for",
            "design (flush_tlb_mask reduced to flush_tlb_local)"),
    /** TLB-8: {@link TlbDiscipline#tlbflushFilter} compares the pCPU's time and the frame's stamp the wrong way. */
    TLB_CLOCK_REVERSED("tlb-clock-reversed", "TLB-8",
            "filters a type change's flush mask with the TLB-flush clock's need-flush test given the frame's stamp"
                    + " and the pCPU's last flush time swapped: pCPUs that have not flushed since the frame's last"
                    + " writable use are skipped and keep writable translations of a frame that becomes a page table",
            "design (NEED_FLUSH with cpu_stamp and lastuse_stamp swapped)"),
    /** TLB-9: {@link TlbDiscipline#joinDirtyCpumask} never adds a pCPU to a domain's mask. */
    DIRTY_MASK_NOT_UPDATED("dirty-mask-not-updated", "TLB-9",
            "never adds a pCPU to a domain's dirty CPU mask when a vCPU of the domain runs there, so domain-wide"
                    + " flushes skip pCPUs that cache the domain's translations",
            "design (context_switch without cpumask_set_cpu on dirty_cpumask)"),
    /**
     * BUD-4: {@code PvOps.pteWrite(BootStage, Platform)} (package {@code guest}) routes
     * the direct-mode {@code set_pte} to a plain store. A guest-side fault: a pv-ops routing slip of the kernel that
     * runs on this hypervisor state, which carries it as configuration like the others.
     */
    SET_PTE_TRAPPED_NOT_HYPERCALL("set-pte-trapped-not-hypercall", "BUD-4",
            "the direct-mode kernel's set_pte writes the entry with a plain store through the direct map instead of"
                    + " mmu_update: the store faults on the read-only page table, exits and is emulated (PTW-1) —"
                    + " correct, but a #PF exit and an emulation where the design pays one hypercall", "design"),
    /** IPI-3: {@link FlushIpis#validatesAfterFlushAck} installs and validates the new type before the acks. */
    VALIDATE_BEFORE_FLUSH_ACK("validate-before-flush-ack", "IPI-3",
            "installs and validates a frame's new page-table type as soon as the type change's flush IPIs are sent,"
                    + " not after every target acknowledged: until its handler runs, a target pCPU keeps a writable"
                    + " translation of a frame that is already a validated page table, and its guest can write through"
                    + " it into the table", "Xen _get_page_type (flush_mask before the cmpxchg that installs the type;"
                    + " XSA-401's type-change race)"),
    /** IPI-2: {@link FlushIpis#awaitsFlushAcks} lets the hypercall return with its flush IPIs unhandled. */
    IPI_ACK_NOT_AWAITED("ipi-ack-not-awaited", "IPI-2",
            "sends the flush IPIs a hypercall owes and returns to the guest without waiting for their"
                    + " acknowledgements: the target pCPUs keep translations the hypercall removed after it returned",
            "design (flush_area_mask without its spin on flush_cpumask)"),
    /** TYP-8: {@link PreemptibleValidation#holdsTypeDuringValidation} validates without holding the new type. */
    PARTIAL_VALIDATION_TYPE_NOT_HELD("partial-validation-type-not-held", "TYP-8",
            "validates an L2-L4 table entry by entry without holding its new type meanwhile (the frame keeps its old"
                    + " type and count 0 until the last entry): a vCPU on another pCPU takes a writable reference to"
                    + " the frame in between, and the table is then validated with a writable mapping of itself",
            "XSA-401 (a type change racing a reference taken on another pCPU; XSA-299's restartable validation)"),
    /** MU-8: {@link MmuBatch#continuation} re-issues a preempted batch from one request too far. */
    MMU_UPDATE_CONTINUATION_LOSES_ENTRY("mmu-update-continuation-loses-entry", "MU-8",
            "builds a preempted mmu_update batch's continuation from the wrong index: the request pointer is"
                    + " advanced one request past the requests done and the count is one less, so the request at the"
                    + " preemption point is never applied while the batch reports success",
            "continuation-argument bugs of Xen's preemptible hypercalls (a wrong start index on re-entry)"),
    /** PRE-3: {@link SwitchMmu#switchMmu} flushes the caller's pCPU only, not the pCPUs its siblings ran on. */
    SWITCH_MMU_SIBLING_NOT_FLUSHED("switch-mmu-sibling-not-flushed", "PRE-3",
            "pauses the other vCPUs and loads the new root into each one's CR3, but invalidates the domain's VPIDs on"
                    + " the caller's pCPU only: a sibling that ran on another pCPU resumes there with the translations"
                    + " and paging-structure-cache entries it cached through the shadow tables",
            "design (flush_tlb_local where flush_tlb_mask(d->dirty_cpumask) is due)"),
    /** GNT-5: {@link GrantTables#unmapGrantRef} clears the PTE but flushes no TLB. */
    GRANT_UNMAP_NO_FLUSH("grant-unmap-no-flush", "GNT-5",
            "unmaps a grant (clears the PTE, drops the references) without flushing the mapping domain's TLBs: a"
                    + " cached translation of the other domain's frame survives the unmap, after which the granting"
                    + " domain may reuse or free the frame", "XSA-style (grant unmap without TLB flush, e.g. XSA-224's"
                    + " class of gnttab unmap bugs)"),
    /** GNT-2: {@link GrantTables#mapGrantRef} does not refuse a writable mapping of a read-only grant. */
    GRANT_READONLY_MAPPED_WRITABLE("grant-readonly-mapped-writable", "GNT-2",
            "maps a grant the granting domain marked GTF_readonly with a writable PTE when the mapper asks for a"
                    + " writable mapping: the mapping domain writes a frame it was only allowed to read",
            "Xen grant_table.c map_grant_ref (\"write-pin of r/o grant entry\" check)"),
    /** EVT-5: {@link EventChannels#send} marks the peer's port number in the sender's domain. */
    EVTCHN_SEND_TO_FOREIGN_PORT("evtchn-send-to-foreign-port", "EVT-5",
            "delivers an interdomain send to the wrong domain: the port number of the bound peer is marked pending in"
                    + " the sender's own domain, a port it was never bound to, and the peer never sees the event",
            "design (evtchn_send using the local domain for the remote port)"),
    /**
     * BOOT-2: {@code HypervisorDetection.signatureIs} (package {@code guest}) compares only EBX, the first four of the
     * signature's twelve bytes. A guest-side fault, carried by the hypervisor state like the one above.
     */
    DETECT_SIGNATURE_PREFIX_MATCH("detect-signature-prefix-match", "BOOT-2",
            "the kernel's CPUID scan accepts a signature that matches a known one only in its first four bytes"
                    + " (EBX), so \"XenVMMXenVMX\" or \"XenV\" and garbage is taken for Xen and the kernel issues"
                    + " Xen's WRMSR and hypercalls to whatever hypervisor answered",
            "design (memcmp over 4 bytes instead of 12 in hypervisor_cpuid_base)"),
    /** EMU-1: {@link DeviceIntercepts#msrBitmap}. */
    X2APIC_MSR_PASSTHROUGH("x2apic-msr-passthrough", "EMU-1",
            "the merged MSR bitmap passes the x2APIC TPR, EOI and SELF_IPI MSRs (808H, 80BH, 83FH) through, so the"
                    + " guest reaches the physical local APIC instead of the emulated one",
            "KVM CVE-2019-3887 (nested x2APIC MSR bitmap merged without intercepting the x2APIC range)"),
    /** EMU-2: {@link DeviceIntercepts#ioBitmaps}. */
    IO_PORT_RANGE_NOT_INTERCEPTED("io-port-range-not-intercepted", "EMU-2",
            "the I/O bitmaps leave the emulated UART's ports 3F8H-3FFH open, so the guest's port I/O there reaches"
                    + " the physical device",
            "design (an I/O bitmap built with a range cleared, the class of Xen's port 0x80/0xED pass-through)"),
    /** BLK-4: {@link BlkBack} serves a request without unmapping its data grant. */
    BLKBACK_DATA_MAPPING_LEAKED("blkback-data-mapping-leaked", "BLK-4",
            "the block back-end answers a request but keeps the front-end's data page mapped: it can still read and"
                    + " write the page after the response, the front-end cannot end the grant (GNT-7), and the next"
                    + " request's mapping finds the slot taken",
            "design, after the class of Linux xen-blkback bugs that kept foreign grant mappings past a request's"
                    + " completion (its persistent-grant purge and unmap-on-error paths)");

    private final String id;
    private final String rule;
    private final String description;
    private final String source;

    Fault(String id, String rule, String description, String source) {
        this.id = id;
        this.rule = rule;
        this.description = description;
        this.source = source;
    }

    /** Kebab-case, stable: the name scenarios and reports use. */
    public String id() {
        return id;
    }

    /** The rule this fault breaks (a rule ID of the notes or docs). */
    public String rule() {
        return rule;
    }

    /** What the faulty hypervisor does instead. */
    public String description() {
        return description;
    }

    /** The real bug it models, or "design" for a fault specific to this project's design. */
    public String source() {
        return source;
    }

    /** The fault with id {@code id}, or null. */
    public static Fault byId(String id) {
        for (Fault f : values()) {
            if (f.id.equals(id)) {
                return f;
            }
        }
        return null;
    }
}
