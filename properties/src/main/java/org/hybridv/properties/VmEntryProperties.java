package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.SdmVmEntry;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmEntryCase;
import org.hybridv.gen.VmEntryCases;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.VmEntries;

/**
 * VMLAUNCH and VMRESUME against the SDM (Vol. 3C chapter 26): every generated entry — the launch state against the
 * instruction, the control checks of §26.2.1.1, the host-state checks of §26.2.2, the guest-state checks of §26.3.1.1
 * in that order — has the outcome and the post-state {@link SdmVmEntry} restates from the manual. Coverage floors on
 * each outcome, so that no check goes unexercised.
 */
class VmEntryProperties {
    @Provide
    Arbitrary<VmEntryCase> entries() {
        return JqwikChoices.arbitrary(VmEntryCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyVmEntryDoesWhatTheSdmSays(@ForAll("entries") VmEntryCase k) {
        EntryStep step = VmEntries.enter(k.root(), k.resume());
        List<String> bad = SdmVmEntry.judge(k.root(), k.resume(), step);
        assertThat(bad).as("%s from %s", k.resume() ? "VMRESUME" : "VMLAUNCH", k.root().vmcs()).isEmpty();
        SdmVmEntry.Expected e = SdmVmEntry.expected(k.root(), k.resume());
        String label = e instanceof SdmVmEntry.Expected.VmFailValid f ? "VMfailValid " + f.error()
                : e instanceof SdmVmEntry.Expected.EntryFailure ? "entry failure" : "entered";
        Statistics.label("outcome").collect(label);
        Statistics.label("outcome").coverage(cov -> {
            cov.check("entered").percentage(p -> p >= 15);
            cov.check("VMfailValid 4").count(n -> n >= 10);
            cov.check("VMfailValid 5").count(n -> n >= 10);
            cov.check("VMfailValid 7").percentage(p -> p >= 10);
            cov.check("VMfailValid 8").count(n -> n >= 10);
            cov.check("entry failure").count(n -> n >= 10);
        });
        String why = e instanceof SdmVmEntry.Expected.VmFailValid f ? f.why().replaceAll("[0-9]+", "N")
                : e instanceof SdmVmEntry.Expected.EntryFailure f ? f.why() : "none";
        Statistics.label("check failed").collect(why);
        Statistics.label("check failed").coverage(cov -> {
            cov.check("CRN-target count > N").count(n -> n >= 5);
            cov.check("enable VPID with VPID NH").count(n -> n >= 5);
            cov.check("EPTP memory type N").count(n -> n >= 5);
            cov.check("EPTP page-walk length - N = N").count(n -> n >= 5);
            cov.check("EPTP bits N:N set").count(n -> n >= 5);
            cov.check("unrestricted guest without enable EPT").count(n -> n >= 5);
            cov.check("EPTP bit N without EPT A/D support").count(n -> n >= 3);
            cov.check("host CRN.PE/PG not N").count(n -> n >= 5);
        });
    }
}
