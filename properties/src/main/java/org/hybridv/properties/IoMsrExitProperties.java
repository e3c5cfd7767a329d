package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.IoCase;
import org.hybridv.gen.IoCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.MsrCase;
import org.hybridv.gen.MsrCases;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.IoExits;
import org.hybridv.vmx.MsrExits;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * I/O-instruction and RDMSR/WRMSR exits (Intel SDM Vol. 3C §25.1.3, §24.6.4, §24.6.9), each checked against an
 * independent formulation of the SDM text: the I/O rule bit by bit over the ports the access touches, the MSR rule
 * from the raw set bits of the four regions.
 */
class IoMsrExitProperties {
    @Provide
    Arbitrary<IoCase> ioCases() {
        return JqwikChoices.arbitrary(IoCases::generate);
    }

    @Provide
    Arbitrary<MsrCase> msrCases() {
        return JqwikChoices.arbitrary(MsrCases::generate);
    }

    /** A guest at CPL 0 with nothing mapped: I/O and MSR instructions touch no memory. */
    private static VmxProcessor guest(ExecutionControls c) {
        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(1), CpuState.longMode(0, 39), Tlb.empty(TlbPolicy.NONE));
        return VmxSystems.launch(m, c);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void anIoInstructionExitsIffSomeCoveredPortBitIsSetOrUnconditionalExitingAppliesOrItWraps(
            @ForAll("ioCases") IoCase k) {
        GuestInstruction.Io io = k.instruction();
        // The bitmaps as the SDM lays them out: A for 0000H-7FFFH, B for 8000H-FFFFH, one bit per port.
        boolean[] a = new boolean[0x8000];
        boolean[] b = new boolean[0x8000];
        for (int port : k.portsSet()) {
            if (port < 0x8000) {
                a[port] = true;
            } else {
                b[port - 0x8000] = true;
            }
        }
        boolean expected;
        String why;
        if (!k.useIoBitmaps()) {
            expected = k.unconditionalIoExiting();
            why = expected ? "exit: unconditional" : "no exit: no I/O control";
        } else {
            expected = false;
            why = "no exit: clear bits";
            for (int i = 0; i < io.size(); i++) {
                int q = io.port() + i;
                if (q > 0xFFFF) {
                    expected = true;
                    why = "exit: wraps past FFFFH";
                    break;
                }
                boolean bit = q < 0x8000 ? a[q] : b[q - 0x8000];
                if (bit) {
                    expected = true;
                    why = q < 0x8000 ? "exit: bitmap A" : "exit: bitmap B";
                    break;
                }
            }
        }
        Statistics.label("decision").collect(why);
        Statistics.label("decision").coverage(cov -> {
            cov.check("exit: bitmap A").percentage(p -> p >= 5);
            cov.check("exit: bitmap B").percentage(p -> p >= 5);
            cov.check("exit: wraps past FFFFH").percentage(p -> p >= 1);
            cov.check("exit: unconditional").percentage(p -> p >= 3);
            cov.check("no exit: clear bits").percentage(p -> p >= 20);
        });

        ExecutionControls c = k.controls();
        assertThat(IoExits.exits(c.primary(), c.ioBitmaps(), io.port(), io.size())).as("%s", k).isEqualTo(expected);

        VmxProcessor g = guest(c);
        GuestStep s = NonRoot.execute(g, io);
        if (expected) {
            assertThat(s.outcome()).as("%s", k).isInstanceOf(GuestOutcome.Exited.class);
            ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
            assertThat(e.reason()).isEqualTo(ExitReason.IO_INSTRUCTION);
            // Table 27-5: 2:0 size - 1, 3 direction (1 = IN), 4 string, 5 REP, 6 operand (1 = immediate), 31:16 port
            long q = (io.size() - 1) | (io.in() ? 8 : 0) | (io.string() ? 0x10 : 0) | (io.rep() ? 0x20 : 0)
                    | (io.immediate() ? 0x40 : 0) | ((long) io.port() << 16);
            assertThat(e.qualification()).as("qualification of %s", io).isEqualTo(q);
            assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
        } else {
            // NonRoot's model (no device behind any port): IN reads all ones of the operand size, OUT writes nowhere;
            // the instruction retires in the guest and changes nothing
            long ones = io.size() == 4 ? 0xFFFF_FFFFL : io.size() == 2 ? 0xFFFFL : 0xFFL;
            assertThat(s.outcome()).as("%s", k).isEqualTo(new GuestOutcome.Retired(io.in() ? ones
                    : io.value() & ones));
            assertThat(s.processor()).as("%s changes nothing", io).isEqualTo(g);
        }
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void anMsrAccessExitsIffTheBitmapOrTheOutOfRangeRuleSaysSo(@ForAll("msrCases") MsrCase k) {
        long msr = k.msr();
        boolean low = msr >= 0 && msr <= 0x1FFF;
        boolean high = msr >= 0xC000_0000L && msr <= 0xC000_1FFFL;
        List<Integer> region = k.write() ? (low ? k.writeLow() : k.writeHigh()) : (low ? k.readLow() : k.readHigh());
        boolean expected;
        String why;
        if (!k.useMsrBitmaps()) {
            expected = true;
            why = "exit: no MSR bitmaps";
        } else if (!low && !high) {
            expected = true;
            why = "exit: outside both ranges";
        } else {
            // "bit n in read bitmap for low MSRs is 1, where n is the value of ECX" / "n is the value of ECX & 1FFFH"
            expected = region.contains((int) (msr & 0x1FFF));
            why = expected ? "exit: bit set" : "no exit: bit clear";
        }
        Statistics.label("decision").collect(why);
        Statistics.label("decision").coverage(cov -> {
            cov.check("exit: bit set").percentage(p -> p >= 15);
            cov.check("no exit: bit clear").percentage(p -> p >= 15);
            cov.check("exit: outside both ranges").percentage(p -> p >= 5);
            cov.check("exit: no MSR bitmaps").percentage(p -> p >= 5);
        });

        ExecutionControls c = k.controls();
        assertThat(MsrExits.exits(c.primary(), c.msrBitmap(), msr, k.write())).as("%s", k).isEqualTo(expected);

        VmxProcessor g = guest(c);
        GuestStep s = NonRoot.execute(g, k.instruction());
        if (expected) {
            assertThat(s.outcome()).as("%s", k).isInstanceOf(GuestOutcome.Exited.class);
            ExitReason reason = ((GuestOutcome.Exited) s.outcome()).exit().reason();
            assertThat(reason).isEqualTo(k.write() ? ExitReason.MSR_WRITE : ExitReason.MSR_READ);
        } else {
            // Not exiting, the instruction executes in the guest (CPL 0, IA-32e mode, EFER.NXE = 0). The processor
            // implements IA32_EFER only: any other MSR is #GP(0) (Vol. 2B RDMSR/WRMSR), delivered to the guest (no
            // exception exits). RDMSR of IA32_EFER reads LME (bit 8), LMA (bit 10) and NXE (bit 11); the generated
            // WRMSR writes 0, which would clear LME while CR0.PG = 1: #GP(0) (SDM Vol. 3A §9.8.5).
            GuestOutcome gp = new GuestOutcome.Delivered(13, 0, true, 0);
            boolean efer = msr == 0xC000_0080L;
            GuestOutcome expectedOutcome = efer && !k.write() ? new GuestOutcome.Retired((1L << 8) | (1L << 10)) : gp;
            Statistics.label("executed").collect((efer ? "IA32_EFER " : "other MSR ") + (k.write() ? "write" : "read"));
            Statistics.label("executed").coverage(cov -> {
                cov.check("IA32_EFER read").count(n -> n >= 1);
                cov.check("other MSR read").count(n -> n >= 20);
                cov.check("other MSR write").count(n -> n >= 20);
            });
            assertThat(s.outcome()).as("%s", k).isEqualTo(expectedOutcome);
            assertThat(s.processor()).as("%s changes nothing", k.instruction()).isEqualTo(g);
        }
    }
}
