package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.TlbScopes;
import org.hybridv.ept.Eptp;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.gen.TlbScopeCase.Op;
import org.hybridv.gen.TlbScopeCases;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.Invept;
import org.hybridv.vmx.Invvpid;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.RootOutcome;
import org.hybridv.vmx.RootStep;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Processor;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * The scope of every TLB invalidation (Intel SDM Vol. 3A §4.10.4.1, Vol. 3C §28.3.3): over TLBs filled by a sequence
 * of steps under several VPIDs, EP4TAs and PCIDs, global and not, with paging-structure-cache entries under the same
 * tags, each invalidating operation of the reference (INVPCID of each type among them) leaves in the TLB and in the
 * paging-structure caches exactly what {@link TlbScopes} — the SDM's rules restated as predicates over the entries'
 * fields — says it must: nothing the SDM requires gone, and (the caches being adversarial) everything else.
 */
class TlbScopeProperties {
    static final int MAXPHY = 36;
    static final int FRAMES = 128; // backs the EPT PML4 frames of both pool EP4TAs (zero: nothing present)

    @Provide
    Arbitrary<TlbScopeCase> cases() {
        return JqwikChoices.arbitrary(TlbScopeCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyInvalidationRemovesExactlyWhatTheSdmRequires(@ForAll("cases") TlbScopeCase k) {
        Tlb afterTlb = runTlb(k);
        List<TlbEntry> after = afterTlb.entries();
        List<TlbEntry> expected = TlbScopes.expectedAfter(k.fills(), k.op());
        List<PscEntry> expectedPsc = TlbScopes.expectedPscAfter(k.pscFills(), k.op());
        String kind = k.op().getClass().getSimpleName();
        Statistics.label("operation").collect(kind);
        boolean removed = expected.size() < k.fills().size();
        boolean kept = !expected.isEmpty();
        Statistics.label("scope").collect(removed && kept ? "some removed, some kept" : removed ? "all removed"
                : "none removed");
        boolean pscRemoved = expectedPsc.size() < k.pscFills().size();
        boolean pscKept = !expectedPsc.isEmpty();
        Statistics.label("paging-structure-cache scope").collect(pscRemoved && pscKept ? "some removed, some kept"
                : pscRemoved ? "all removed" : k.pscFills().isEmpty() ? "empty" : "none removed");
        Statistics.label("scope").coverage(cov -> cov.check("some removed, some kept").percentage(p -> p >= 20));
        Statistics.label("paging-structure-cache scope").coverage(cov -> cov.check("some removed, some kept")
                .percentage(p -> p >= 15));
        Statistics.label("operation").coverage(cov -> {
            for (String op : List.of("Invlpg", "MovToCr3", "MovToCr4", "MovToCr0ClearingPg", "PageFault", "Invvpid",
                    "Invept", "VmEntry", "VmExit", "EptViolation", "Invpcid")) {
                cov.check(op).percentage(p -> p >= 5);
            }
        });
        Optional<String> verdict = TlbScopes.judge(k.fills(), k.op(), after);
        assertThat(verdict).as("the TLB after the operation").isEmpty();
        Optional<String> pscVerdict = TlbScopes.judgePsc(k.pscFills(), k.op(), afterTlb.pscEntries());
        assertThat(pscVerdict).as("the paging-structure caches after the operation").isEmpty();
    }

    private static Tlb tlbOf(List<TlbEntry> entries, List<PscEntry> psc) {
        Tlb t = Tlb.empty(TlbPolicy.ADVERSARIAL);
        for (TlbEntry e : entries) {
            t = t.fill(e);
        }
        for (PscEntry e : psc) {
            t = t.fillPsc(e);
        }
        assertThat(t.entries()).as("the fills survive being replayed").isEqualTo(entries);
        assertThat(t.pscEntries()).as("the cache fills survive being replayed").isEqualTo(psc);
        return t;
    }

    /**
     * INVPCID with any operands: the privilege level, the register operand (the four types, reserved values, a value
     * with bit 63 set), the descriptor's first quadword (a PCID, a PCID with a reserved bit of 63:12 set, 0FFFH),
     * the descriptor's linear address (canonical or not) and CR4.PCIDE, over a TLB and caches filled as above.
     */
    record InvpcidOperands(TlbScopeCase k, int cpl, long type, long descriptorLow, long linear, boolean pcide,
            int currentPcid) {}

    @Provide
    Arbitrary<InvpcidOperands> invpcids() {
        return JqwikChoices.arbitrary(c -> {
            TlbScopeCase k = TlbScopeCases.generate(c);
            int cpl = c.weighted(3, 1) == 0 ? 0 : 1 + c.below(3);
            long type = c.weighted(8, 1) == 0 ? c.below(4) : c.oneOf(4L, 0xFFL, 1L << 63);
            long descriptor = switch (c.weighted(4, 4, 1, 1)) {
                case 0 -> 0;
                case 1 -> c.below(4);
                case 2 -> (1L << (12 + c.below(52))) | c.below(4);
                default -> 0xFFF;
            };
            long linear = c.weighted(3, 1) == 0 ? c.oneOf(0L, 0x1000L, 0x20_0000L, 0xFFFF_8000_0000_0000L)
                    : c.oneOf(0x0000_8000_0000_0000L, 0x8000_0000_0000_0000L, 0x00FF_0000_0000_0000L);
            boolean pcide = c.flag(true, 40);
            return new InvpcidOperands(k, cpl, type, descriptor, linear, pcide, pcide ? c.below(4) : 0);
        });
    }

    /**
     * SDM Vol. 2A INVPCID, "64-Bit Mode Exceptions", restated over the operands: #GP(0) if the CPL is not 0; if
     * INVPCID_TYPE &gt; 3; if bits 63:12 of INVPCID_DESC are not all zero; if CR4.PCIDE = 0, the type is 0 or 1 and
     * INVPCID_DESC[11:0] is not zero; if the type is 0 and the descriptor's linear address is not canonical. A fault
     * changes nothing (the machine is the one before); otherwise the instruction retires, leaves the processor state
     * as it was and invalidates exactly what {@link TlbScopes} says the type requires.
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void invpcidFaultsExactlyWhenTheSdmSaysAndAFaultChangesNothing(@ForAll("invpcids") InvpcidOperands o) {
        boolean gp = o.cpl() != 0 || Long.compareUnsigned(o.type(), 3) > 0 || (o.descriptorLow() >>> 12) != 0
                || Long.compareUnsigned(o.type(), 1) <= 0 && !o.pcide() && (o.descriptorLow() & 0xFFF) != 0
                || o.type() == 0 && (o.linear() >> 47) != 0 && (o.linear() >> 47) != -1;
        Statistics.label("INVPCID").collect(gp ? "#GP(0)" : "retired");
        Statistics.label("INVPCID").coverage(cov -> {
            cov.check("#GP(0)").percentage(p -> p >= 20);
            cov.check("retired").percentage(p -> p >= 20);
        });
        TlbTag tag = o.k().fills().isEmpty() ? new TlbTag(0, 0) : o.k().fills().get(0).tag();
        X86Machine m = machine(o.k(), cpu(o.pcide(), o.currentPcid(), true).withCpl(o.cpl()), tag);
        InstructionStep s = Processor.invpcid(m, o.type(), o.descriptorLow(), o.linear());
        if (gp) {
            assertThat(s.outcome()).as("%s", o).isInstanceOf(org.hybridv.x86.GeneralProtection.class);
            assertThat(s.machine()).as("a faulting INVPCID changes nothing").isEqualTo(m);
            return;
        }
        X86Machine after = retired(s);
        assertThat(after.cpu()).isEqualTo(m.cpu());
        Op op = new TlbScopeCase.Invpcid(tag, o.pcide(), o.currentPcid(),
                org.hybridv.x86.InvpcidType.ofValue(o.type()), (int) o.descriptorLow(), o.linear());
        assertThat(TlbScopes.judge(o.k().fills(), op, after.tlb().entries())).as("%s", o).isEmpty();
        assertThat(TlbScopes.judgePsc(o.k().pscFills(), op, after.tlb().pscEntries())).as("%s", o).isEmpty();
    }

    /** IA-32e paging, PML4 frame 1 (empty memory: every walk faults), CR4.PAE, and the given PCIDE / PCID / PGE. */
    static CpuState cpu(boolean pcide, int pcid, boolean pge) {
        CpuState c = CpuState.longMode(1, MAXPHY);
        c = c.withCr4(c.cr4().withPge(pge).withPcide(pcide));
        return pcide ? c.withCr3(new Cr3(c.cr3().pml4Base(), pcid)) : c;
    }

    private static X86Machine machine(TlbScopeCase k, CpuState cpu, TlbTag tag) {
        return new X86Machine(X86Machine.create(FRAMES, MAXPHY, TlbPolicy.ADVERSARIAL).memory(), cpu,
                tlbOf(k.fills(), k.pscFills()), tag);
    }

    private static X86Machine retired(InstructionStep s) {
        assertThat(s.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return s.machine();
    }

    private static Eptp eptp(long ep4ta) {
        return new Eptp(ep4ta | 0x1E); // write-back, 4-level
    }

    /** Runs the case's operation on the reference and returns the TLB entries after it. */
    static List<TlbEntry> run(TlbScopeCase k) {
        return runTlb(k).entries();
    }

    /** Runs the case's operation on the reference and returns the TLB (with its paging-structure caches) after it. */
    static Tlb runTlb(TlbScopeCase k) {
        Op op = k.op();
        if (op instanceof TlbScopeCase.Invlpg o) {
            return retired(Processor.invlpg(machine(k, cpu(o.pcid() != 0, o.pcid(), true), o.tag()), o.linear()))
                    .tlb();
        }
        if (op instanceof TlbScopeCase.MovToCr3 o) {
            X86Machine m = machine(k, cpu(o.pcide(), 0, true), o.tag());
            long value = (1L << 12) | o.newPcid() | (o.noFlush() ? Cr3.NO_FLUSH_BIT : 0);
            return retired(Processor.movToCr3(m, value)).tlb();
        }
        if (op instanceof TlbScopeCase.MovToCr4 o) {
            CpuState c = cpu(o.old().pcide(), o.currentPcid(), true);
            if (!o.paging()) {
                c = c.withCr0(c.cr0().withPg(false)); // first: PAE may be 0 only without IA-32e paging
            }
            c = c.withCr4(o.old());
            return retired(Processor.movToCr4(machine(k, c, o.tag()), o.next())).tlb();
        }
        if (op instanceof TlbScopeCase.MovToCr0ClearingPg o) {
            CpuState c = cpu(false, 0, true);
            return retired(Processor.movToCr0(machine(k, c, o.tag()), c.cr0().withPg(false))).tlb();
        }
        if (op instanceof TlbScopeCase.PageFault o) {
            X86Machine m = machine(k, cpu(o.pcid() != 0, o.pcid(), true).withCpl(3), o.tag());
            AccessStep s = Processor.access(m, Access.read(o.linear()));
            assertThat(s.outcome()).as("a CPL-3 read with empty tables or supervisor entries").isInstanceOf(
                    PageFault.class);
            return s.machine().tlb();
        }
        if (op instanceof TlbScopeCase.Invpcid o) {
            X86Machine m = machine(k, cpu(o.pcide(), o.currentPcid(), true), o.tag());
            return retired(Processor.invpcid(m, o.type().value(), o.pcid(), o.linear())).tlb();
        }
        if (op instanceof TlbScopeCase.Invvpid o) {
            RootStep s = Invvpid.execute(root(k, ExecutionControls.none()), o.type(), o.vpid(), o.linear());
            assertThat(s.outcome()).isEqualTo(new RootOutcome.Succeeded());
            return s.processor().machine().tlb();
        }
        if (op instanceof TlbScopeCase.Invept o) {
            RootStep s = Invept.execute(root(k, ExecutionControls.none()), o.type(), eptp(o.ep4ta()), MAXPHY);
            assertThat(s.outcome()).isEqualTo(new RootOutcome.Succeeded());
            return s.processor().machine().tlb();
        }
        if (op instanceof TlbScopeCase.VmEntry o) {
            return VmxSystems.enter(root(k, controls(o.vpidEnabled(), o.vpid(), o.ep4ta())), false).machine()
                    .tlb();
        }
        if (op instanceof TlbScopeCase.VmExit o) {
            VmxProcessor in = inGuest(k, o.vpidEnabled(), o.tag(), true);
            GuestStep s = NonRoot.execute(in, new GuestInstruction.Cpuid(0, 0));
            assertThat(s.outcome()).isInstanceOf(GuestOutcome.Exited.class);
            return s.processor().machine().tlb();
        }
        TlbScopeCase.EptViolation o = (TlbScopeCase.EptViolation) op;
        VmxProcessor in = inGuest(k, o.vpidEnabled(), o.tag(), !o.translatedAccess());
        GuestStep s = NonRoot.execute(in, new GuestInstruction.MemoryAccess(Access.write(o.linear(), 0)));
        assertThat(s.outcome()).isInstanceOf(GuestOutcome.Exited.class);
        var exit = ((GuestOutcome.Exited) s.outcome()).exit();
        assertThat(exit.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat((exit.qualification() & 0x100) != 0).as("bit 8").isEqualTo(o.translatedAccess());
        return s.processor().machine().tlb();
    }

    static ExecutionControls controls(boolean vpidEnabled, int vpid, long ep4ta) {
        ExecutionControls c = ExecutionControls.none();
        if (vpidEnabled) {
            c = VmxSystems.withVpid(c, vpid);
        }
        if (ep4ta != TlbTag.NO_EPT) {
            c = VmxSystems.withEpt(c, eptp(ep4ta));
        }
        return c;
    }

    /**
     * Root operation holding the case's fills (TLB and paging-structure caches), with a VMCS for a guest in IA-32e
     * mode.
     */
    private static VmxProcessor root(TlbScopeCase k, ExecutionControls c) {
        X86Machine guest = machine(k, cpu(false, 0, true), TlbTag.NATIVE);
        return VmxSystems.root(guest, c);
    }

    /**
     * A guest running in context {@code tag} (entered, then the TLB replaced by the case's fills); with EPT (the EPT
     * PML4 frames are empty: nothing is present) and guest CR0.PG as {@code paging}.
     */
    private static VmxProcessor inGuest(TlbScopeCase k, boolean vpidEnabled, TlbTag tag, boolean paging) {
        VmxProcessor in = VmxSystems.enter(root(new TlbScopeCase(List.of(), k.op()),
                controls(vpidEnabled, tag.vpid(), tag.ep4ta())), false);
        X86Machine m = in.machine();
        assertThat(m.tlbTag()).isEqualTo(tag);
        CpuState c = paging ? m.cpu() : m.cpu().withCr0(m.cpu().cr0().withPg(false));
        return in.withMachine(m.withCpu(c).withTlb(tlbOf(k.fills(), k.pscFills())));
    }
}
