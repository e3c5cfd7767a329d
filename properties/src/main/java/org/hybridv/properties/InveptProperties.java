package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.InveptType;
import org.hybridv.gen.Choices;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.Invept;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.RootOutcome;
import org.hybridv.vmx.RootStep;
import org.hybridv.vmx.VmxCapabilities;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * INVEPT against the instruction reference (Intel SDM Vol. 3C ch. 30, INVEPT; §28.3.3.1): "IF (INVEPT_TYPE is not
 * supported) THEN VMfailValid(Invalid operand to INVEPT/INVVPID)" — the types are IA32_VMX_EPT_VPID_CAP bits 25
 * (single-context) and 26 (all-context); a single-context INVEPT whose descriptor's EPTP fails the checks of §26.2.1.1
 * (memory type 0 or 6, page-walk length 4, bit 6 only with EPT A/D support, bits 11:7 and 63:N clear) is the same
 * VMfailValid 28, and an all-context one ignores the descriptor. A failure changes nothing; otherwise single-context
 * invalidates the combined mappings whose EP4TA is the descriptor's bits 51:12, all-context every combined mapping, and
 * neither touches a linear mapping (one made without EPT).
 */
class InveptProperties {
    static final int MAX = 39;
    static final long EP4TA_A = 0x20L << 12;
    static final long EP4TA_B = 0x30L << 12;

    record Case(Set<InveptType> supported, boolean eptAccessedDirty, InveptType type, long descriptor, Tlb tlb) {}

    static Case generate(Choices c) {
        Set<InveptType> supported = EnumSet.noneOf(InveptType.class);
        for (InveptType t : InveptType.values()) {
            if (c.flag(true, 20)) {
                supported.add(t);
            }
        }
        InveptType type = c.oneOf(InveptType.values());
        long eptp = c.flag(true, 30) ? EP4TA_A : EP4TA_B;
        int memoryType = c.flag(true, 30) ? 6 : 0;
        long walk = 3;
        switch (c.weighted(4, 1, 1, 1, 1, 1)) {
            case 1 -> memoryType = c.oneOf(1, 2, 3, 4, 5, 7);
            case 2 -> walk = c.oneOf(0L, 2L, 4L, 7L);
            case 3 -> eptp |= 1L << 6;
            case 4 -> eptp |= 1L << (7 + c.below(5));
            case 5 -> eptp |= 1L << (c.flag(true, 50) ? MAX : MAX + c.below(64 - MAX));
            default -> { }
        }
        eptp |= walk << 3 | memoryType;
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
        long[] tags = {EP4TA_A, EP4TA_B, TlbTag.NO_EPT};
        for (int i = 0; i < 6; i++) {
            if (c.flag(true, 30)) {
                long ep4ta = tags[i % 3];
                tlb = tlb.fill(new TlbEntry(new TlbTag(c.flag(false, 50) ? 1 : 0, ep4ta), 0, false,
                        (long) (i + 1) << 12, PageSize.SIZE_4K, (long) (i + 8) << 12, Rights.UNRESTRICTED, true,
                        ep4ta == TlbTag.NO_EPT ? TlbEntry.NO_STAGE2 : 7));
            }
        }
        return new Case(supported, c.flag(true, 50), type, eptp, tlb);
    }

    @Provide
    Arbitrary<Case> cases() {
        return JqwikChoices.arbitrary(InveptProperties::generate);
    }

    /** The EPTP checks of §26.2.1.1 over the raw descriptor: null if it passes, else which field fails. */
    static String invalid(long eptp, boolean accessedDirtySupported) {
        long type = eptp & 7;
        if (type != 0 && type != 6) {
            return "memory type";
        }
        if ((eptp >>> 3 & 7) != 3) {
            return "page-walk length";
        }
        if ((eptp & 1L << 6) != 0 && !accessedDirtySupported) {
            return "bit 6";
        }
        if ((eptp & 0xF80L) != 0) {
            return "11:7";
        }
        return eptp >>> MAX != 0 ? "63:" + MAX : null;
    }

    @Property(seed = Budget.SEED, tries = 500)
    void inveptFailsOrInvalidatesExactlyWhatTheSdmSays(@ForAll("cases") Case k) {
        VmxCapabilities caps = new VmxCapabilities(true, k.eptAccessedDirty(), k.supported(),
                EnumSet.allOf(InvvpidType.class));
        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(1), CpuState.longMode(0, MAX), k.tlb());
        VmxProcessor p = VmxSystems.root(m, ExecutionControls.none()).withCapabilities(caps);
        RootStep s = Invept.execute(p, k.type(), new Eptp(k.descriptor()), MAX);
        String bad = !k.supported().contains(k.type()) ? "not supported"
                : k.type() == InveptType.SINGLE_CONTEXT ? invalid(k.descriptor(), k.eptAccessedDirty()) : null;
        Statistics.label("outcome").collect(k.type() + ": " + (bad == null ? "invalidates" : bad));
        Statistics.label("outcome").coverage(cov -> {
            cov.check("SINGLE_CONTEXT: invalidates").count(n -> n >= 20);
            cov.check("ALL_CONTEXT: invalidates").count(n -> n >= 20);
            cov.check("SINGLE_CONTEXT: not supported").count(n -> n >= 5);
            cov.check("ALL_CONTEXT: not supported").count(n -> n >= 5);
            for (String f : new String[] {"memory type", "page-walk length", "bit 6", "11:7", "63:" + MAX}) {
                cov.check("SINGLE_CONTEXT: " + f).count(n -> n >= 1);
            }
        });
        String context = k.type() + " " + Long.toHexString(k.descriptor()) + " supported " + k.supported()
                + ", EPT A/D " + k.eptAccessedDirty() + ": " + s.outcome();
        if (bad != null) {
            assertThat(s.outcome()).as(context).isInstanceOf(RootOutcome.VmFailValid.class);
            RootOutcome.VmFailValid f = (RootOutcome.VmFailValid) s.outcome();
            assertThat(f.error()).as(context).isEqualTo(28);
            assertThat(f.reason()).as(context + ": the explanation names the check").contains(bad);
            assertThat(s.processor()).as(context + " changes nothing").isEqualTo(p);
            return;
        }
        assertThat(s.outcome()).as(context).isEqualTo(new RootOutcome.Succeeded());
        long ep4ta = k.descriptor() & ((1L << 52) - 1) & ~0xFFFL;
        List<TlbEntry> kept = new ArrayList<>();
        for (TlbEntry e : k.tlb().entries()) {
            boolean combined = e.tag().ep4ta() != TlbTag.NO_EPT;
            if (!combined || k.type() == InveptType.SINGLE_CONTEXT && e.tag().ep4ta() != ep4ta) {
                kept.add(e);
            }
        }
        assertThat(s.processor().machine().tlb().entries()).as(context).isEqualTo(kept);
        assertThat(s.processor().withMachine(p.machine())).as(context + ": only the TLB changes").isEqualTo(p);
    }
}
