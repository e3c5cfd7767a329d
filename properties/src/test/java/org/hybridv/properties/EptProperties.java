package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.EptCase;
import org.hybridv.gen.EptCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.TlbPolicy;

/**
 * Guest accesses under EPT (Intel SDM Vol. 3C §28.2): fewer EPT permissions never make an access succeed that EPT
 * refused (§28.2.3.2 — every EPT entry on the walk must grant the access), and an EPT misconfiguration is a property of
 * the entries, reported for whatever access reaches it (§28.2.3.1, §28.2.3.3 step 1b).
 */
class EptProperties {
    @Provide
    Arbitrary<EptCase> eptCases() {
        return JqwikChoices.arbitrary(c -> EptCases.generate(c, false));
    }

    @Provide
    Arbitrary<EptCase> permissiveGuestEptCases() {
        return JqwikChoices.arbitrary(c -> EptCases.generate(c, true));
    }

    static ExecutionControls controls(EptCase k) {
        return VmxSystems.withEpt(ExecutionControls.none(), k.eptp());
    }

    /** The case's access by a freshly launched guest (no cached translation). */
    static GuestStep run(EptCase k) {
        return NonRoot.execute(VmxSystems.launch(k.machine(TlbPolicy.NONE), controls(k)),
                new GuestInstruction.MemoryAccess(k.access()));
    }

    static String classify(GuestOutcome o) {
        if (o instanceof GuestOutcome.Retired) {
            return "success";
        }
        if (o instanceof GuestOutcome.Exited x) {
            ExitReason r = x.exit().reason();
            return r == ExitReason.EPT_VIOLATION ? "EPT violation"
                    : r == ExitReason.EPT_MISCONFIG ? "EPT misconfiguration" : "other exit";
        }
        return "guest exception";
    }

    @Property(seed = Budget.SEED, tries = 1000)
    void removingAnEptPermissionFromAnyEntryOnTheWalkNeverTurnsAViolationIntoASuccess(
            @ForAll("eptCases") EptCase k) {
        GuestStep before = run(k);
        String outcome = classify(before.outcome());
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(cov -> {
            cov.check("success").percentage(p -> p >= 15);
            cov.check("EPT violation").percentage(p -> p >= 20);
            cov.check("EPT misconfiguration").percentage(p -> p >= 3);
            cov.check("guest exception").percentage(p -> p >= 5);
        });
        if (!outcome.equals("EPT violation")) {
            return;
        }
        PhysicalMemory m = k.memory();
        for (long at : k.eptEntries()) {
            long entry = m.readPhysical(at);
            for (int bit = 0; bit < 3; bit++) {
                if ((entry & (1L << bit)) == 0) {
                    continue;
                }
                EptCase fewer = k.withMemory(m.writePhysical(at, entry & ~(1L << bit)));
                String after = classify(run(fewer).outcome());
                assertThat(after).as("%s after clearing %s in the EPT entry at 0x%x; before: %s",
                        k.access().kind(), "RWX".charAt(bit), at, before.outcome())
                        .isIn("EPT violation", "EPT misconfiguration");
            }
        }
    }

    @Property(seed = Budget.SEED, tries = 1000)
    void anEptMisconfigurationIsReportedWhateverTheAccessKind(@ForAll("permissiveGuestEptCases") EptCase k) {
        long linear = k.access().linear();
        List<GuestOutcome> outcomes = new ArrayList<>();
        for (AccessKind kind : AccessKind.values()) {
            Access a = new Access(linear, kind, false, kind == AccessKind.WRITE ? 0x5A5A : 0);
            outcomes.add(run(k.withAccess(a)).outcome());
        }
        long misconfigured = outcomes.stream().filter(o -> classify(o).equals("EPT misconfiguration")).count();
        Statistics.label("misconfiguration").collect(misconfigured == 0 ? "none" : "reported");
        Statistics.label("misconfiguration").coverage(cov -> {
            cov.check("reported").percentage(p -> p >= 10);
            cov.check("none").percentage(p -> p >= 30);
        });
        if (misconfigured == 0) {
            return;
        }
        // The guest's own paging grants everything and needs no A/D update: only EPT decides, and a misconfiguration
        // met on the way decides for every kind of access, at the same guest-physical address.
        GuestOutcome.Exited first = (GuestOutcome.Exited) outcomes.stream()
                .filter(o -> classify(o).equals("EPT misconfiguration")).findFirst().orElseThrow();
        for (int i = 0; i < outcomes.size(); i++) {
            GuestOutcome o = outcomes.get(i);
            assertThat(classify(o)).as("%s: %s vs %s", AccessKind.values()[i], o, first)
                    .isEqualTo("EPT misconfiguration");
            assertThat(((GuestOutcome.Exited) o).exit().guestPhysicalAddress())
                    .isEqualTo(first.exit().guestPhysicalAddress());
        }
    }
}
