package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * Test helper: a host and one guest on a 128-frame machine. Every address and entry value below is written out by
 * hand from the Intel SDM (Vol. 3A §4.5 for the guest's IA-32e paging, Vol. 3C §28.2.2 for EPT), never computed by
 * the code under test.
 *
 * <pre>
 * LINEAR = 0x80_8060_45A8 = (1 &lt;&lt; 39) | (2 &lt;&lt; 30) | (3 &lt;&lt; 21) | (4 &lt;&lt; 12) | 0x5A8
 *          (PML4 index 1, PDPT index 2, PD index 3, PT index 4, offset 0x5A8)
 *
 * Without EPT (guest-physical = host-physical):
 *   guest CR3 = 0x1000 (PML4 in frame 1)
 *   PML4E at 0x1000 + 1*8 = 0x1008 = 0x2007   (P | R/W | U/S, PDPT at 0x2000)
 *   PDPTE at 0x2000 + 2*8 = 0x2010 = 0x3007   (PD at 0x3000)
 *   PDE   at 0x3000 + 3*8 = 0x3018 = 0x4007   (PT at 0x4000)
 *   PTE   at 0x4000 + 4*8 = 0x4020 = 0x9007   (page at 0x9000)
 *   data  at 0x9000 + 0x5A8 = 0x95A8 = PAGE_DATA;   0xA5A8 (frame 10) = OTHER_PAGE_DATA
 *   host CR3 = 0x14000 (frame 20), nothing mapped there: the host makes no accesses in these tests.
 *
 * With EPT: guest-physical frame g lives in host frame 32 + g (0x20 + g).
 *   EPT PML4 at host 0x64000 (frame 100), PDPT 0x65000, PD 0x66000, PT 0x67000; every GPA used is below 2 MiB, so the
 *   EPT PML4, PDPT and PD indices are 0 and the EPT PT index is the guest frame number.
 *   EPTP    = 0x6401E = 0x64000 | (3 &lt;&lt; 3) (walk length 4) | 6 (WB)        (SDM table 24-8)
 *   EPTP_AD = 0x6405E = EPTP | (1 &lt;&lt; 6) (accessed/dirty flags enabled)
 *   EPT PML4E at 0x64000 = 0x65007   (R | W | X, next table at 0x65000)      (SDM table 28-1)
 *   EPT PDPTE at 0x65000 = 0x66007
 *   EPT PDE   at 0x66000 = 0x67007
 *   EPT PTE for GPA frame g at 0x67000 + 8g = ((0x20 + g) &lt;&lt; 12) | 0x30 (memory type 6 = WB in bits 5:3) | 7 (RWX)
 *     g = 1: 0x67008 = 0x21037    g = 2: 0x67010 = 0x22037    g = 3: 0x67018 = 0x23037
 *     g = 4: 0x67020 = 0x24037    g = 9: 0x67048 = 0x29037    g = 10: 0x67050 = 0x2A037
 *   so the guest's PML4E is at host 0x21008, PDPTE at 0x22010, PDE at 0x23018, PTE at 0x24020, data at 0x295A8, the
 *   second page's data at 0x2A5A8.
 * </pre>
 */
final class VmxFixture {
    private VmxFixture() {}

    static final int FRAMES = 128;
    static final int MAXPHYADDR = 36;
    static final long LINEAR = 0x80_8060_45A8L;
    static final long LINEAR_PAGE = 0x80_8060_4000L;

    static final long PML4E_AT = 0x1008L;
    static final long PDPTE_AT = 0x2010L;
    static final long PDE_AT = 0x3018L;
    static final long PTE_AT = 0x4020L;
    static final long PML4E = 0x2007L;
    static final long PDPTE = 0x3007L;
    static final long PDE = 0x4007L;
    static final long PTE = 0x9007L;
    static final long DATA_AT = 0x95A8L;
    static final long OTHER_DATA_AT = 0xA5A8L;
    static final long PAGE_DATA = 0x1111_1111L;
    static final long OTHER_PAGE_DATA = 0x2222_2222L;
    static final long GUEST_PML4_FRAME = 1;
    static final long HOST_PML4_FRAME = 20;
    static final long GUEST_RIP = 0x40_1000L;
    static final long HOST_RIP = 0xFFFF_8000_0010_0000L;

    static final long EPTP = 0x6401EL;
    static final long EPTP_AD = 0x6405EL;
    static final long EP4TA = 0x64000L;
    static final long EPT_PML4E_AT = 0x64000L;
    static final long EPT_PDPTE_AT = 0x65000L;
    static final long EPT_PDE_AT = 0x66000L;
    static final long EPT_PML4E = 0x65007L;
    static final long EPT_PDPTE = 0x66007L;
    static final long EPT_PDE = 0x67007L;
    static final long EPT_PTE1_AT = 0x67008L;
    static final long EPT_PTE2_AT = 0x67010L;
    static final long EPT_PTE3_AT = 0x67018L;
    static final long EPT_PTE4_AT = 0x67020L;
    static final long EPT_PTE9_AT = 0x67048L;
    static final long EPT_PTE10_AT = 0x67050L;
    static final long EPT_PTE1 = 0x21037L;
    static final long EPT_PTE2 = 0x22037L;
    static final long EPT_PTE3 = 0x23037L;
    static final long EPT_PTE4 = 0x24037L;
    static final long EPT_PTE9 = 0x29037L;
    static final long EPT_PTE10 = 0x2A037L;
    /** Host-physical addresses of the guest's entries and data under EPT. */
    static final long HOST_PTE_AT = 0x24020L;
    static final long HOST_DATA_AT = 0x295A8L;
    static final long HOST_OTHER_DATA_AT = 0x2A5A8L;

    /** The words of the machine without EPT: guest tables and data, identity guest-physical. */
    static Map<Long, Long> plainWords() {
        Map<Long, Long> w = new LinkedHashMap<>();
        w.put(PML4E_AT, PML4E);
        w.put(PDPTE_AT, PDPTE);
        w.put(PDE_AT, PDE);
        w.put(PTE_AT, PTE);
        w.put(DATA_AT, PAGE_DATA);
        w.put(OTHER_DATA_AT, OTHER_PAGE_DATA);
        return w;
    }

    /** The words of the machine with EPT: the EPT structures and the guest's tables and data in host frames 32 + g. */
    static Map<Long, Long> eptWords() {
        Map<Long, Long> w = new LinkedHashMap<>();
        w.put(EPT_PML4E_AT, EPT_PML4E);
        w.put(EPT_PDPTE_AT, EPT_PDPTE);
        w.put(EPT_PDE_AT, EPT_PDE);
        w.put(EPT_PTE1_AT, EPT_PTE1);
        w.put(EPT_PTE2_AT, EPT_PTE2);
        w.put(EPT_PTE3_AT, EPT_PTE3);
        w.put(EPT_PTE4_AT, EPT_PTE4);
        w.put(EPT_PTE9_AT, EPT_PTE9);
        w.put(EPT_PTE10_AT, EPT_PTE10);
        w.put(0x21008L, PML4E);
        w.put(0x22010L, PDPTE);
        w.put(0x23018L, PDE);
        w.put(HOST_PTE_AT, PTE);
        w.put(HOST_DATA_AT, PAGE_DATA);
        w.put(HOST_OTHER_DATA_AT, OTHER_PAGE_DATA);
        return w;
    }

    static PhysicalMemory memory(Map<Long, Long> words) {
        PhysicalMemory m = PhysicalMemory.ofFrames(FRAMES);
        for (Map.Entry<Long, Long> e : words.entrySet()) {
            m = m.writePhysical(e.getKey(), e.getValue());
        }
        return m;
    }

    /** The host: IA-32e paging, CR3 = 0x14000, CPL 0. */
    static CpuState host() {
        return CpuState.longMode(HOST_PML4_FRAME, MAXPHYADDR);
    }

    /** The guest: IA-32e paging, CR3 = 0x1000, CPL 0, WP/SMEP/SMAP/NXE off. */
    static CpuState guest() {
        return CpuState.longMode(GUEST_PML4_FRAME, MAXPHYADDR);
    }

    static Vmcs vmcs(ExecutionControls controls, CpuState guest) {
        return new Vmcs(controls, new GuestState(guest, GUEST_RIP), new HostState(host(), HOST_RIP), null);
    }

    /** Controls with "activate secondary controls" and the given secondary controls. */
    static ExecutionControls secondary(SecondaryControls s) {
        return ExecutionControls.none().withPrimary(PrimaryControls.NONE.withActivateSecondaryControls(true))
                .withSecondary(s);
    }

    /** Controls with EPT enabled (activate secondary controls, enable EPT) and EPTP {@code eptp}. */
    static ExecutionControls ept(long eptp) {
        return secondary(SecondaryControls.NONE.withEnableEpt(true)).withEptp(eptp);
    }

    /** Controls with VPID enabled and VPID {@code vpid}. */
    static ExecutionControls vpid(int vpid) {
        return secondary(SecondaryControls.NONE.withEnableVpid(true)).withVpid(vpid);
    }

    /** Controls with EPT and VPID enabled. */
    static ExecutionControls eptAndVpid(long eptp, int vpid) {
        return secondary(SecondaryControls.NONE.withEnableEpt(true).withEnableVpid(true)).withEptp(eptp)
                .withVpid(vpid);
    }

    /** A processor in root operation running the host ({@code hostCr2} in CR2), {@code vmcs} current and clear. */
    static VmxProcessor root(Map<Long, Long> words, Vmcs vmcs, TlbPolicy policy, long hostCr2) {
        X86Machine m = new X86Machine(memory(words), host().withCr2(hostCr2), Tlb.empty(policy));
        return VmxProcessor.root(m, vmcs);
    }

    /** VMLAUNCH ({@code resume} false) or VMRESUME, which must succeed. */
    static VmxProcessor enter(VmxProcessor p, boolean resume) {
        EntryStep s = VmEntries.enter(p, resume);
        assertThat(s.outcome()).as("VM entry").isInstanceOf(EntryOutcome.Entered.class);
        assertThat(s.processor().mode()).isEqualTo(VmxMode.NON_ROOT);
        return s.processor();
    }

    static VmxProcessor launch(VmxProcessor p) {
        return enter(p, false);
    }

    /** A processor in non-root operation after VMLAUNCH of the given machine and guest. */
    static VmxProcessor launched(Map<Long, Long> words, ExecutionControls c, CpuState guest, TlbPolicy policy) {
        return launch(root(words, vmcs(c, guest), policy, 0));
    }

    static GuestStep run(VmxProcessor p, GuestInstruction insn) {
        return NonRoot.execute(p, insn);
    }

    static GuestStep read(VmxProcessor p, long linear) {
        return NonRoot.execute(p, new GuestInstruction.MemoryAccess(Access.read(linear)));
    }

    static GuestStep write(VmxProcessor p, long linear, long value) {
        return NonRoot.execute(p, new GuestInstruction.MemoryAccess(Access.write(linear, value)));
    }

    /** The exit information of a step that must have been a VM exit. */
    static ExitInformation exited(GuestStep s) {
        assertThat(s.outcome()).as("outcome").isInstanceOf(GuestOutcome.Exited.class);
        assertThat(s.processor().mode()).as("mode after a VM exit").isEqualTo(VmxMode.ROOT);
        return ((GuestOutcome.Exited) s.outcome()).exit();
    }

    /** The value of a step that must have retired in the guest. */
    static long retired(GuestStep s) {
        assertThat(s.outcome()).as("outcome").isInstanceOf(GuestOutcome.Retired.class);
        assertThat(s.processor().mode()).as("mode after a retired instruction").isEqualTo(VmxMode.NON_ROOT);
        return ((GuestOutcome.Retired) s.outcome()).value();
    }

    /** Exits through CPUID (SDM 25.1.2: CPUID always exits), the usual "exit with no guest change". */
    static VmxProcessor exitByCpuid(VmxProcessor p) {
        GuestStep s = run(p, new GuestInstruction.Cpuid(0, 0));
        assertThat(exited(s).reason()).isEqualTo(ExitReason.CPUID);
        return s.processor();
    }
}
