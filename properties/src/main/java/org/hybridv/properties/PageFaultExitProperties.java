package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.GuestFaultCase;
import org.hybridv.gen.GuestFaultCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.PageFaultFilter;
import org.hybridv.gen.PageFaultFilterCase;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExceptionExits;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.InterruptionInfo;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.Translation;
import org.hybridv.x86.X86Machine;

/**
 * #PF in VMX non-root operation (Intel SDM Vol. 3C §24.6.3, §25.2, §27.1, §27.2): which page faults cause VM exits,
 * what the guest sees when they do not, and that an exiting #PF leaves CR2 alone.
 */
class PageFaultExitProperties {
    private static final long LINEAR = 0x7FFF_F000_0008L;

    /**
     * SDM 24.6.3, as a truth table over its two sentences, indexed [equality holds][bit 14]: "If the equality holds, a
     * page fault causes a VM exit if bit 14 of the exception bitmap is 1 (and does not cause a VM exit if that bit is
     * 0). If the equality does not hold, a page fault causes a VM exit if bit 14 of the exception bitmap is 0 (and does
     * not cause a VM exit if that bit is 1)."
     */
    private static final boolean[][] EXITS = {
        /* equality does not hold: */ {/* bit 14 = 0 */ true, /* bit 14 = 1 */ false},
        /* equality holds:         */ {/* bit 14 = 0 */ false, /* bit 14 = 1 */ true},
    };

    @Provide
    Arbitrary<PageFaultFilterCase> filterCases() {
        return JqwikChoices.arbitrary(GuestFaultCases::filterCase);
    }

    @Provide
    Arbitrary<GuestFaultCase> seedFilterGuests() {
        return JqwikChoices.arbitrary(GuestFaultCases::seedFilter);
    }

    @Provide
    Arbitrary<GuestFaultCase> filteredGuests() {
        return JqwikChoices.arbitrary(GuestFaultCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void thePageFaultExitDecisionEqualsTheSdmTruthTableForEveryBitmapMaskMatchAndErrorCode(
            @ForAll("filterCases") PageFaultFilterCase k) {
        PageFaultFilter f = k.filter();
        int ec = k.errorCode();
        // (PFEC AND PFEC_MASK) = PFEC_MATCH, bit by bit over the 32-bit fields
        boolean equality = true;
        for (int i = 0; i < 32; i++) {
            int e = (ec >>> i) & 1;
            int m = (f.pfecMask() >>> i) & 1;
            int t = (f.pfecMatch() >>> i) & 1;
            if ((e & m) != t) {
                equality = false;
            }
        }
        int bit14 = (f.exceptionBitmap() >>> 14) & 1;
        boolean expected = EXITS[equality ? 1 : 0][bit14];
        Statistics.label("equality").collect(equality ? "holds" : "does not hold");
        Statistics.label("decision").collect(expected ? "exit" : "delivered");
        Statistics.label("equality").coverage(cov -> {
            cov.check("holds").percentage(p -> p >= 20);
            cov.check("does not hold").percentage(p -> p >= 20);
        });
        Statistics.label("decision").coverage(cov -> {
            cov.check("exit").percentage(p -> p >= 25);
            cov.check("delivered").percentage(p -> p >= 25);
        });

        assertThat(ExceptionExits.exits(f.controls(), 14, ec)).as("ExceptionExits for %s", k).isEqualTo(expected);

        // The same decision where it is taken: an exception raised in a running guest.
        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(1), CpuState.longMode(0, 39).withCr2(0x1234),
                Tlb.empty(TlbPolicy.NONE));
        VmxProcessor guest = VmxSystems.launch(m, f.controls());
        GuestStep s = NonRoot.raise(guest, 14, ec, LINEAR);
        if (expected) {
            assertThat(s.outcome()).as("%s", k).isInstanceOf(GuestOutcome.Exited.class);
            ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
            assertThat(e.interruption()).isEqualTo(new InterruptionInfo(14, 3, true, true));
            assertThat(e.interruptionErrorCode()).isEqualTo(ec);
        } else {
            assertThat(s.outcome()).as("%s", k).isEqualTo(new GuestOutcome.Delivered(14, ec, true, LINEAR));
        }
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void withTheSeedFilterNoUserModePageFaultExitsAndEverySupervisorPageFaultExits(
            @ForAll("seedFilterGuests") GuestFaultCase g) {
        X86Machine m = g.machine();
        Access a = g.paging().access();
        CpuState cpu = m.cpu();
        VmxProcessor in = VmxSystems.launch(m, g.filter().controls());
        GuestStep s = NonRoot.execute(in, new GuestInstruction.MemoryAccess(a));
        // What the guest's own page walk says, on bare memory (SDM 25.3: paging in the guest is unchanged).
        Translation t = PageWalk.translate(m.memory(), cpu, a);
        boolean user = a.isUserMode(cpu);
        String kind = !(t instanceof PageFault) ? "no #PF" : user ? "user-mode #PF" : "supervisor-mode #PF";
        Statistics.label("fault").collect(kind);
        Statistics.label("fault").coverage(cov -> {
            cov.check("user-mode #PF").percentage(p -> p >= 10);
            cov.check("supervisor-mode #PF").percentage(p -> p >= 10);
            cov.check("no #PF").percentage(p -> p >= 10);
        });
        if (!(t instanceof PageFault pf)) {
            assertThat(isPageFault(s.outcome())).as("no #PF in the walk, none in the guest: %s", s.outcome())
                    .isFalse();
            return;
        }
        int ec = pf.errorCode().bits();
        assertThat(pf.errorCode().us()).as("U/S of the error code is the access's mode").isEqualTo(user);
        if (user) {
            assertThat(s.outcome()).as("a user-mode #PF reaches the guest kernel")
                    .isEqualTo(new GuestOutcome.Delivered(14, ec, true, a.linear()));
            assertThat(s.processor().mode()).isEqualTo(VmxMode.NON_ROOT);
            assertThat(s.processor().machine().cpu().cr2()).isEqualTo(a.linear());
        } else {
            assertThat(s.outcome()).as("a supervisor-mode #PF exits").isInstanceOf(GuestOutcome.Exited.class);
            ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
            assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
            assertThat(e.qualification()).isEqualTo(a.linear());
            assertThat(e.interruption().bits()).isEqualTo(0x8000_0B0E);
            assertThat(e.interruptionErrorCode()).isEqualTo(ec);
            assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
        }
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void aPageFaultThatExitsNeverChangesTheGuestsCr2(@ForAll("filteredGuests") GuestFaultCase g) {
        VmxProcessor in = VmxSystems.launch(g.machine(), g.filter().controls());
        GuestStep s = NonRoot.execute(in, new GuestInstruction.MemoryAccess(g.paging().access()));
        GuestOutcome o = s.outcome();
        String what = o instanceof GuestOutcome.Exited x && x.exit().interruption().vector() == 14
                && x.exit().interruption().valid() ? "#PF exited"
                : isPageFault(o) ? "#PF delivered" : "other";
        Statistics.label("outcome").collect(what);
        Statistics.label("outcome").coverage(cov -> {
            cov.check("#PF exited").percentage(p -> p >= 15);
            cov.check("#PF delivered").percentage(p -> p >= 15);
        });
        long cr2 = s.processor().machine().cpu().cr2();
        switch (what) {
            case "#PF exited" -> {
                assertThat(s.processor().vmcs().guest().cpu().cr2()).as("the guest's CR2 as saved at the exit")
                        .isEqualTo(g.cr2());
                assertThat(cr2).as("the CR2 register the host now sees").isEqualTo(g.cr2());
            }
            case "#PF delivered" -> assertThat(cr2).isEqualTo(g.paging().access().linear());
            default -> assertThat(cr2).isEqualTo(g.cr2());
        }
    }

    private static boolean isPageFault(GuestOutcome o) {
        if (o instanceof GuestOutcome.Delivered d) {
            return d.vector() == 14;
        }
        return o instanceof GuestOutcome.Exited x && x.exit().reason() == ExitReason.EXCEPTION_OR_NMI
                && x.exit().interruption().vector() == 14;
    }
}
