package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.SdmControlRegisters;
import org.hybridv.check.SdmPaging;
import org.hybridv.check.TlbScopes;
import org.hybridv.gen.ControlRegisterCase;
import org.hybridv.gen.ControlRegisterCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.PagingCase;
import org.hybridv.gen.PagingCases;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.Hex;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Processor;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * The bare processor's instructions that change the translation context, and what an access leaves in the TLB,
 * judged by the SDM restated over raw state ({@link SdmControlRegisters}, {@link SdmPaging}, {@link TlbScopes}):
 * MOV to CR0/CR3/CR4, WRMSR to IA32_EFER and INVLPG from any CPL, paging on or off (Intel SDM Vol. 2B MOV, Vol. 3A
 * §2.5, §4.10.1, §4.10.4.1, §9.8.5); an access with paging off (§4.1.1); the translation a walk caches (§4.10.2) and
 * the dirty flag a write through a cached clean translation must still set (§4.8).
 */
class ProcessorProperties {

    @Provide
    Arbitrary<ControlRegisterCase> controlRegisterCases() {
        return JqwikChoices.arbitrary(ControlRegisterCases::generate);
    }

    @Provide
    Arbitrary<PagingCase> cachingCases() {
        return JqwikChoices.arbitrary(c -> PagingCases.generate(c, TlbPolicy.ADVERSARIAL));
    }

    /**
     * Each instruction faults (#GP(0)) exactly when one of the conditions {@link SdmControlRegisters#generalProtection}
     * lists holds, and a fault changes nothing; otherwise it retires with the register written as
     * {@link SdmControlRegisters#after} says, memory and context untouched, and the TLB and paging-structure caches
     * (adversarial: they keep whatever the SDM does not require removed) exactly the ones before without what the
     * instruction's invalidation removes ({@link TlbScopes}), or unchanged when it invalidates nothing.
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyControlRegisterWriteAndInvlpgFaultsAndFlushesAsTheSdmSays(
            @ForAll("controlRegisterCases") ControlRegisterCase k) {
        X86Machine m = k.machine();
        ControlRegisterCase.Instruction i = k.instruction();
        Optional<String> gp = SdmControlRegisters.generalProtection(m.cpu(), i);
        String kind = i.getClass().getSimpleName();
        Statistics.label("instruction").collect(kind + (gp.isPresent() ? ": #GP" : ": retired"));
        Statistics.label("#GP(0) because").collect(gp.orElse("no fault"));
        Statistics.label("#GP(0) because").coverage(cov -> {
            for (String why : List.of("CPL 1 ≠ 0", "CPL 2 ≠ 0", "CPL 3 ≠ 0", "PG set with PE clear",
                    "PG cleared with CR4.PCIDE = 1", "paging enabled with EFER.LME = 1 and CR4.PAE = 0",
                    "a reserved bit of 63:MAXPHYADDR set", "PAE cleared in IA-32e mode",
                    "PCIDE set outside IA-32e mode", "PCIDE set with CR3[11:0] ≠ 000H",
                    "LME changed with CR0.PG = 1")) {
                cov.check(why).count(n -> n >= 3);
            }
            cov.check("no fault").percentage(p -> p >= 40);
        });
        InstructionStep s = execute(m, i);
        if (gp.isPresent()) {
            assertThat(s.outcome()).as("%s on %s: #GP(0) (%s)", i, m.cpu(), gp.get())
                    .isInstanceOf(GeneralProtection.class);
            assertThat(s.machine()).as("a faulting %s changes nothing", kind).isEqualTo(m);
            return;
        }
        assertThat(s.outcome()).as("%s on %s retires", i, m.cpu()).isEqualTo(InstructionOutcome.RETIRED);
        X86Machine after = s.machine();
        assertThat(after.cpu()).as("%s: the state after", i).isEqualTo(SdmControlRegisters.after(m.cpu(), i));
        assertThat(after.memory()).as("%s: memory", i).isEqualTo(m.memory());
        assertThat(after.tlbTag()).as("%s: context", i).isEqualTo(m.tlbTag());
        Optional<TlbScopeCase.Op> op = SdmControlRegisters.invalidation(m.cpu(), m.tlbTag(), i);
        boolean removedSome = after.tlb().entries().size() + after.tlb().pscEntries().size()
                < m.tlb().entries().size() + m.tlb().pscEntries().size();
        Statistics.label("retired").collect(kind + (op.isEmpty() ? ", no invalidation"
                : removedSome ? ", removed entries" : ", removed none"));
        Statistics.label("retired").coverage(cov -> {
            for (String k2 : List.of("MovToCr0, no invalidation", "MovToCr0, removed entries",
                    "MovToCr3, removed entries", "MovToCr3, removed none", "MovToCr4, removed entries",
                    "MovToCr4, removed none", "WriteEfer, no invalidation", "Invlpg, no invalidation",
                    "Invlpg, removed entries")) {
                cov.check(k2).count(n -> n >= 3);
            }
        });
        if (op.isEmpty()) {
            assertThat(after.tlb()).as("%s invalidates nothing", i).isEqualTo(m.tlb());
            return;
        }
        assertThat(TlbScopes.judge(m.tlb().entries(), op.get(), after.tlb().entries())).as("%s", i).isEmpty();
        assertThat(TlbScopes.judgePsc(m.tlb().pscEntries(), op.get(), after.tlb().pscEntries())).as("%s", i)
                .isEmpty();
    }

    private static InstructionStep execute(X86Machine m, ControlRegisterCase.Instruction i) {
        if (i instanceof ControlRegisterCase.MovToCr0 o) {
            return Processor.movToCr0(m, o.value());
        }
        if (i instanceof ControlRegisterCase.MovToCr3 o) {
            return Processor.movToCr3(m, o.value());
        }
        if (i instanceof ControlRegisterCase.MovToCr4 o) {
            return Processor.movToCr4(m, o.value());
        }
        if (i instanceof ControlRegisterCase.WriteEfer o) {
            return Processor.writeEfer(m, o.value());
        }
        return Processor.invlpg(m, ((ControlRegisterCase.Invlpg) i).linear());
    }

    /**
     * With CR0.PG = 0 "linear addresses are treated as physical addresses" (SDM 4.1.1): every access, at any CPL and
     * whatever the other controls, completes at the physical address equal to its linear address; a read returns the
     * quadword memory holds there, a write stores its value there; nothing else changes (no TLB fill, CR2 untouched).
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void anAccessWithPagingOffReachesThePhysicalAddressEqualToItsLinearAddress(
            @ForAll("cachingCases") PagingCase c) {
        CpuState cpu = c.machine().cpu();
        X86Machine m = c.machine().withCpu(cpu.withCr0(cpu.cr0().withPg(false)));
        long linear = c.access().linear() & (PagingCases.FRAMES * PhysicalMemory.FRAME_SIZE - 1) & ~7L;
        Access a = new Access(linear, c.access().kind(), c.access().implicitSupervisor(), c.access().value());
        Statistics.label("access with paging off").collect(a.kind());
        AccessStep s = Processor.access(m, a);
        long value = a.isWrite() ? a.value() : m.memory().readPhysical(linear);
        assertThat(s.outcome()).as("%s with paging off", a).isEqualTo(new AccessOutcome.Completed(linear, value));
        X86Machine expected = a.isWrite() ? m.withMemory(m.memory().writePhysical(linear, a.value())) : m;
        assertThat(s.machine()).as("%s with paging off: only the data written changes", a).isEqualTo(expected);
    }

    /**
     * A walk that completes caches, in the current context and PCID, the translation SDM 4.10.2.2 describes: the page
     * number and size, the page frame, the rights combined over the entries (R/W and U/S ANDed, XD ORed, the leaf's
     * protection key), the leaf's dirty flag as the access left it, and global exactly when G = 1 in the leaf and
     * CR4.PGE = 1 (4.10.2.4). Then a write to the same address through that translation, when it was cached with D =
     * 0, must still set D in the leaf (SDM 4.8: "whenever there is a write to a linear address, the processor sets the
     * dirty flag (if it is not already set) in the paging-structure entry that identifies the final physical
     * address"; a clean TLB entry cannot do that, so the write walks).
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void aWalkCachesTheTranslationTheSdmDescribesAndAWriteThroughItStillSetsDirty(
            @ForAll("cachingCases") PagingCase c) {
        X86Machine m = c.machine();
        CpuState cpu = m.cpu();
        Access a = c.access();
        long top = a.linear() >> 47;
        if (top != 0 && top != -1) {
            return;
        }
        SdmPaging.Outcome sdm = SdmPaging.translate(m.memory(), cpu, a);
        Statistics.label("first access").collect(sdm.completes() ? "completes" : "faults");
        if (!sdm.completes()) {
            return;
        }
        AccessStep first = Processor.access(m, a);
        long leafAddress = sdm.entryAddresses().get(sdm.entryAddresses().size() - 1);
        if (a.isWrite() && (sdm.physical() & ~7L) == leafAddress) {
            return; // the data written is the leaf itself
        }
        long leaf = first.machine().memory().readPhysical(leafAddress);
        boolean global = ((leaf >>> 8) & 1) != 0 && cpu.cr4().pge();
        boolean dirty = ((leaf >>> 6) & 1) != 0;
        List<TlbEntry> cached = first.machine().tlb().entries();
        assertThat(cached).as("%s: one translation cached", a).hasSize(1);
        TlbEntry e = cached.get(0);
        long page = sdm.pageBytes();
        Statistics.label("cached").collect((global ? "global" : "not global") + ", " + page / 1024 + " KB");
        Statistics.label("cached").coverage(cov -> {
            cov.check("global, 4 KB").count(n -> n >= 10);
            cov.check("not global, 4 KB").count(n -> n >= 10);
        });
        assertThat(e.tag()).as("context").isEqualTo(m.tlbTag());
        assertThat(e.pcid()).as("PCID").isEqualTo(cpu.currentPcid());
        assertThat(e.linearBase()).as("page").isEqualTo(a.linear() & -page);
        assertThat(e.pageSize().bytes()).as("page size").isEqualTo(page);
        assertThat(e.physicalBase()).as("frame").isEqualTo(sdm.physical() & -page);
        assertThat(e.rights()).as("rights").isEqualTo(new Rights(sdm.writable(), sdm.user(), sdm.executeDisable(),
                sdm.key()));
        assertThat(e.global()).as("global: G = %s, CR4.PGE = %s", (leaf >>> 8) & 1, cpu.cr4().pge()).isEqualTo(global);
        assertThat(e.dirty()).as("dirty: the leaf's D after the access").isEqualTo(dirty);

        Access write = Access.write(a.linear(), 0x5A5A_5A5A_5A5A_5A5AL);
        SdmPaging.Outcome second = SdmPaging.translate(first.machine().memory(), cpu, write);
        boolean judged = !dirty && second.completes() && (second.physical() & ~7L) != leafAddress;
        Statistics.label("write through a clean cached translation").collect(judged ? "judged"
                : dirty ? "cached dirty" : "write not allowed or aliasing the leaf");
        Statistics.label("write through a clean cached translation").coverage(cov -> cov.check("judged")
                .count(n -> n >= 20));
        if (!judged) {
            return;
        }
        AccessStep s = Processor.access(first.machine(), write);
        assertThat(s.outcome()).as("the write %s", Hex.of(a.linear())).isInstanceOf(AccessOutcome.Completed.class);
        assertThat((s.machine().memory().readPhysical(leafAddress) >>> 6) & 1).as("D of the leaf at %s after the"
                + " write", Hex.of(leafAddress)).isEqualTo(1L);
    }
}
