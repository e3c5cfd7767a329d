package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import org.hybridv.check.SdmPaging;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.OutcomeClass;
import org.hybridv.gen.PagingCase;
import org.hybridv.gen.PagingCases;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.Walk;
import org.hybridv.x86.X86Machine;

/**
 * Properties of the IA-32e page walk and its access-rights decision (Intel SDM Vol. 3A §4.5–4.7) over generated
 * paging structures and CPU states. Each property's name states it.
 */
class PageWalkProperties {

    @Provide
    Arbitrary<PagingCase> cases() {
        return JqwikChoices.arbitrary(PagingCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void aWalkIsAPureFunctionOfMemoryCpuStateAndAccess(@ForAll("cases") PagingCase c,
            @ForAll @IntRange(min = 0, max = PagingCases.FRAMES * PhysicalMemory.WORDS_PER_FRAME - 1) int word,
            @ForAll long value) {
        Translation first = Cases.translate(c);
        assertThat(Cases.translate(c)).as("same inputs, same outcome").isEqualTo(first);
        X86Machine rebuilt = c.machine().withMemory(Cases.copyOf(c.machine().memory()));
        assertThat(Cases.translate(rebuilt, c.access())).as("equal memory built afresh").isEqualTo(first);

        long address = (long) word * 8;
        boolean read = Cases.entryAddresses(Cases.visited(c)).contains(address);
        Statistics.label("unrelated word").collect(read ? "read by the walk" : "unrelated");
        if (!read) {
            X86Machine noisy = c.machine().withMemory(c.machine().memory().writePhysical(address, value));
            assertThat(Cases.translate(noisy, c.access())).as("memory the walk does not read does not matter")
                    .isEqualTo(first);
        }
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void clearingRwInAnyVisitedEntryNeverTurnsAFaultIntoASuccess(@ForAll("cases") PagingCase c) {
        assertEveryRewriteKeepsFaults(c, raw -> raw & ~(1L << Entry.RW), "R/W cleared");
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void settingXdInAnyVisitedEntryNeverTurnsAFaultIntoASuccess(@ForAll("cases") PagingCase c) {
        assertEveryRewriteKeepsFaults(c, raw -> raw | (1L << Entry.XD), "XD set");
    }

    /**
     * Clearing U/S turns a user-mode address into a supervisor-mode address. For user-mode accesses that only
     * removes rights. For supervisor-mode accesses it can <em>lift</em> a fault, but only one that SMEP, SMAP or a
     * protection key raised — the checks that apply to user-mode addresses alone (SDM 4.6.1, 4.6.2).
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void clearingUsNeverTurnsAFaultIntoASuccessExceptByEscapingSmepSmapOrAKey(@ForAll("cases") PagingCase c) {
        Translation before = Cases.translate(c);
        if (before.isSuccess()) {
            return;
        }
        CpuState cpu = c.machine().cpu();
        for (VisitedEntry v : Cases.visited(c)) {
            X86Machine m = c.machine().withMemory(Cases.rewrite(c.machine().memory(), v, raw -> raw & ~(1L << Entry.US)));
            Translation after = Cases.translate(m, c.access());
            if (after.isSuccess()) {
                Statistics.label("U/S cleared lifted a fault").collect(true);
                assertThat(c.access().isUserMode(cpu)).as("only a supervisor-mode access can gain by losing U/S")
                        .isFalse();
                CpuState withoutUserPageChecks = cpu.withCr4(cpu.cr4().withSmep(false).withSmap(false).withPke(false));
                assertThat(Cases.translate(c.machine().withCpu(withoutUserPageChecks), c.access()).isSuccess())
                        .as("the fault lifted was raised by SMEP, SMAP or a protection key").isTrue();
            }
        }
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void enablingWpSmepSmapOrPkeNeverTurnsAFaultIntoASuccess(@ForAll("cases") PagingCase c) {
        Translation before = Cases.translate(c);
        if (before.isSuccess()) {
            return;
        }
        CpuState cpu = c.machine().cpu();
        List<CpuState> stricter = List.of(
                cpu.withCr0(cpu.cr0().withWp(true)),
                cpu.withCr4(cpu.cr4().withSmep(true)),
                cpu.withCr4(cpu.cr4().withSmap(true)),
                cpu.withCr4(cpu.cr4().withPke(true)));
        for (CpuState s : stricter) {
            assertThat(Cases.translate(c.machine().withCpu(s), c.access()).isSuccess())
                    .as("fault %s stays a fault under %s", before, s).isFalse();
        }
    }

    /**
     * The walk and the translation against the SDM restated ({@link SdmPaging}, §4.5.4–4.6.2): the entries read, how
     * the walk ends, the page size and physical address, the rights combined over the entries used (R/W and U/S
     * ANDed, XD ORed, the protection key of the entry that maps the page); an access completes exactly when the
     * page-level protections allow it and no protection key denies it, and otherwise the #PF's P, RSVD and PK bits
     * say why (SDM 4.7). A non-canonical address (bits 63:47 not all equal) is a #GP with no walk; with CR0.PG = 0
     * the same access reaches the physical address equal to its linear address (SDM 4.1.1).
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyWalkAndTranslationIsTheOneTheSdmDefines(@ForAll("cases") PagingCase c) {
        Access a = c.access();
        CpuState cpu = c.machine().cpu();
        PhysicalMemory memory = c.machine().memory();
        Translation t = Cases.translate(c);
        long top = a.linear() >> 47;
        if (top != 0 && top != -1) {
            Statistics.label("SDM walk").collect("non-canonical");
            assertThat(t).as("non-canonical %s", org.hybridv.x86.Hex.of(a.linear()))
                    .isInstanceOf(GeneralProtection.class);
            return;
        }
        Translation off = Cases.translate(c.machine().withCpu(cpu.withCr0(cpu.cr0().withPg(false))), a);
        assertThat(off).as("CR0.PG = 0: the linear address is the physical address (SDM 4.1.1)")
                .isInstanceOf(Translated.class);
        assertThat(((Translated) off).physicalAddress()).as("CR0.PG = 0: identity").isEqualTo(a.linear());
        SdmPaging.Outcome sdm = SdmPaging.translate(memory, cpu, a);
        Statistics.label("SDM walk").collect(sdm.end() != SdmPaging.End.MAPPED ? sdm.end().toString()
                : (sdm.pageBytes() == 1L << 30 ? "1 GiB" : sdm.pageBytes() == 1L << 21 ? "2 MiB" : "4 KiB")
                        + " page " + (sdm.completes() ? "completes" : "denied"));
        Statistics.label("SDM walk").coverage(cov -> {
            cov.check("4 KiB page completes").percentage(p -> p >= 10);
            cov.check("2 MiB page completes").percentage(p -> p >= 1);
            cov.check("1 GiB page completes").percentage(p -> p >= 0.5);
            cov.check("4 KiB page denied").percentage(p -> p >= 5);
            cov.check("NOT_PRESENT").percentage(p -> p >= 5);
            cov.check("RESERVED_BIT").percentage(p -> p >= 2);
        });
        Walk w = PageWalk.walk(memory, cpu, a.linear());
        assertThat(Cases.entryAddresses(w.path())).as("the entries the walk reads").isEqualTo(sdm.entryAddresses());
        assertThat(w.end().name()).as("how the walk ends").isEqualTo(sdm.end().name());
        if (sdm.end() == SdmPaging.End.MAPPED) {
            assertThat(w.pageSize().bytes()).as("page size").isEqualTo(sdm.pageBytes());
            assertThat(w.physical()).as("physical address").isEqualTo(sdm.physical());
            Rights r = w.rights();
            assertThat(List.of(r.writable(), r.user(), r.executeDisable(), r.protectionKey()))
                    .as("rights (R/W, U/S, XD, key) combined over %s", w.path())
                    .isEqualTo(List.of(sdm.writable(), sdm.user(), sdm.executeDisable(), sdm.key()));
        }
        if (sdm.completes()) {
            assertThat(t).as("the SDM lets %s complete", a).isInstanceOf(Translated.class);
            Translated done = (Translated) t;
            assertThat(done.physicalAddress()).as("physical address").isEqualTo(sdm.physical());
            assertThat(done.pageSize().bytes()).as("page size").isEqualTo(sdm.pageBytes());
            return;
        }
        assertThat(t).as("the SDM faults %s (%s)", a, sdm).isInstanceOf(PageFault.class);
        ErrorCode e = ((PageFault) t).errorCode();
        assertThat(e.p()).as("P: the walk found every entry present").isEqualTo(sdm.end() != SdmPaging.End.NOT_PRESENT);
        assertThat(e.rsvd()).as("RSVD").isEqualTo(sdm.end() == SdmPaging.End.RESERVED_BIT);
        assertThat(e.pk()).as("PK").isEqualTo(sdm.end() == SdmPaging.End.MAPPED && sdm.keyDenies());
    }

    /** The error code of every #PF, bit by bit against SDM 4.7, stated independently of the walk's own verdict. */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyPageFaultErrorCodeBitMeansWhatSdm47Says(@ForAll("cases") PagingCase c) {
        Translation t = Cases.translate(c);
        OutcomeClass outcome = OutcomeClass.of(t);
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(cov -> {
            cov.check(OutcomeClass.OK).percentage(p -> p >= 15);
            cov.check(OutcomeClass.NOT_PRESENT).percentage(p -> p >= 5);
            cov.check(OutcomeClass.RESERVED_BIT).percentage(p -> p >= 3);
            cov.check(OutcomeClass.WRITE_PROTECTION).percentage(p -> p >= 3);
            cov.check(OutcomeClass.OTHER_PROTECTION).percentage(p -> p >= 3);
            cov.check(OutcomeClass.INSTRUCTION_FETCH).percentage(p -> p >= 2);
            cov.check(OutcomeClass.PROTECTION_KEY).percentage(p -> p >= 1);
            cov.check(OutcomeClass.GENERAL_PROTECTION).percentage(p -> p >= 1);
        });
        if (!(t instanceof PageFault pf)) {
            return;
        }
        Access a = c.access();
        CpuState cpu = c.machine().cpu();
        ErrorCode e = pf.errorCode();
        List<VisitedEntry> path = Cases.visited(c);
        boolean someEntryNotPresent = path.stream().anyMatch(v -> !v.entry().present());
        assertThat(e.p()).as("P = 0 exactly when some visited entry is not present").isEqualTo(!someEntryNotPresent);
        if (e.rsvd()) {
            assertThat(e.p()).as("RSVD implies P").isTrue();
        }
        assertThat(e.us()).as("U/S = (CPL = 3 and not implicit)")
                .isEqualTo(cpu.cpl() == 3 && !a.implicitSupervisor());
        assertThat(e.wr()).as("W/R = the access is a write").isEqualTo(a.isWrite());
        assertThat(e.id()).as("I/D = fetch and (NXE or SMEP)")
                .isEqualTo(a.isFetch() && (cpu.efer().nxe() || cpu.cr4().smep()));
        if (e.pk()) {
            Entry leaf = path.get(path.size() - 1).entry();
            assertThat(cpu.cr4().pke() && !a.isFetch() && path.stream().allMatch(v -> v.entry().user()))
                    .as("PK only for data accesses to user-mode addresses with CR4.PKE = 1").isTrue();
            int key = leaf.protectionKey();
            boolean ad = ((cpu.pkru() >>> (2 * key)) & 1) != 0;
            boolean wd = ((cpu.pkru() >>> (2 * key + 1)) & 1) != 0;
            assertThat(ad || (wd && a.isWrite())).as("PK only when PKRU denies key %d", key).isTrue();
        }
        assertThat(pf.linearAddress()).as("CR2 value = the faulting linear address").isEqualTo(a.linear());
    }

    /**
     * SDM 4.8: a completed access sets A in every entry the walk used and, for a write, D in the entry that maps
     * the page; the only other change is the data written. A faulting access changes no memory at all.
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void onlyCompletedAccessesSetAccessedAndDirtyAndDirtyOnlyInTheLeafOnWrites(@ForAll("cases") PagingCase c) {
        PhysicalMemory before = c.machine().memory();
        var step = org.hybridv.x86.Processor.access(c.machine(), c.access());
        PhysicalMemory after = step.machine().memory();
        Translation t = Cases.translate(c);
        Statistics.label("access").collect(t.isSuccess() ? c.access().kind() + " completed" : "faulted");
        if (!(t instanceof Translated translated)) {
            assertThat(after).as("a faulting access changes no memory").isEqualTo(before);
            return;
        }
        PhysicalMemory expected = before;
        List<VisitedEntry> path = Cases.visited(c);
        for (VisitedEntry v : path) {
            expected = expected.writePhysical(v.address(), expected.readPhysical(v.address()) | (1L << Entry.A));
        }
        if (c.access().isWrite()) {
            long leaf = path.get(path.size() - 1).address();
            expected = expected.writePhysical(leaf, expected.readPhysical(leaf) | (1L << Entry.D));
            expected = expected.writePhysical(translated.physicalAddress() & ~7L, c.access().value());
        }
        assertThat(after).as("memory after %s", c.access()).isEqualTo(expected);
    }

    private static void assertEveryRewriteKeepsFaults(PagingCase c, java.util.function.LongUnaryOperator f,
            String what) {
        Translation before = Cases.translate(c);
        Statistics.label("before").collect(before.isSuccess() ? "success" : "fault");
        if (before.isSuccess()) {
            return;
        }
        for (VisitedEntry v : Cases.visited(c)) {
            X86Machine m = c.machine().withMemory(Cases.rewrite(c.machine().memory(), v, f));
            assertThat(Cases.translate(m, c.access()).isSuccess())
                    .as("%s in the %s at %s keeps the fault %s", what, v.level().entryName(),
                            org.hybridv.x86.Hex.of(v.address()), before)
                    .isFalse();
        }
    }
}
