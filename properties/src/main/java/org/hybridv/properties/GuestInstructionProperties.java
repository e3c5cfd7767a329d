package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.TlbScopes;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.gen.TlbScopeCases;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.PrimaryControls;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.InvpcidType;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * Guest instructions in VMX non-root operation whose outcome is decided by the VM-execution controls together with the
 * instruction's own faults (Intel SDM Vol. 3C §25.1.1 "Relative Priority of Faults and VM Exits", §25.1.3, table
 * 24-7): each is, in the SDM's order, an exception delivered to the guest, a VM exit with the exit information §27.2
 * defines, or the instruction's execution in the guest.
 */
class GuestInstructionProperties {
    /**
     * A guest at any CPL with "enable INVPCID" and "INVLPG exiting" each on or off, with or without VPID, its TLB and
     * paging-structure caches filled as {@link TlbScopeCases} fills them, executing INVPCID of a type 0..3 or a
     * reserved type, or HLT with "HLT exiting" on or off.
     */
    record Guest(VmxProcessor processor, boolean enableInvpcid, boolean invlpgExiting, boolean hltExiting,
            GuestInstruction.Invpcid invpcid) {}

    static final int MAXPHY = 36;

    @Provide
    Arbitrary<Guest> guests() {
        return JqwikChoices.arbitrary(c -> {
            TlbScopeCase k = TlbScopeCases.generate(c);
            boolean enable = c.flag(true, 30);
            boolean invlpgExiting = c.flag(false, 35);
            boolean hltExiting = c.flag(true, 50);
            boolean vpid = c.flag(false, 50);
            int vpidValue = 1 + c.below(2);
            ExecutionControls ctl = ExecutionControls.none();
            ctl = ctl.withPrimary(PrimaryControls.NONE.withInvlpgExiting(invlpgExiting).withHltExiting(hltExiting));
            ctl = VmxSystems.secondary(ctl, ctl.secondary().withEnableInvpcid(enable));
            if (vpid) {
                ctl = VmxSystems.withVpid(ctl, vpidValue);
            }
            CpuState cpu = CpuState.longMode(1, MAXPHY);
            int currentPcid = c.below(4);
            cpu = cpu.withCr4(cpu.cr4().withPcide(true).withPge(true));
            X86Machine m = new X86Machine(PhysicalMemory.ofFrames(16), cpu, Tlb.empty(TlbPolicy.ADVERSARIAL));
            VmxProcessor in = VmxSystems.launch(m, ctl);
            Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
            for (TlbEntry e : k.fills()) {
                tlb = tlb.fill(e);
            }
            for (PscEntry e : k.pscFills()) {
                tlb = tlb.fillPsc(e);
            }
            CpuState guest = in.machine().cpu().withCr3(new Cr3(cpu.cr3().pml4Base(), currentPcid))
                    .withCpl(c.weighted(75, 25) == 0 ? 0 : 1 + c.below(3));
            in = in.withMachine(in.machine().withCpu(guest).withTlb(tlb));
            long type = c.weighted(9, 1) == 0 ? c.below(4) : c.oneOf(4L, 0xFFL);
            GuestInstruction.Invpcid i = new GuestInstruction.Invpcid(type, c.below(4),
                    TlbScopeCases.poolLinear(c));
            return new Guest(in, enable, invlpgExiting, hltExiting, i);
        });
    }

    /**
     * INVPCID in the guest, in the SDM's order: with "enable INVPCID" = 0, #UD (table 24-7: "any execution of INVPCID
     * causes a #UD"; vector 6, no error code); at CPL &gt; 0, #GP(0) (a fault based on privilege level, which has
     * priority over the VM exit, §25.1.1); with "INVLPG exiting" = 1 (and "enable INVPCID" = 1), a VM exit with reason
     * 58 (§25.1.3) and no exception delivered; otherwise the instruction executes: #GP(0) for a type above 3
     * (Vol. 2A INVPCID), else it retires and removes from the TLB and the paging-structure caches exactly what
     * {@link TlbScopes} says for its type in the guest's VPID. A delivered exception and a VM exit change no cached
     * translation, and an exception is delivered with no VM exit (the exception bitmap is 0).
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void guestInvpcidIsUdThenGpThenAnExitThenItsOwnExecution(@ForAll("guests") Guest g) {
        VmxProcessor p = g.processor();
        GuestInstruction.Invpcid i = g.invpcid();
        CpuState cpu = p.machine().cpu();
        String expected = !g.enableInvpcid() ? "#UD" : cpu.cpl() != 0 ? "#GP(0), CPL > 0"
                : g.invlpgExiting() ? "VM exit" : i.type() > 3 ? "#GP(0), type > 3" : "retired";
        Statistics.label("INVPCID").collect(expected);
        Statistics.label("INVPCID").coverage(cov -> {
            for (String e : List.of("#UD", "#GP(0), CPL > 0", "VM exit", "#GP(0), type > 3", "retired")) {
                cov.check(e).count(n -> n >= 20);
            }
        });
        GuestStep s = NonRoot.execute(p, i);
        switch (expected) {
            case "#UD" -> assertDelivered(s, p, new GuestOutcome.Delivered(6, 0, false, 0));
            case "#GP(0), CPL > 0", "#GP(0), type > 3" -> assertDelivered(s, p,
                    new GuestOutcome.Delivered(13, 0, true, 0));
            case "VM exit" -> {
                assertThat(s.outcome()).as("%s", i).isInstanceOf(GuestOutcome.Exited.class);
                ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
                assertThat(e.reason()).isEqualTo(ExitReason.INVPCID);
                assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
                TlbScopeCase.Op exit = new TlbScopeCase.VmExit(p.vmcs().controls().vpidEnabled(),
                        p.machine().tlbTag());
                Tlb after = s.processor().machine().tlb();
                assertThat(TlbScopes.judge(p.machine().tlb().entries(), exit, after.entries()))
                        .as("the exit's own invalidation only").isEmpty();
                assertThat(TlbScopes.judgePsc(p.machine().tlb().pscEntries(), exit, after.pscEntries()))
                        .as("the exit's own invalidation only").isEmpty();
            }
            default -> {
                assertThat(s.outcome()).as("%s", i).isInstanceOf(GuestOutcome.Retired.class);
                assertThat(s.processor().mode()).isEqualTo(VmxMode.NON_ROOT);
                assertThat(s.processor().machine().cpu()).isEqualTo(cpu);
                TlbTag tag = p.machine().tlbTag();
                TlbScopeCase.Op op = new TlbScopeCase.Invpcid(tag, true, cpu.currentPcid(),
                        InvpcidType.ofValue(i.type()), (int) i.descriptorLow(), i.linear());
                Tlb before = p.machine().tlb();
                Tlb after = s.processor().machine().tlb();
                assertThat(TlbScopes.judge(before.entries(), op, after.entries())).as("%s", i).isEmpty();
                assertThat(TlbScopes.judgePsc(before.pscEntries(), op, after.pscEntries())).as("%s", i).isEmpty();
            }
        }
    }

    /**
     * HLT in the guest: #GP(0) at CPL &gt; 0 (a privileged instruction; the fault has priority over the exit,
     * §25.1.1); with "HLT exiting" = 1 a VM exit with reason 12 and qualification 0 (§25.1.3, §27.2.1: the
     * qualification is defined for none of HLT's exits); otherwise it retires in the guest (the halted activity
     * state is not modelled) and changes nothing.
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void guestHltFaultsAtCplAboveZeroThenExitsIfHltExitingElseRetires(@ForAll("guests") Guest g) {
        VmxProcessor p = g.processor();
        int cpl = p.machine().cpu().cpl();
        String expected = cpl != 0 ? "#GP(0)" : g.hltExiting() ? "VM exit" : "retired";
        Statistics.label("HLT").collect(expected);
        Statistics.label("HLT").coverage(cov -> {
            for (String e : List.of("#GP(0)", "VM exit", "retired")) {
                cov.check(e).percentage(pc -> pc >= 10);
            }
        });
        GuestStep s = NonRoot.execute(p, new GuestInstruction.Hlt());
        switch (expected) {
            case "#GP(0)" -> assertDelivered(s, p, new GuestOutcome.Delivered(13, 0, true, 0));
            case "VM exit" -> {
                assertThat(s.outcome()).isInstanceOf(GuestOutcome.Exited.class);
                ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
                assertThat(e.reason()).isEqualTo(ExitReason.HLT);
                assertThat(e.qualification()).isZero();
                assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
            }
            default -> {
                assertThat(s.outcome()).isInstanceOf(GuestOutcome.Retired.class);
                assertThat(s.processor()).as("HLT retired changes nothing").isEqualTo(p);
            }
        }
    }

    /**
     * A guest with CR4.PKE on or off, at any CPL, a PKRU drawn, the exception bitmap intercepting #UD, #GP, both or
     * neither, executing WRPKRU (EAX any 64-bit value, ECX and EDX mostly 0) or RDPKRU (ECX mostly 0).
     */
    record PkruCase(VmxProcessor processor, GuestInstruction instruction) {}

    @Provide
    Arbitrary<PkruCase> pkruCases() {
        return JqwikChoices.arbitrary(c -> {
            CpuState cpu = CpuState.longMode(1, MAXPHY);
            cpu = cpu.withCr4(cpu.cr4().withPke(c.flag(true, 25))).withCpl(c.flag(false, 50) ? 3 : 0)
                    .withPkru((int) c.bits64());
            int bitmap = (c.flag(false, 50) ? 1 << 6 : 0) | (c.flag(false, 50) ? 1 << 13 : 0);
            ExecutionControls ctl = ExecutionControls.none().withExceptionControls(bitmap, 0, 0);
            X86Machine m = new X86Machine(PhysicalMemory.ofFrames(16), CpuState.longMode(1, MAXPHY),
                    Tlb.empty(TlbPolicy.ADVERSARIAL));
            VmxProcessor in = VmxSystems.launch(m, ctl);
            in = in.withMachine(in.machine().withCpu(cpu));
            GuestInstruction i = c.flag(true, 40)
                    ? new GuestInstruction.Wrpkru(c.bits64(), c.flag(false, 15) ? 1L << c.below(32) : 0,
                            c.flag(false, 15) ? 1L << c.below(32) : 0)
                    : new GuestInstruction.Rdpkru(c.flag(false, 20) ? 1L << c.below(32) : 0);
            return new PkruCase(in, i);
        });
    }

    /**
     * WRPKRU and RDPKRU in the guest (SDM Vol. 2D WRPKRU, Vol. 2B RDPKRU): no VM-execution control makes either exit
     * and neither is privileged, so at any CPL: "#UD If CR4.PKE = 0"; then #GP(0) if ECX ≠ 0 (WRPKRU: or EDX ≠ 0);
     * each exception a VM exit with its vector exactly when the exception bitmap has that bit (§25.2; #GP with error
     * code 0, #UD with none), else delivered in the guest with nothing changed. Otherwise WRPKRU retires with PKRU :=
     * EAX[31:0] and nothing else changed (the TLB included: §4.10.2.2, the rights are checked at each access), RDPKRU
     * retires with the value of PKRU and changes nothing.
     */
    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void guestWrpkruAndRdpkruAreUdThenGpThenTheirOwnExecution(@ForAll("pkruCases") PkruCase k) {
        VmxProcessor p = k.processor();
        CpuState cpu = p.machine().cpu();
        GuestInstruction i = k.instruction();
        boolean write = i instanceof GuestInstruction.Wrpkru;
        boolean badOperand = write ? ((GuestInstruction.Wrpkru) i).ecx() != 0 || ((GuestInstruction.Wrpkru) i).edx()
                != 0 : ((GuestInstruction.Rdpkru) i).ecx() != 0;
        int vector = !cpu.cr4().pke() ? 6 : badOperand ? 13 : -1;
        boolean exits = vector >= 0 && (p.vmcs().controls().exceptionBitmap() & (1 << vector)) != 0;
        String expected = vector < 0 ? "retired" : (vector == 6 ? "#UD" : "#GP(0)") + (exits ? " exit" : " delivered");
        Statistics.label(write ? "WRPKRU" : "RDPKRU").collect(expected);
        Statistics.label(write ? "WRPKRU" : "RDPKRU").coverage(cov -> {
            for (String e : List.of("#UD exit", "#UD delivered", "#GP(0) exit", "#GP(0) delivered", "retired")) {
                cov.check(e).count(n -> n >= 15);
            }
        });
        GuestStep s = NonRoot.execute(p, i);
        if (vector < 0) {
            assertThat(s.processor().mode()).isEqualTo(VmxMode.NON_ROOT);
            if (write) {
                long eax = ((GuestInstruction.Wrpkru) i).eax() & 0xFFFF_FFFFL;
                assertThat(s.outcome()).isEqualTo(new GuestOutcome.Retired(eax));
                assertThat(s.processor()).as("WRPKRU changes PKRU only")
                        .isEqualTo(p.withMachine(p.machine().withCpu(cpu.withPkru((int) eax))));
            } else {
                assertThat(s.outcome()).isEqualTo(new GuestOutcome.Retired(cpu.pkru() & 0xFFFF_FFFFL));
                assertThat(s.processor()).as("RDPKRU changes nothing").isEqualTo(p);
            }
        } else if (exits) {
            assertThat(s.outcome()).as("%s", i).isInstanceOf(GuestOutcome.Exited.class);
            ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
            assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
            assertThat(e.interruption().vector()).isEqualTo(vector);
            assertThat(e.interruption().errorCodeValid()).isEqualTo(vector == 13);
            assertThat(e.interruptionErrorCode()).isZero();
            assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
            assertThat(s.processor().vmcs().guest().cpu().pkru()).as("no write happened").isEqualTo(cpu.pkru());
        } else {
            assertDelivered(s, p, vector == 6 ? new GuestOutcome.Delivered(6, 0, false, 0)
                    : new GuestOutcome.Delivered(13, 0, true, 0));
        }
    }

    /** An exception delivered to the guest: that outcome, still in non-root operation, nothing else changed. */
    private static void assertDelivered(GuestStep s, VmxProcessor p, GuestOutcome.Delivered expected) {
        assertThat(s.outcome()).isEqualTo(expected);
        assertThat(s.processor()).as("delivering %s changes nothing else", expected).isEqualTo(p);
    }
}
