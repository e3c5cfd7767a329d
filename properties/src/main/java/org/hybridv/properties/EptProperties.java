package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.ept.Eptp;
import org.hybridv.gen.EptCase;
import org.hybridv.gen.EptCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmxSystems;
import org.hybridv.invariants.EptRules;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.TlbPolicy;

/**
 * Guest accesses under EPT (Intel SDM Vol. 3C §28.2): fewer EPT permissions never make an access succeed that EPT
 * refused (§28.2.3.2 — every EPT entry on the walk must grant the access), and an EPT misconfiguration is a property of
 * the entries, reported for whatever access reaches it (§28.2.3.1, §28.2.3.3 step 1b).
 */
class EptProperties {
    @Provide
    Arbitrary<EptCase> eptCases() {
        return JqwikChoices.arbitrary(c -> EptCases.generate(c, false));
    }

    @Provide
    Arbitrary<EptCase> permissiveGuestEptCases() {
        return JqwikChoices.arbitrary(c -> EptCases.generate(c, true));
    }

    /** Permissive-guest cases with EPT A/D enabled in half of them (EPTP bit 6, SDM Vol. 3C §24.6.11). */
    @Provide
    Arbitrary<EptCase> permissiveGuestEptCasesHalfWithEptAccessedDirty() {
        return JqwikChoices.arbitrary(c -> {
            EptCase k = EptCases.generate(c, true);
            Eptp eptp = k.eptp().withAccessedDirty(c.flag(false, 50) || k.eptp().accessedDirtyEnabled());
            return new EptCase(k.memory(), k.guest(), eptp, k.access(), k.eptEntries(), k.dataEptEntry());
        });
    }

    static ExecutionControls controls(EptCase k) {
        return VmxSystems.withEpt(ExecutionControls.none(), k.eptp());
    }

    /** The case's access by a freshly launched guest (no cached translation). */
    static GuestStep run(EptCase k) {
        return NonRoot.execute(VmxSystems.launch(k.machine(TlbPolicy.NONE), controls(k)),
                new GuestInstruction.MemoryAccess(k.access()));
    }

    static String classify(GuestOutcome o) {
        if (o instanceof GuestOutcome.Retired) {
            return "success";
        }
        if (o instanceof GuestOutcome.Exited x) {
            ExitReason r = x.exit().reason();
            return r == ExitReason.EPT_VIOLATION ? "EPT violation"
                    : r == ExitReason.EPT_MISCONFIG ? "EPT misconfiguration" : "other exit";
        }
        return "guest exception";
    }

    @Property(seed = Budget.SEED, tries = 1000)
    void removingAnEptPermissionFromAnyEntryOnTheWalkNeverTurnsAViolationIntoASuccess(
            @ForAll("eptCases") EptCase k) {
        GuestStep before = run(k);
        String outcome = classify(before.outcome());
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(cov -> {
            cov.check("success").percentage(p -> p >= 15);
            cov.check("EPT violation").percentage(p -> p >= 20);
            cov.check("EPT misconfiguration").percentage(p -> p >= 3);
            cov.check("guest exception").percentage(p -> p >= 5);
        });
        if (!outcome.equals("EPT violation")) {
            return;
        }
        PhysicalMemory m = k.memory();
        for (long at : k.eptEntries()) {
            long entry = m.readPhysical(at);
            for (int bit = 0; bit < 3; bit++) {
                if ((entry & (1L << bit)) == 0) {
                    continue;
                }
                EptCase fewer = k.withMemory(m.writePhysical(at, entry & ~(1L << bit)));
                String after = classify(run(fewer).outcome());
                assertThat(after).as("%s after clearing %s in the EPT entry at 0x%x; before: %s",
                        k.access().kind(), "RWX".charAt(bit), at, before.outcome())
                        .isIn("EPT violation", "EPT misconfiguration");
            }
        }
    }

    /**
     * Every access of a guest whose own paging grants everything is decided by EPT alone, as SDM Vol. 3C §28.2.3
     * states it for each guest-physical access of the 2-D walk: the four reads of the guest's paging-structure entries
     * (guest-physical addresses CR3[51:12] + 8 × index, then each entry's address field + 8 × index; each a
     * paging-structure access, a write when EPTP bit 6 enables EPT A/D, §28.2.4), then the access itself at the last
     * entry's frame + the page offset. Each is judged by {@link EptRules#translate} — the EPT walk restated from
     * §28.2.2–§28.2.3.3 (not present → EPT violation; write without read, execute-only unsupported, a reserved bit, a
     * reserved memory type → EPT misconfiguration; the AND of R/W/X over the entries must allow the access). The first
     * one not permitted is the exit (reason 48 or 49) and its guest-physical address; if all are permitted the access
     * completes.
     */
    /** {@link #guestEntry}: the guest's walk faults at this entry. */
    private static final long GUEST_FAULT = -2;
    /** {@link #guestEntry}: the entry references the next paging structure. */
    private static final long NEXT_TABLE = -1;

    /**
     * The guest's own paging-structure entry {@code entry} at {@code level} (0 = PML4E … 3 = PTE) of {@code k}'s walk,
     * restated from Vol. 3A §4.5.4 and §4.7: P clear, or a reserved bit set — bits 51 down to MAXPHYADDR, XD when
     * IA32_EFER.NXE = 0, PS in a PML4E, the bits below a large page's base — is a page fault ({@link #GUEST_FAULT}:
     * the guest's business, no VM exit); PS = 1 in a PDPTE or a PDE maps a 1-GByte or 2-MByte page and a PTE a 4-KByte
     * page (the data's guest-physical address); otherwise {@link #NEXT_TABLE}.
     */
    private static long guestEntry(EptCase k, long entry, int level) {
        int max = k.guest().maxPhysAddr();
        boolean ps = (entry & 1L << 7) != 0 && (level == 1 || level == 2);
        int shift = 39 - 9 * level;
        long reserved = (max >= 52 ? 0 : -1L << max & (1L << 52) - 1) | (k.guest().efer().nxe() ? 0 : 1L << 63)
                | (level == 0 ? 1L << 7 : 0) | (ps ? ((1L << shift) - 1) & ~((1L << 13) - 1) : 0);
        if ((entry & 1) == 0 || (entry & reserved) != 0) {
            return GUEST_FAULT;
        }
        long linear = k.access().linear();
        if (ps) {
            return (entry & ADDRESS & ~((1L << shift) - 1)) | (linear & ((1L << shift) - 1));
        }
        return level == 3 ? (entry & ADDRESS) | (linear & 0xFFF) : NEXT_TABLE;
    }

    @Property(seed = Budget.SEED, tries = 1000)
    void aPermissiveGuestsAccessIsDecidedByEachGuestPhysicalAccessOfTheWalk(
            @ForAll("permissiveGuestEptCases") EptCase k) {
        int max = k.guest().maxPhysAddr();
        long eptp = k.eptp().raw();
        long linear = k.access().linear();
        long table = k.guest().cr3().bits() & ADDRESS;
        EptRules.Gpa stop = null;
        boolean notPresent = false;
        StringBuilder read = new StringBuilder();
        long data = -1; // the guest-physical address of the data, once the guest's walk maps the page
        for (int level = 0; level < 4 && stop == null && !notPresent && data < 0; level++) {
            long gpa = table | (((linear >>> (39 - 9 * level)) & 0x1FF) << 3);
            EptRules.Gpa t = EptRules.translate(k.memory(), eptp, max, true, gpa, AccessKind.READ, true);
            if (t.end() != EptRules.End.PERMITTED) {
                stop = t;
            } else {
                long entry = k.memory().readPhysical(t.hostPhysical());
                read.append(String.format(" gpa %x = %x;", gpa, entry));
                long next = guestEntry(k, entry, level);
                notPresent = next == GUEST_FAULT;
                table = entry & ADDRESS;
                data = next >= 0 ? next : -1;
            }
        }
        if (notPresent) {
            assertThat(classify(run(k).outcome())).as("%s (guest entries read:%s)", k.access(), read)
                    .isEqualTo("guest exception");
            Statistics.label("EPT decides").collect("guest #PF (a table of the guest's is shared)");
            return;
        }
        if (stop == null) {
            EptRules.Gpa t = EptRules.translate(k.memory(), eptp, max, true, data, k.access().kind(), false);
            stop = t.end() == EptRules.End.PERMITTED ? null : t;
        }
        GuestOutcome o = run(k).outcome();
        String expected = stop == null ? "success" : stop.end() == EptRules.End.VIOLATION ? "EPT violation"
                : "EPT misconfiguration";
        Statistics.label("EPT decides").collect(expected);
        Statistics.label("EPT decides").coverage(cov -> {
            cov.check("success").percentage(p -> p >= 20);
            cov.check("EPT violation").percentage(p -> p >= 10);
            cov.check("EPT misconfiguration").percentage(p -> p >= 5);
        });
        assertThat(classify(o)).as("%s at %s: %s (guest entries read:%s)", k.access(), stop == null ? "-" : stop.why(),
                o, read).isEqualTo(expected);
        if (stop != null) {
            assertThat(((GuestOutcome.Exited) o).exit().guestPhysicalAddress()).as("the guest-physical address")
                    .isEqualTo(stop.guestPhysical());
        }
    }

    /**
     * The accessed and dirty flags for EPT (SDM Vol. 3C §28.2.4) over the whole host memory, for a guest whose own
     * paging needs no A/D update (the permissive cases: every guest entry has A = D = 1). With EPTP bit 6 = 1,
     * "Whenever the processor uses an EPT paging-structure entry as part of guest-physical-address translation, it
     * sets the accessed flag in that entry" — bit 8 of every EPT entry on the path of each of the five
     * guest-physical accesses (four guest paging-structure entries, then the data) — and "Whenever there is a write to
     * a guest-physical address, the processor sets the dirty flag (if it is not already set) in the EPT
     * paging-structure entry that identifies the final physical address" — bit 9 of the EPT leaf of the data address
     * for a write, and of the EPT leaf of each guest paging-structure entry, since with bit 6 set "processor accesses
     * to guest paging-structure entries are treated as writes". With EPTP bit 6 = 0 no EPT entry changes. Nothing
     * else in memory changes but the written quadword. The guest-physical accesses are made in order until one ends
     * the access: a translation that ends in an EPT violation or misconfiguration sets no flag (docs/ept.md: the
     * project's choice), those before it keep theirs; a guest entry that is not present ends the walk with a #PF
     * after the EPT translation of its address set its flags.
     */
    @Property(seed = Budget.SEED, tries = 1000)
    void eptAccessedAndDirtyFlagsAreSetOnEveryEntryUsedAndDirtyOnlyOnTheLeafOfAWrite(
            @ForAll("permissiveGuestEptCasesHalfWithEptAccessedDirty") EptCase k) {
        GuestStep s = run(k);
        PhysicalMemory pre = k.memory();
        PhysicalMemory post = s.processor().machine().memory();
        boolean ad = (k.eptp().raw() & (1L << 6)) != 0;
        boolean write = k.access().kind() == AccessKind.WRITE;
        int max = k.guest().maxPhysAddr();
        long eptp = k.eptp().raw();
        long eptRoot = eptp & ADDRESS;
        long linear = k.access().linear();
        long table = k.guest().cr3().bits() & ADDRESS;
        PhysicalMemory expected = pre;
        String ended = "completed";
        long data = -1;
        List<long[]> guestEntries = new java.util.ArrayList<>();
        for (int level = 0; level < 4 && ended.equals("completed"); level++) {
            long gpa = table | (((linear >>> (39 - 9 * level)) & 0x1FF) << 3);
            if (EptRules.translate(pre, eptp, max, true, gpa, AccessKind.READ, true).end()
                    != EptRules.End.PERMITTED) {
                ended = "EPT exit"; // the translation that exits sets no flag (docs/ept.md)
                break;
            }
            List<Long> path = eptPath(pre, eptRoot, gpa);
            expected = ad ? setEptFlags(expected, path, true) : expected;
            long entry = pre.readPhysical(hostPhysical(pre, path, gpa));
            long next = guestEntry(k, entry, level);
            if (next == GUEST_FAULT) {
                ended = "guest #PF";
            }
            table = entry & ADDRESS;
            guestEntries.add(new long[] {hostPhysical(pre, path, gpa), entry});
            if (next >= 0) {
                data = next;
                break;
            }
        }
        if (ended.equals("completed")) {
            // the guest's own A flags on every entry of its walk, D on the one that maps the page for a write (Vol. 3A
            // §4.8), set when the access completes; the "permissive" guest's entries usually have them already
            for (int i = 0; i < guestEntries.size(); i++) {
                long[] e = guestEntries.get(i);
                long set = e[1] | 1L << 5 | (i == guestEntries.size() - 1 && write ? 1L << 6 : 0);
                if (set != e[1]) {
                    expected = expected.writePhysical(e[0], set);
                }
            }
        }
        if (ended.equals("completed")) {
            long dataGpa = data;
            if (EptRules.translate(pre, eptp, max, true, dataGpa, k.access().kind(), false).end()
                    != EptRules.End.PERMITTED) {
                ended = "EPT exit";
            } else {
                List<Long> dataPath = eptPath(pre, eptRoot, dataGpa);
                expected = ad ? setEptFlags(expected, dataPath, write) : expected;
                if (write) {
                    expected = expected.writePhysical(hostPhysical(pre, dataPath, dataGpa) & ~7L,
                            k.access().value());
                }
            }
        }
        Statistics.label("EPT A/D").collect((ad ? "on, " : "off, ") + ended
                + (ended.equals("completed") ? " " + k.access().kind() : ""));
        Statistics.label("EPT A/D").coverage(cov -> {
            cov.check("on, completed WRITE").percentage(p -> p >= 3);
            cov.check("on, completed READ").percentage(p -> p >= 3);
            cov.check("on, guest #PF").percentage(p -> p >= 1);
            cov.check("on, EPT exit").percentage(p -> p >= 10);
            cov.check("off, completed WRITE").percentage(p -> p >= 3);
        });
        assertThat(post).as("host memory after %s (%s, EPT A/D %s): %s", k.access(), ended, ad ? "on" : "off",
                s.outcome()).isEqualTo(expected);
    }

    /** The addresses of the EPT entries used to translate {@code gpa} (PML4E first, the leaf last; §28.2.2). */
    private static List<Long> eptPath(PhysicalMemory host, long root, long gpa) {
        List<Long> path = new ArrayList<>(4);
        long table = root;
        for (int level = 0; level < 4; level++) {
            long at = table | (((gpa >>> (39 - 9 * level)) & 0x1FF) << 3);
            path.add(at);
            long e = host.readPhysical(at);
            if (level == 3 || level > 0 && (e & (1L << 7)) != 0) {
                return path;
            }
            table = e & ADDRESS;
        }
        return path;
    }

    /** The host-physical address of {@code gpa} through the leaf at the end of {@code path}. */
    private static long hostPhysical(PhysicalMemory host, List<Long> path, long gpa) {
        long leaf = host.readPhysical(path.get(path.size() - 1));
        long offset = (1L << (39 - 9 * (path.size() - 1))) - 1;
        return (leaf & ADDRESS & ~offset) | (gpa & offset);
    }

    /** Bit 8 in every entry of {@code path}, and bit 9 in its leaf if {@code dirty}. */
    private static PhysicalMemory setEptFlags(PhysicalMemory m, List<Long> path, boolean dirty) {
        PhysicalMemory out = m;
        for (long at : path) {
            out = out.writePhysical(at, out.readPhysical(at) | 1L << 8);
        }
        long leaf = path.get(path.size() - 1);
        return dirty ? out.writePhysical(leaf, out.readPhysical(leaf) | 1L << 9) : out;
    }

    /** Bits 51:12 of an entry or of CR3. */
    private static final long ADDRESS = ((1L << 52) - 1) & ~0xFFFL;

    @Property(seed = Budget.SEED, tries = 1000)
    void anEptMisconfigurationIsReportedWhateverTheAccessKind(@ForAll("permissiveGuestEptCases") EptCase k) {
        long linear = k.access().linear();
        List<GuestOutcome> outcomes = new ArrayList<>();
        for (AccessKind kind : AccessKind.values()) {
            Access a = new Access(linear, kind, false, kind == AccessKind.WRITE ? 0x5A5A : 0);
            outcomes.add(run(k.withAccess(a)).outcome());
        }
        long misconfigured = outcomes.stream().filter(o -> classify(o).equals("EPT misconfiguration")).count();
        Statistics.label("misconfiguration").collect(misconfigured == 0 ? "none" : "reported");
        Statistics.label("misconfiguration").coverage(cov -> {
            cov.check("reported").percentage(p -> p >= 10);
            cov.check("none").percentage(p -> p >= 30);
        });
        if (misconfigured == 0) {
            return;
        }
        // The guest's own paging grants everything and needs no A/D update: only EPT decides, and a misconfiguration
        // met on the way decides for every kind of access, at the same guest-physical address.
        GuestOutcome.Exited first = (GuestOutcome.Exited) outcomes.stream()
                .filter(o -> classify(o).equals("EPT misconfiguration")).findFirst().orElseThrow();
        for (int i = 0; i < outcomes.size(); i++) {
            GuestOutcome o = outcomes.get(i);
            assertThat(classify(o)).as("%s: %s vs %s", AccessKind.values()[i], o, first)
                    .isEqualTo("EPT misconfiguration");
            assertThat(((GuestOutcome.Exited) o).exit().guestPhysicalAddress())
                    .isEqualTo(first.exit().guestPhysicalAddress());
        }
    }

    /**
     * The EPT-violation exit qualification (SDM Vol. 3C §27.2.1, table 27-7), stated bit by bit: bit 7 (guest linear
     * address valid) is 1 for every violation of a memory access and the linear-address field is the access's; bit 8
     * says whether the violating access was the translated access itself (then bits 2:0 name its kind exactly: 0
     * read, 1 write, 2 fetch) or an access to a guest paging structure (a read of the walk, or a write of its A/D
     * bits: never a fetch; with EPT A/D on, a write with bits 0 and 1 both set); bits 5:3 give the EPT permissions of the guest-physical address, of which the one the
     * access needed is 0 (that is why it violated); bit 6 and bits 63:9 are 0.
     */
    @Property(seed = Budget.SEED, tries = 1000)
    void anEptViolationsQualificationSaysWhichAccessViolatedAndWhy(@ForAll("eptCases") EptCase k) {
        GuestOutcome o = run(k).outcome();
        if (!classify(o).equals("EPT violation")) {
            return;
        }
        org.hybridv.vmx.ExitInformation e = ((GuestOutcome.Exited) o).exit();
        long q = e.qualification();
        boolean translated = (q & (1L << 8)) != 0;
        Statistics.label("violating access").collect(translated ? "the " + k.access().kind() + " itself"
                : "a paging-structure access, EPT A/D " + (k.eptp().accessedDirtyEnabled() ? "on" : "off"));
        Statistics.label("violating access").coverage(cov -> {
            cov.check("the READ itself").percentage(p -> p >= 1);
            cov.check("the WRITE itself").percentage(p -> p >= 1);
            cov.check("the FETCH itself").percentage(p -> p >= 1);
            cov.check("a paging-structure access, EPT A/D on").percentage(p -> p >= 1);
            cov.check("a paging-structure access, EPT A/D off").percentage(p -> p >= 3);
        });
        assertThat(q & ~0x1BFL).as("bits 6 and 63:9 of %x", q).isZero();
        assertThat(q & (1L << 7)).as("bit 7 of %x: the linear address is valid", q).isNotZero();
        assertThat(e.guestLinearAddress()).isEqualTo(k.access().linear());
        long kindBits = q & 7;
        int needed;
        if (translated) {
            needed = switch (k.access().kind()) {
                case READ -> 0;
                case WRITE -> 1;
                default -> 2;
            };
            assertThat(kindBits).as("bits 2:0 of %x for a %s", q, k.access().kind()).isEqualTo(1L << needed);
        } else if (k.eptp().accessedDirtyEnabled()) {
            // §29.3.3.2 and table 27-7's note: with EPT A/D on, an access to a guest paging structure is treated as a
            // write, and a violation by one sets both bit 0 and bit 1
            assertThat(kindBits).as("bits 2:0 of %x for a paging-structure access, EPT A/D on", q).isEqualTo(3L);
            needed = 1;
        } else {
            assertThat(kindBits).as("bits 2:0 of %x for a paging-structure access, EPT A/D off", q).isIn(1L, 2L);
            needed = kindBits == 1 ? 0 : 1;
        }
        assertThat(q & (1L << (3 + needed))).as("bit %d of %x: the permission the access needed", 3 + needed, q)
                .isZero();
    }
}
