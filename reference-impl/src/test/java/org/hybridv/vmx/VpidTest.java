package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.vmx.VmxFixture.*;

import java.util.List;
import java.util.Map;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Virtual-processor identifiers (Intel SDM Vol. 3C §28.1, §28.3.3.1) and INVVPID (§28.3.3.3 and the INVVPID
 * instruction reference). The TLB is adversarial: it keeps every translation the SDM does not require it to drop, so
 * "survives" below means "the SDM does not make the processor drop it".
 */
class VpidTest {
    /** VMCS A (VPID 1) and VMCS B (VPID 2) run the same guest: same CR3, same tables. */
    private static Vmcs vmcsWithVpid(int vpid) {
        return vmcs(vpid(vpid), guest());
    }

    private static VmxProcessor switchTo(VmxProcessor rootP, Vmcs v, boolean launched) {
        assertThat(rootP.mode()).isEqualTo(VmxMode.ROOT);
        return new VmxProcessor(rootP.machine(), VmxMode.ROOT, v, launched);
    }

    /** The hypervisor remaps LINEAR's PTE from frame 9 to frame 10 (a plain store in root operation). */
    private static VmxProcessor remap(VmxProcessor rootP) {
        X86Machine m = rootP.machine();
        return rootP.withMachine(m.withMemory(m.memory().writePhysical(PTE_AT, 0xA007L)));
    }

    @Test
    @DisplayName("SDM 28.1, 28.3.1: a translation cached under VPID 1 is not used under VPID 2; it survives exit and re-entry")
    void translationsAreTaggedByVpid() {
        Vmcs a = vmcsWithVpid(1);
        Vmcs b = vmcsWithVpid(2);
        VmxProcessor p = launch(root(plainWords(), a, TlbPolicy.ADVERSARIAL, 0));
        GuestStep first = read(p, LINEAR);
        assertThat(retired(first)).isEqualTo(PAGE_DATA);
        assertThat(first.processor().machine().tlb().entries()).extracting(TlbEntry::tag)
                .containsExactly(new TlbTag(1, TlbTag.NO_EPT));

        VmxProcessor out = exitByCpuid(first.processor());
        assertThat(out.machine().tlb().entries()).as("enable VPID = 1: the exit does not flush (SDM 28.3.3.1)")
                .hasSize(1);
        VmxProcessor remapped = remap(out);
        Vmcs savedA = remapped.vmcs();

        // VMCS B, VPID 2: the VPID-1 translation must not serve it; a fresh walk finds frame 10.
        VmxProcessor inB = launch(switchTo(remapped, b, false));
        GuestStep readB = read(inB, LINEAR);
        assertThat(retired(readB)).as("VPID 2 walks the current tables").isEqualTo(OTHER_PAGE_DATA);

        // Back to VMCS A with VMRESUME: its VPID-1 translation survived both transitions and is still used.
        VmxProcessor outB = exitByCpuid(readB.processor());
        VmxProcessor inA = enter(switchTo(outB, savedA, true), true);
        assertThat(inA.machine().tlb().entries()).extracting(TlbEntry::tag)
                .contains(new TlbTag(1, TlbTag.NO_EPT), new TlbTag(2, TlbTag.NO_EPT));
        assertThat(retired(read(inA, LINEAR))).as("the stale VPID-1 translation (frame 9) is still in use")
                .isEqualTo(PAGE_DATA);
    }

    @Test
    @DisplayName("SDM 28.3.3.1: without enable VPID, VM entry and VM exit invalidate the mappings of VPID 0000H, and only those")
    void withoutVpidEntryAndExitFlushVpidZero() {
        TlbEntry host = TlbEntry.linear(TlbTag.NATIVE, 0, false, 0x7000_0000L, PageSize.SIZE_4K, 0x30000L,
                Rights.UNRESTRICTED, true);
        TlbEntry other = TlbEntry.linear(new TlbTag(5, TlbTag.NO_EPT), 0, false, LINEAR_PAGE, PageSize.SIZE_4K,
                0x9000L, Rights.UNRESTRICTED, true);
        VmxProcessor p = root(plainWords(), vmcs(ExecutionControls.none(), guest()), TlbPolicy.ADVERSARIAL, 0);
        p = p.withMachine(p.machine().withTlb(Tlb.empty(TlbPolicy.ADVERSARIAL).fill(host).fill(other)));

        VmxProcessor in = launch(p);
        assertThat(in.machine().tlb().entries()).as("entry dropped the host's VPID-0 entry").containsExactly(other);
        GuestStep r = read(in, LINEAR);
        assertThat(retired(r)).isEqualTo(PAGE_DATA);
        assertThat(r.processor().machine().tlb().entries()).extracting(TlbEntry::tag)
                .containsExactly(new TlbTag(5, TlbTag.NO_EPT), TlbTag.NATIVE);
        VmxProcessor out = exitByCpuid(r.processor());
        assertThat(out.machine().tlb().entries()).as("the exit dropped the guest's VPID-0 entry")
                .containsExactly(other);
    }

    // ---- INVVPID ----

    private static final long PAGE_A = 0x1000L;
    private static final long PAGE_B = 0x2000L;
    private static final TlbEntry A_VPID1 = linear(1, 0, false, PAGE_A);
    private static final TlbEntry B_VPID1_GLOBAL = linear(1, 0, true, PAGE_B);
    private static final TlbEntry A_VPID1_PCID5 = linear(1, 5, false, PAGE_A);
    private static final TlbEntry A_VPID1_COMBINED = new TlbEntry(new TlbTag(1, EP4TA), 0, false, PAGE_A,
            PageSize.SIZE_4K, 0x29000L, Rights.UNRESTRICTED, true, 7);
    private static final TlbEntry A_VPID2 = linear(2, 0, false, PAGE_A);
    private static final TlbEntry A_VPID0 = linear(0, 0, false, PAGE_A);
    private static final List<TlbEntry> ALL = List.of(A_VPID1, B_VPID1_GLOBAL, A_VPID1_PCID5, A_VPID1_COMBINED,
            A_VPID2, A_VPID0);

    private static TlbEntry linear(int vpid, int pcid, boolean global, long page) {
        return TlbEntry.linear(new TlbTag(vpid, TlbTag.NO_EPT), pcid, global, page, PageSize.SIZE_4K, 0x9000L,
                Rights.UNRESTRICTED, true);
    }

    private static VmxProcessor rootWithTlb() {
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
        for (TlbEntry e : ALL) {
            tlb = tlb.fill(e);
        }
        VmxProcessor p = root(plainWords(), vmcsWithVpid(1), TlbPolicy.ADVERSARIAL, 0);
        p = p.withMachine(p.machine().withTlb(tlb));
        assertThat(p.machine().tlb().entries()).as("fixture: all six entries coexist").hasSize(6);
        return p;
    }

    private static List<TlbEntry> afterInvvpid(InvvpidType type, int vpid, long linear) {
        RootStep s = Invvpid.execute(rootWithTlb(), type, vpid, linear);
        assertThat(s.outcome()).isEqualTo(new RootOutcome.Succeeded());
        return s.processor().machine().tlb().entries();
    }

    @Test
    @DisplayName("SDM INVVPID type 0 (individual-address): the VPID's mappings of that address go, for all PCIDs and EP4TAs")
    void invvpidIndividualAddress() {
        assertThat(afterInvvpid(InvvpidType.INDIVIDUAL_ADDRESS, 1, PAGE_A + 0x5A8))
                .containsExactly(B_VPID1_GLOBAL, A_VPID2, A_VPID0);
        assertThat(afterInvvpid(InvvpidType.INDIVIDUAL_ADDRESS, 1, PAGE_B))
                .as("a global translation of the address goes too")
                .containsExactly(A_VPID1, A_VPID1_PCID5, A_VPID1_COMBINED, A_VPID2, A_VPID0);
    }

    @Test
    @DisplayName("SDM INVVPID type 1 (single-context): every mapping of the VPID goes, global ones included")
    void invvpidSingleContext() {
        assertThat(afterInvvpid(InvvpidType.SINGLE_CONTEXT, 1, 0)).containsExactly(A_VPID2, A_VPID0);
    }

    @Test
    @DisplayName("SDM INVVPID type 2 (all-context): every mapping of every VPID except VPID 0000H goes")
    void invvpidAllContext() {
        assertThat(afterInvvpid(InvvpidType.ALL_CONTEXT, 0, 0)).as("the descriptor's VPID is ignored, even 0")
                .containsExactly(A_VPID0);
        assertThat(afterInvvpid(InvvpidType.ALL_CONTEXT, 7, 0x8000_0000_0000L)).containsExactly(A_VPID0);
    }

    @Test
    @DisplayName("SDM INVVPID type 3 (single-context retaining globals): the VPID's mappings go except global translations")
    void invvpidSingleContextRetainingGlobals() {
        assertThat(afterInvvpid(InvvpidType.SINGLE_CONTEXT_RETAINING_GLOBALS, 1, 0))
                .containsExactly(B_VPID1_GLOBAL, A_VPID2, A_VPID0);
    }

    @Test
    @DisplayName("SDM INVVPID: VPID 0000H with types 0, 1 and 3, or a non-canonical address with type 0 → VMfailValid 28")
    void invvpidInvalidOperands() {
        VmxProcessor p = rootWithTlb();
        for (InvvpidType t : new InvvpidType[] {InvvpidType.INDIVIDUAL_ADDRESS, InvvpidType.SINGLE_CONTEXT,
            InvvpidType.SINGLE_CONTEXT_RETAINING_GLOBALS}) {
            RootStep s = Invvpid.execute(p, t, 0, PAGE_A);
            assertThat(s.outcome()).as("%s with VPID 0", t).isInstanceOf(RootOutcome.VmFailValid.class);
            assertThat(((RootOutcome.VmFailValid) s.outcome()).error()).isEqualTo(28);
            assertThat(s.processor()).as("nothing invalidated").isEqualTo(p);
        }
        RootStep nonCanonical = Invvpid.execute(p, InvvpidType.INDIVIDUAL_ADDRESS, 1, 0x0000_8000_0000_0000L);
        assertThat(nonCanonical.outcome()).isInstanceOf(RootOutcome.VmFailValid.class);
        assertThat(((RootOutcome.VmFailValid) nonCanonical.outcome()).error()).isEqualTo(28);
        assertThat(nonCanonical.processor()).isEqualTo(p);
        assertThat(Invvpid.execute(p, InvvpidType.SINGLE_CONTEXT, 1, 0x0000_8000_0000_0000L).outcome())
                .as("single-context ignores the linear address").isEqualTo(new RootOutcome.Succeeded());
    }

    @Test
    @DisplayName("SDM 28.3.3.3: after INVVPID single-context the guest's next access walks the current tables")
    void invvpidMakesTheGuestSeeItsNewTables() {
        Map<Long, Long> words = plainWords();
        VmxProcessor p = launch(root(words, vmcsWithVpid(1), TlbPolicy.ADVERSARIAL, 0));
        VmxProcessor out = exitByCpuid(read(p, LINEAR).processor());
        VmxProcessor remapped = remap(out);
        assertThat(retired(read(enter(remapped, true), LINEAR))).as("stale before INVVPID").isEqualTo(PAGE_DATA);
        RootStep inv = Invvpid.execute(remapped, InvvpidType.SINGLE_CONTEXT, 1, 0);
        assertThat(retired(read(enter(inv.processor(), true), LINEAR))).isEqualTo(OTHER_PAGE_DATA);
    }
}
