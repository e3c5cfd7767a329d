package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.CrAccessCase;
import org.hybridv.gen.CrAccessCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * Control-register accesses in VMX non-root operation (Intel SDM Vol. 3C §25.1.1, §25.1.3, §25.3, §27.2.1 table
 * 27-3; Vol. 3A §2.5, §4.10.1), each judged against the SDM's text restated here with the architectural bit
 * positions, not the reference's helpers: the privilege check first (#GP at CPL &gt; 0, itself an exception exit if
 * bit 13 of the exception bitmap is set), then MOV to CR0/CR4 exits iff a host-owned bit of the source differs from
 * the read shadow, MOV to CR3 iff CR3-load exiting is on and the source is none of the CR3-target values, MOV from
 * CR3 iff CR3-store exiting; the qualification; and what an access that does not exit does.
 */
class CrAccessExitProperties {
    // SDM Vol. 3A §2.5: CR0.PE bit 0, WP bit 16, PG bit 31; CR4.PSE 4, PAE 5, PGE 7, PCIDE 17, SMEP 20, SMAP 21,
    // PKE 22 (the bits the reference models)
    private static final long PE = 1L;
    private static final long WP = 1L << 16;
    private static final long PG = 1L << 31;
    private static final long CR0_MODELLED = PE | WP | PG;
    private static final long PAE = 1L << 5;
    private static final long PCIDE = 1L << 17;
    private static final long CR4_MODELLED = (1L << 4) | PAE | (1L << 7) | PCIDE | (1L << 20) | (1L << 21)
            | (1L << 22);

    @Provide
    Arbitrary<CrAccessCase> crCases() {
        return JqwikChoices.arbitrary(CrAccessCases::generate);
    }

    private static long cr0Of(CpuState s) {
        return (s.cr0().pe() ? PE : 0) | (s.cr0().wp() ? WP : 0) | (s.cr0().pg() ? PG : 0);
    }

    private static long cr4Of(CpuState s) {
        return (s.cr4().pse() ? 1L << 4 : 0) | (s.cr4().pae() ? PAE : 0) | (s.cr4().pge() ? 1L << 7 : 0)
                | (s.cr4().pcide() ? PCIDE : 0) | (s.cr4().smep() ? 1L << 20 : 0) | (s.cr4().smap() ? 1L << 21 : 0)
                | (s.cr4().pke() ? 1L << 22 : 0);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void aControlRegisterAccessExitsIffTheSdmSaysSoAndOtherwiseDoesWhatTheSdmSays(
            @ForAll("crCases") CrAccessCase k) {
        CpuState g = k.guest();
        long cr0 = cr0Of(g);
        long cr4 = cr4Of(g);
        boolean to = k.insn() instanceof GuestInstruction.MovToCr;
        int cr = to ? ((GuestInstruction.MovToCr) k.insn()).cr() : ((GuestInstruction.MovFromCr) k.insn()).cr();
        int reg = to ? ((GuestInstruction.MovToCr) k.insn()).register()
                : ((GuestInstruction.MovFromCr) k.insn()).register();
        long src = to ? ((GuestInstruction.MovToCr) k.insn()).value() : 0;

        // the decision, from the SDM
        boolean gp = g.cpl() != 0;
        boolean exits;
        String why;
        if (gp) {
            exits = false;
            why = "CPL 3: #GP" + (k.gpExits() ? " (exception exit)" : "");
        } else if (to && (cr == 0 || cr == 4)) {
            long mask = cr == 0 ? k.cr0Mask() : k.cr4Mask();
            long shadow = cr == 0 ? k.cr0Shadow() : k.cr4Shadow();
            exits = ((src ^ shadow) & mask) != 0;
            why = "MOV to CR" + cr + (exits ? ": host-owned bit differs" : mask == 0 ? ": all guest-owned"
                    : ": host-owned bits match");
        } else if (to) {
            exits = k.cr3LoadExiting() && !k.cr3Targets().contains(src);
            why = "MOV to CR3: " + (!k.cr3LoadExiting() ? "no load exiting" : exits ? "no target matches"
                    : "a target matches");
        } else {
            exits = cr == 3 && k.cr3StoreExiting();
            why = "MOV from CR" + cr + (exits ? ": store exiting" : "");
        }
        Statistics.label("decision").collect(why);
        Statistics.label("decision").coverage(cov -> {
            cov.check("CPL 3: #GP").percentage(p -> p >= 2);
            cov.check("CPL 3: #GP (exception exit)").percentage(p -> p >= 1);
            cov.check("MOV to CR0: host-owned bit differs").percentage(p -> p >= 5);
            cov.check("MOV to CR0: host-owned bits match").percentage(p -> p >= 5);
            cov.check("MOV to CR4: host-owned bit differs").percentage(p -> p >= 2);
            cov.check("MOV to CR4: host-owned bits match").percentage(p -> p >= 3);
            cov.check("MOV to CR3: no target matches").percentage(p -> p >= 3);
            cov.check("MOV to CR3: a target matches").percentage(p -> p >= 1);
            cov.check("MOV to CR3: no load exiting").percentage(p -> p >= 3);
            cov.check("MOV from CR3: store exiting").percentage(p -> p >= 1);
            cov.check("MOV from CR0").percentage(p -> p >= 1);
            cov.check("MOV from CR4").percentage(p -> p >= 1);
        });

        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(1), g, Tlb.empty(TlbPolicy.NONE));
        VmxProcessor p = VmxSystems.launch(m, k.controls());
        GuestStep s = NonRoot.execute(p, k.insn());
        if (exits) {
            assertThat(s.outcome()).as("%s", k).isInstanceOf(GuestOutcome.Exited.class);
            ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
            assertThat(e.reason()).as("%s", k).isEqualTo(ExitReason.CR_ACCESS);
            // table 27-3: 3:0 the CR, 5:4 the access type (0 MOV to, 1 MOV from), 11:8 the register
            assertThat(e.qualification()).as("qualification of %s", k).isEqualTo(cr | (to ? 0 : 1L << 4)
                    | ((long) reg << 8));
            assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
            return;
        }
        // what the instruction does in non-root operation (§25.3), with the processor's own #GP checks
        CpuState after = s.processor().machine().cpu();
        boolean fault = gp;
        if (!gp && to && cr == 0) {
            long v = (cr0 & k.cr0Mask()) | (src & ~k.cr0Mask());
            // §2.5: PG with PE clear; §4.10.1: clearing PG while CR4.PCIDE = 1
            fault = ((v & PG) != 0 && (v & PE) == 0) || ((v & PG) == 0 && (cr4 & PCIDE) != 0);
            if (!fault) {
                assertThat(cr0Of(after)).as("CR0 after %s", k).isEqualTo(v & CR0_MODELLED);
            }
        } else if (!gp && to && cr == 4) {
            long v = (cr4 & k.cr4Mask()) | (src & ~k.cr4Mask());
            // §9.8.5: clearing PAE in IA-32e mode (the guest's CR3 has PCID 0: setting PCIDE is allowed)
            fault = (v & PAE) == 0;
            if (!fault) {
                assertThat(cr4Of(after)).as("CR4 after %s", k).isEqualTo(v & CR4_MODELLED);
            }
        } else if (!gp && to) {
            // with CR4.PCIDE bit 63 is "no flush", not part of CR3; any other bit at or above MAXPHYADDR: #GP
            long operand = (cr4 & PCIDE) != 0 ? src & ~(1L << 63) : src;
            fault = (operand >>> g.maxPhysAddr()) != 0;
            if (!fault) {
                assertThat(after.cr3().bits()).as("CR3 after %s", k).isEqualTo(operand);
            }
        } else if (!gp) {
            long expected = switch (cr) {
                case 0 -> (k.cr0Shadow() & k.cr0Mask()) | (cr0 & ~k.cr0Mask());
                case 4 -> (k.cr4Shadow() & k.cr4Mask()) | (cr4 & ~k.cr4Mask());
                case 3 -> g.cr3().bits();
                default -> g.cr2();
            };
            assertThat(s.outcome()).as("%s", k).isEqualTo(new GuestOutcome.Retired(expected));
        }
        if (fault) {
            if (k.gpExits()) {
                assertThat(s.outcome()).as("%s", k).isInstanceOf(GuestOutcome.Exited.class);
                ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
                assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
                assertThat(e.interruption().vector()).isEqualTo(13);
            } else {
                assertThat(s.outcome()).as("%s", k).isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
                assertThat(after.cr0()).isEqualTo(g.cr0());
                assertThat(after.cr3()).isEqualTo(g.cr3());
                assertThat(after.cr4()).isEqualTo(g.cr4());
            }
        } else {
            assertThat(s.outcome()).as("%s", k).isInstanceOf(GuestOutcome.Retired.class);
            assertThat(s.processor().mode()).isEqualTo(VmxMode.NON_ROOT);
        }
    }
}
