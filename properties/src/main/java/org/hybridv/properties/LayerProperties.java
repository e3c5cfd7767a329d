package org.hybridv.properties;

import java.util.List;
import java.util.Optional;

/**
 * The layer properties: one jqwik class per rule family of the reference, each judging every generated case by the
 * rule restated over observable state (docs/properties.md, "The layer properties"). {@code mvn verify} runs them at
 * their CI budget; {@code hybridv check} runs them too ({@link LayerCampaign}), so that a slip in the reference that
 * only a layer property sees makes the checker fail without any hand-written scenario.
 */
public final class LayerProperties {
    private LayerProperties() {}

    /**
     * A layer property class under the name {@code hybridv check --property} knows it by.
     *
     * @param name        the kebab-case name of the class without {@code Properties}
     * @param type        the jqwik class
     * @param layer       the layer of the reference it judges (x86, vmx, ept, xen, devices, guest)
     * @param description what it checks, one line
     */
    public record Layer(String name, Class<?> type, String layer, String description) {}

    private static final List<Layer> ALL = List.of(
            layer(PageWalkProperties.class, "x86", "the IA-32e walk and its access rights (SDM Vol. 3A §4.5–4.7)"),
            layer(TlbProperties.class, "x86", "a stale translation is never used after the invalidation that"
                    + " covers it (SDM Vol. 3A §4.10)"),
            layer(TlbScopeProperties.class, "x86", "each invalidation drops exactly its scope (SDM Vol. 3A"
                    + " §4.10.4.1, Vol. 3C §28.3.3)"),
            layer(PagingStructureCacheProperties.class, "x86", "walks through paging-structure caches (SDM Vol. 3A"
                    + " §4.10.3.2)"),
            layer(ProcessorProperties.class, "x86", "MOV to CR0/CR3/CR4, WRMSR EFER, INVLPG and paging off (SDM"
                    + " Vol. 3A §2.5, §4.10)"),
            layer(VmEntryProperties.class, "vmx", "VMLAUNCH/VMRESUME checks in the SDM's order (SDM Vol. 3C ch. 26)"),
            layer(GuestInstructionProperties.class, "vmx", "faults before exits, exits with their information (SDM"
                    + " Vol. 3C §25.1)"),
            layer(CrAccessExitProperties.class, "vmx", "control-register accesses and their exits (SDM Vol. 3C"
                    + " §25.1.3)"),
            layer(IoMsrExitProperties.class, "vmx", "I/O and MSR exits from the bitmaps' raw bits (SDM Vol. 3C"
                    + " §25.1.3, §24.6.4, §24.6.9)"),
            layer(PageFaultExitProperties.class, "vmx", "which #PF exits: the exception bitmap and PFEC (SDM Vol. 3C"
                    + " §24.6.3, §25.2)"),
            layer(BitmapProperties.class, "vmx", "the I/O and MSR bitmaps' bit arrays: each bit as last written,"
                    + " quadwords, equality (SDM Vol. 3C §24.6.4, §24.6.9)"),
            layer(InveptProperties.class, "vmx", "INVEPT's types and descriptors: VMfailValid 28, or exactly the"
                    + " combined mappings of its scope gone (§28.3.3.1)"),
            layer(VpidInvalidationProperties.class, "vmx", "VPIDs separate guests; INVVPID and INVEPT scopes (SDM"
                    + " Vol. 3C §28.3)"),
            layer(EptProperties.class, "ept", "EPT violations and misconfigurations (SDM Vol. 3C §28.2)"),
            layer(EptRuleProperties.class, "ept", "every corner of the EPT entry rules: each RWX value, memory"
                    + " type, reserved bit, level, page size; exit reason and whole qualification (§28.2.3)"),
            layer(TwoDimensionalProperties.class, "ept", "the 2-D walk refines the 1-D walk (SDM Vol. 3C §28.2.1)"),
            layer(DirectPagingProperties.class, "xen", "page-table integrity and reference counts after every"
                    + " hypercall (TYP, L1-, LN-, MU-, MX- rules)"),
            layer(DomainFlushProperties.class, "xen", "where each TLB obligation lands: every pCPU's TLB, the dirty"
                    + " masks and the flush clock (TLB-1, TLB-6, TLB-8, TLB-9, MX-5, MX-7, UVA-2)"),
            layer(PinValidationProperties.class, "xen", "pinning validated entry by entry (MX-1, TYP-8, PRO-1..3)"),
            layer(MmuBatchProperties.class, "xen", "the batched mmu_update and its preemption (MU-7, MU-8)"),
            layer(ShadowPagingProperties.class, "xen", "shadow paging under an adversarial guest (SH-1..SH-4)"),
            layer(ShadowGuestProperties.class, "xen", "shadow paging is invisible to the guest (SH-1..SH-4)"),
            layer(GuestCr3Properties.class, "xen", "a guest reads back the CR3 it loaded in every mode (SH-6)"),
            layer(SwitchMmuProperties.class, "xen", "SWITCH_MMU refused without a change or accepted with every"
                    + " invariant (PRE-, POST-)"),
            layer(PagingOffBootProperties.class, "xen", "booting with paging off in every MMU mode: the SDM 9.8.5"
                    + " faults, the registers the guest wrote, CR0.WP forced (MISC-1), MX-3 and SH-1 at paging on"
                    + " (BOOT-1)"),
            layer(ContextSwitchProperties.class, "xen", "each guest keeps its CR2 and PKRU across vCPU switches"
                    + " (CTX-1)"),
            layer(GrantTableProperties.class, "xen", "every grant_table_op by its rule: verdict, errno, grant"
                    + " flags, the mapping, the references (GNT-1..GNT-3, GNT-5, GNT-6)"),
            layer(EventChannelProperties.class, "xen", "every event_channel_op by its rule: verdict, errno, port"
                    + " tables, pending, mask, selector and upcall bits (EVT-1..EVT-8)"),
            layer(NewVcpuProperties.class, "xen", "a vCPU created while the machine runs: its VPID (CTL-5), CR0.WP"
                    + " forced (MISC-1), the shadow root (SH-1), guest_table (MX-3)"),
            layer(PvSetupProperties.class, "xen", "the PV interface's setup calls by their rules: add_to_physmap of"
                    + " the shared-info page and the grant table, the callback vector (EVT-1, GNT-1, EVT-9)"),
            layer(BlockBackProperties.class, "xen", "the block back-end's answers, disk and pages, ring indices,"
                    + " notification and grants left behind (BLK-2, BLK-4, BLK-5, BLK-7, BLK-8)"),
            layer(CpuidProperties.class, "devices", "CPUID answers as the hypervisor's identity says (BOOT-2,"
                    + " BOOT-7)"),
            layer(DeviceEmulationProperties.class, "devices", "the emulated x2APIC, UART, ATA disk and KVM MSRs"
                    + " (EMU rules)"),
            layer(ApicInterruptProperties.class, "devices", "the APIC timer's interrupt, EOI and PV EOI (EMU-5,"
                    + " EMU-6)"),
            layer(EventWindowProperties.class, "devices", "the upcall's way into the guest: IF and the interrupt"
                    + " window (EVT-9)"),
            layer(PvTimerProperties.class, "devices", "the single-shot timer hypercalls (TIME-2)"),
            layer(GuestTimerProperties.class, "guest", "the guest kernel's timer driver (BOOT-9, BOOT-10, EVT-10)"),
            layer(BlockFrontProperties.class, "guest", "the guest kernel's block front-end and ATA path (BLK-1,"
                    + " BLK-2, BLK-6, EMU-7)"),
            layer(PvPlatformProperties.class, "guest", "the kernel on the software-only PV platform: I3, I4, the PV"
                    + " budget BUD-11, the workload contract"));

    private static Layer layer(Class<?> type, String layer, String description) {
        return new Layer(name(type), type, layer, description);
    }

    /** {@code PageWalkProperties} → {@code page-walk}. */
    static String name(Class<?> type) {
        String s = type.getSimpleName().replaceFirst("Properties$", "");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean boundary = Character.isUpperCase(c) && i > 0 && (Character.isLowerCase(s.charAt(i - 1))
                    || i + 1 < s.length() && Character.isLowerCase(s.charAt(i + 1)));
            if (boundary) {
                b.append('-');
            }
            b.append(Character.toLowerCase(c));
        }
        return b.toString();
    }

    /** Every layer property, from the processor up to the guest kernel. */
    public static List<Layer> all() {
        return ALL;
    }

    /** The layer property named {@code name}, if there is one. */
    public static Optional<Layer> named(String name) {
        return ALL.stream().filter(l -> l.name().equals(name)).findFirst();
    }
}
