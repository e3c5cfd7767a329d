package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.ept.InveptType;
import org.hybridv.gen.EptRewrite;
import org.hybridv.gen.InveptCase;
import org.hybridv.gen.InveptCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.PagingCase;
import org.hybridv.gen.Rewrite;
import org.hybridv.gen.VmxSystems;
import org.hybridv.gen.VpidCase;
import org.hybridv.gen.VpidCases;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.Invept;
import org.hybridv.vmx.Invvpid;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.RootOutcome;
import org.hybridv.vmx.RootStep;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Access;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.X86Machine;

/**
 * Cached translations in VMX (Intel SDM Vol. 3C §28.3) over an adversarial TLB, which keeps every translation the SDM
 * does not make it drop: VPIDs separate guests (§28.1, §28.3.2), and INVVPID and INVEPT (§28.3.3.3) leave no
 * translation of the scope they name, so the next access in that scope is what a walk of the current tables gives.
 */
class VpidInvalidationProperties {
    @Provide
    Arbitrary<VpidCase> vpidCases() {
        return JqwikChoices.arbitrary(VpidCases::generate);
    }

    @Provide
    Arbitrary<InveptCase> inveptCases() {
        return JqwikChoices.arbitrary(InveptCases::generate);
    }

    private static GuestStep access(VmxProcessor p, Access a) {
        return NonRoot.execute(p, new GuestInstruction.MemoryAccess(a));
    }

    /** What the access gives with nothing cached: the reference for "a fresh walk" of the current tables. */
    private static GuestOutcome fresh(VmxProcessor p, Access a) {
        return access(p.withMachine(p.machine().withTlb(Tlb.empty(TlbPolicy.ADVERSARIAL))), a).outcome();
    }

    /** Back to root operation: the step's own VM exit, or CPUID (which always exits, SDM 25.1.2). */
    private static VmxProcessor toRoot(GuestStep s) {
        VmxProcessor p = s.processor();
        if (p.mode() == VmxMode.ROOT) {
            return p;
        }
        GuestStep cpuid = NonRoot.execute(p, new GuestInstruction.Cpuid(0, 0));
        assertThat(cpuid.processor().mode()).isEqualTo(VmxMode.ROOT);
        return cpuid.processor();
    }

    /** The guest's tables after the case's rewrites of the entries on the access's walk. */
    private static PhysicalMemory rewritten(VpidCase k, PhysicalMemory memory, CpuState guest) {
        Access a = k.tlb().paging().access();
        if (!Canonical.isCanonical(a.linear())) {
            return memory;
        }
        List<VisitedEntry> path = PageWalk.walk(memory, guest, a.linear()).path();
        PhysicalMemory m = memory;
        for (Rewrite r : k.tlb().rewrites()) {
            m = r.applyTo(m, path);
        }
        return m;
    }

    /** Launch under the case's VPID, access (filling the TLB), exit, rewrite the guest's tables: root operation. */
    private static VmxProcessor filledThenRewritten(VpidCase k) {
        PagingCase pc = k.tlb().paging();
        VmxProcessor in = VmxSystems.launch(pc.machine(), VmxSystems.withVpid(ExecutionControls.none(), k.vpid()));
        VmxProcessor out = toRoot(access(in, pc.access()));
        X86Machine m = out.machine();
        return out.withMachine(m.withMemory(rewritten(k, m.memory(), pc.machine().cpu())));
    }

    /** Records whether re-entering with the case's VPID would use a stale translation (the property's teeth). */
    private static void classifyStaleness(VmxProcessor root, Access a) {
        VmxProcessor again = VmxSystems.enter(root, true);
        boolean stale = !access(again, a).outcome().equals(fresh(again, a));
        Statistics.label("before invalidation").collect(stale ? "stale translation in use" : "consistent");
        Statistics.label("before invalidation").coverage(cov ->
                cov.check("stale translation in use").percentage(p -> p >= 3));
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void withVpidATranslationFilledUnderOneVpidIsNeverUsedUnderAnother(@ForAll("vpidCases") VpidCase k) {
        Access a = k.tlb().paging().access();
        VmxProcessor root = filledThenRewritten(k);
        classifyStaleness(root, a);
        // A second VMCS, same guest state, another VPID.
        CpuState guest = k.tlb().paging().machine().cpu();
        VmxProcessor other = new VmxProcessor(root.machine(), VmxMode.ROOT,
                VmxSystems.vmcs(VmxSystems.withVpid(ExecutionControls.none(), k.otherVpid()), guest), false);
        VmxProcessor in = VmxSystems.enter(other, false);
        assertThat(in.machine().tlb().entries()).as("the other VPID starts with nothing of its own")
                .noneMatch(e -> e.tag().vpid() == k.otherVpid());
        GuestStep s = access(in, a);
        assertThat(s.outcome()).as("VPID %d after VPID %d filled its TLB", k.otherVpid(), k.vpid())
                .isEqualTo(fresh(in, a));
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void afterInvvpidOfAScopeNoEntryOfThatScopeRemainsAndAnAccessEqualsAFreshWalk(@ForAll("vpidCases") VpidCase k) {
        Access a = k.tlb().paging().access();
        VmxProcessor root = filledThenRewritten(k);
        classifyStaleness(root, a);
        int v = k.vpid();
        long linear = a.linear();
        RootStep inv = Invvpid.execute(root, k.type(), v, linear);
        if (k.type() == InvvpidType.INDIVIDUAL_ADDRESS && !Canonical.isCanonical(linear)) {
            assertThat(inv.outcome()).isInstanceOf(RootOutcome.VmFailValid.class);
            assertThat(((RootOutcome.VmFailValid) inv.outcome()).error()).as("non-canonical address").isEqualTo(28);
            return;
        }
        assertThat(inv.outcome()).isEqualTo(new RootOutcome.Succeeded());
        List<TlbEntry> left = inv.processor().machine().tlb().entries();
        switch (k.type()) {
            case INDIVIDUAL_ADDRESS -> assertThat(left).noneMatch(e -> e.tag().vpid() == v && e.covers(linear));
            case SINGLE_CONTEXT -> assertThat(left).noneMatch(e -> e.tag().vpid() == v);
            case ALL_CONTEXT -> assertThat(left).allMatch(e -> e.tag().vpid() == 0);
            case SINGLE_CONTEXT_RETAINING_GLOBALS -> assertThat(left).noneMatch(e -> e.tag().vpid() == v
                    && !e.global());
        }
        boolean globalKept = left.stream().anyMatch(e -> e.tag().vpid() == v && e.covers(linear) && e.global());
        Statistics.label("after " + k.type()).collect(globalKept ? "global translation retained" : "none retained");
        if (globalKept) {
            return; // type 3 keeps global translations by definition: outside the scope
        }
        VmxProcessor again = VmxSystems.enter(inv.processor(), true);
        assertThat(access(again, a).outcome()).as("after INVVPID %s", k.type()).isEqualTo(fresh(again, a));
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void afterInveptOfAScopeNoCombinedMappingOfThatScopeRemainsAndAnAccessEqualsAFreshWalk(
            @ForAll("inveptCases") InveptCase k) {
        Access a = k.ept().access();
        ExecutionControls c = VmxSystems.withVpid(VmxSystems.withEpt(ExecutionControls.none(), k.ept().eptp()),
                k.vpid());
        VmxProcessor in = VmxSystems.launch(k.ept().machine(TlbPolicy.ADVERSARIAL), c);
        GuestStep fill = access(in, a);
        Statistics.label("fill").collect(fill.outcome() instanceof GuestOutcome.Retired ? "cached" : "not cached");
        VmxProcessor out = toRoot(fill);
        PhysicalMemory m = out.machine().memory();
        for (EptRewrite r : k.rewrites()) {
            m = r.applyTo(m);
        }
        VmxProcessor root = out.withMachine(out.machine().withMemory(m));
        classifyStaleness(root, a);

        RootStep inv = Invept.execute(root, k.type(), k.ept().eptp(), k.ept().guest().maxPhysAddr());
        assertThat(inv.outcome()).isEqualTo(new RootOutcome.Succeeded());
        long ep4ta = k.ept().eptp().ep4ta();
        List<TlbEntry> left = inv.processor().machine().tlb().entries();
        if (k.type() == InveptType.SINGLE_CONTEXT) {
            assertThat(left).noneMatch(e -> e.tag().combined() && e.tag().ep4ta() == ep4ta);
        } else {
            assertThat(left).noneMatch(e -> e.tag().combined());
        }
        VmxProcessor again = VmxSystems.enter(inv.processor(), true);
        assertThat(access(again, a).outcome()).as("after INVEPT %s", k.type()).isEqualTo(fresh(again, a));
    }
}
