package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.hybridv.check.SdmVmEntry;
import org.hybridv.gen.ListChoices;
import org.hybridv.gen.VmEntryCase;
import org.hybridv.gen.VmEntryCases;
import org.hybridv.vmx.EntryOutcome;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.VmEntries;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;
import org.junit.jupiter.api.Test;

/**
 * The VM-entry judge ({@link SdmVmEntry}) can fail: plausible slips in VMLAUNCH/VMRESUME, applied by hand to the
 * reference's own step, are each reported, while the reference's step on the same VMCS passes.
 */
class VmEntryMutantsTest {
    /** Choice 0 everywhere: VMLAUNCH of a clear VMCS, no secondary controls, IA-32e guest and host — a valid entry. */
    private static VmEntryCase valid() {
        return VmEntryCases.generate(new ListChoices(new ArrayList<>(Collections.nCopies(64, 0))));
    }

    @Test
    void anEntryThatKeepsVpid0000HTranslationsIsReported() {
        VmEntryCase k = valid();
        EntryStep ok = VmEntries.enter(k.root(), k.resume());
        assertThat(ok.outcome()).isInstanceOf(EntryOutcome.Entered.class);
        assertThat(SdmVmEntry.judge(k.root(), k.resume(), ok)).isEmpty();
        // the slip: "enable VPID" is 0, yet the entry keeps the host's (VPID 0000H) translations
        X86Machine m = ok.processor().machine();
        VmxProcessor kept = new VmxProcessor(new X86Machine(m.memory(), m.cpu(), k.root().machine().tlb(),
                m.tlbTag()), VmxMode.NON_ROOT, ok.processor().vmcs(), true);
        assertThat(SdmVmEntry.judge(k.root(), k.resume(), new EntryStep(ok.outcome(), kept)))
                .anySatisfy(s -> assertThat(s).contains("VPID 0000H invalidated"));
    }

    @Test
    void anEntryThatIgnoresTheCr3TargetCountIsReported() {
        VmEntryCase k = valid();
        VmxProcessor root = k.root();
        VmxProcessor five = new VmxProcessor(root.machine(), VmxMode.ROOT, root.vmcs().withControls(root.vmcs()
                .controls().withCr3TargetValues(List.of(0x1000L, 0x2000L, 0x3000L, 0x4000L, 0x5000L))), false);
        EntryStep ref = VmEntries.enter(five, false);
        assertThat(SdmVmEntry.judge(five, false, ref)).isEmpty();
        // the slip: the check compares with >= 5 only after 8, say: the entry goes ahead
        EntryStep entered = VmEntries.enter(new VmxProcessor(root.machine(), VmxMode.ROOT, root.vmcs(), false),
                false);
        assertThat(SdmVmEntry.judge(five, false, new EntryStep(entered.outcome(), entered.processor())))
                .anySatisfy(s -> assertThat(s).contains("expected VMfailValid(7)"));
    }

    @Test
    void anEntryTaggedWithoutItsVpidIsReported() {
        VmEntryCase k = valid();
        VmxProcessor root = k.root();
        var c = root.vmcs().controls();
        var withVpid = c.withPrimary(c.primary().withActivateSecondaryControls(true))
                .withSecondary(c.secondary().withEnableVpid(true)).withVpid(7);
        VmxProcessor p = new VmxProcessor(root.machine(), VmxMode.ROOT, root.vmcs().withControls(withVpid), false);
        EntryStep ok = VmEntries.enter(p, false);
        assertThat(SdmVmEntry.judge(p, false, ok)).isEmpty();
        assertThat(ok.processor().machine().tlbTag()).isEqualTo(new TlbTag(7, TlbTag.NO_EPT));
        // the slip: the translations are tagged 0000H as if VPIDs were off
        X86Machine m = ok.processor().machine();
        VmxProcessor untagged = new VmxProcessor(new X86Machine(m.memory(), m.cpu(), m.tlb(), TlbTag.NATIVE),
                VmxMode.NON_ROOT, ok.processor().vmcs(), true);
        assertThat(SdmVmEntry.judge(p, false, new EntryStep(ok.outcome(), untagged)))
                .anySatisfy(s -> assertThat(s).contains("translations tagged"));
    }
}
