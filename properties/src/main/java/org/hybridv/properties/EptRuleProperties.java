package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsCoverage;
import org.hybridv.check.Coverage;
import org.hybridv.ept.EptViolationQualification;
import org.hybridv.gen.EptCase;
import org.hybridv.gen.EptRuleCase;
import org.hybridv.gen.EptRuleCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmxSystems;
import org.hybridv.invariants.EptRules;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.TlbPolicy;

/**
 * Every corner of the EPT translation rules, each outcome judged exactly (Intel SDM Vol. 3C §28.2.2–§28.2.3, §27.2.1
 * table 27-7): a guest access whose walk meets one EPT entry rewritten by {@link EptRuleCases} — each R/W/X value, each
 * memory type, each reserved bit of its table, a bit of 51:MAXPHYADDR, an ignored bit, at each level, in entries that
 * reference a table and in those that map a 1-GByte, 2-MByte or 4-KByte page, on a processor with or without
 * execute-only translations — against {@link EptRules#access}, the rules restated over the raw entries: which
 * guest-physical access of the 2-D walk ends it (a read of a guest paging-structure entry, the write setting a guest
 * accessed/dirty flag, or the access itself) and how; then exactly the exit the SDM gives it — reason 48 (EPT
 * violation) with exit qualification bits 2:0 (the access; both 0 and 1 for a paging-structure access with EPT A/D
 * on), 5:3 (the AND of bits 2:0 over the EPT entries used), 7 and 8 (linear address valid; the access is to the
 * translation of the linear address, not to a paging-structure entry), every other bit 0, the guest-physical and the
 * guest-linear address; or reason 49 (EPT misconfiguration) with its guest-physical address and qualification 0; or no
 * exit at all — a completed access that read or wrote the host-physical address EPT maps to, or the guest's own #PF.
 */
class EptRuleProperties {
    @Provide
    Arbitrary<EptRuleCase> ruleCases() {
        return JqwikChoices.arbitrary(EptRuleCases::generate);
    }

    @Property(seed = Budget.SEED, tries = 500)
    void everyEptEntryCornerEndsTheAccessAsTheSdmSays(@ForAll("ruleCases") EptRuleCase r) {
        EptCase k = r.ept();
        EptRules.Expected want = EptRules.access(k.memory(), k.eptp().raw(), k.guest(), k.access(),
                r.capabilities().executeOnly());
        VmxProcessor root = VmxSystems.root(k.machine(TlbPolicy.NONE),
                VmxSystems.withEpt(ExecutionControls.none(), k.eptp())).withCapabilities(r.capabilities());
        GuestStep s = NonRoot.execute(VmxSystems.enter(root, false), new GuestInstruction.MemoryAccess(k.access()));
        GuestOutcome o = s.outcome();
        String outcome = outcome(want, k);
        collect(r, outcome);
        String context = r.region() + ", expected " + describe(want) + ", got " + o;
        if (want instanceof EptRules.Completed c) {
            assertThat(o).as(context).isInstanceOf(GuestOutcome.Retired.class);
            PhysicalMemory after = s.processor().machine().memory();
            long word = after.readPhysical(c.hostPhysical() & ~7L);
            boolean write = k.access().kind() == AccessKind.WRITE;
            // a host-physical address past the machine's memory is unbacked: a read returns all ones and a write
            // is dropped (nothing claims it, as a master-aborted access on a PC; PhysicalMemory)
            boolean unbacked = c.hostPhysical() >= after.size();
            long stored = unbacked ? PhysicalMemory.UNBACKED_READ : write ? k.access().value() : word;
            assertThat(((GuestOutcome.Retired) o).value()).as(context + ": the value %s host-physical %x",
                    write ? "written to" : "read at", c.hostPhysical()).isEqualTo(write ? k.access().value() : stored);
            assertThat(word).as(context + ": host memory at %x%s", c.hostPhysical(), unbacked ? " (unbacked)" : "")
                    .isEqualTo(stored);
        } else if (want instanceof EptRules.GuestFault) {
            assertThat(o).as(context).isInstanceOf(GuestOutcome.Delivered.class);
        } else {
            EptRules.EptExit x = (EptRules.EptExit) want;
            assertThat(o).as(context).isInstanceOf(GuestOutcome.Exited.class);
            ExitInformation e = ((GuestOutcome.Exited) o).exit();
            boolean violation = x.gpa().end() == EptRules.End.VIOLATION;
            assertThat(e.reason()).as(context).isEqualTo(violation ? ExitReason.EPT_VIOLATION
                    : ExitReason.EPT_MISCONFIG);
            assertThat(e.guestPhysicalAddress()).as(context + ": the guest-physical address")
                    .isEqualTo(x.gpa().guestPhysical());
            assertThat(Long.toBinaryString(e.qualification())).as(context + ": the exit qualification")
                    .isEqualTo(Long.toBinaryString(x.qualification()));
            if (violation) {
                assertThat(e.guestLinearAddress()).as(context + ": the guest-linear address").isEqualTo(x.linear());
                decodes(e.qualification());
            }
        }
    }

    /**
     * The reference's decoding of an EPT-violation qualification names the bits of table 27-7: bit 0 read, 1 write, 2
     * fetch, 3 readable, 4 writable, 5 executable, 7 linear address valid, 8 translated access; re-encoding gives the
     * same value; without a valid linear address (bits 7 and 8 clear, as for the loads of PAE PDPTEs) it is still a
     * qualification; a bit the reference does not model (6, 63:9), bit 8 without bit 7, or a fetch that is also a data
     * access is refused (API misuse).
     */
    private static void decodes(long q) {
        EptViolationQualification d = EptViolationQualification.fromBits(q);
        String[] names = {"read", "write", "fetch", "readable", "writable", "executable", null, "linearValid",
            "translatedAccess"};
        boolean[] got = {d.read(), d.write(), d.fetch(), d.readable(), d.writable(), d.executable(), false,
            d.linearValid(), d.translatedAccess()};
        List<String> set = new ArrayList<>();
        for (int bit = 0; bit < names.length; bit++) {
            if (names[bit] != null) {
                assertThat(got[bit]).as("%s (bit %d) decoded from %s", names[bit], bit, Long.toBinaryString(q))
                        .isEqualTo((q >>> bit & 1) != 0);
                if ((q >>> bit & 1) != 0) {
                    set.add(names[bit]);
                }
            }
        }
        assertThat(d.bits()).isEqualTo(q);
        String shown = d.toString();
        assertThat(List.of(shown.substring(shown.indexOf(' ') + 1, shown.length() - 1).split(" ")))
                .as("the bits %s names", shown).isEqualTo(set);
        assertThat(EptViolationQualification.fromBits(q & ~0x180L).linearValid()).isFalse();
        for (long other : new long[] {1L << 6, 1L << 9, 1L << 12, 1L << 63}) {
            assertThatThrownBy(() -> EptViolationQualification.fromBits(q | other))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> EptViolationQualification.fromBits(q & ~0x80L | 0x100L))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EptViolationQualification.fromBits(q | 0b101))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** How the access ends, by the rules: which guest-physical access stopped it and why. */
    private static String outcome(EptRules.Expected want, EptCase k) {
        if (want instanceof EptRules.Completed) {
            return "completed";
        }
        if (want instanceof EptRules.GuestFault) {
            return "guest fault";
        }
        EptRules.EptExit x = (EptRules.EptExit) want;
        String how = x.gpa().end() == EptRules.End.VIOLATION ? "violation" : "misconfiguration";
        String at = x.what().startsWith("the read of a guest paging-structure") ? "walk read"
                : x.what().startsWith("the write setting") ? "A/D write" : "final " + k.access().kind();
        return how + " at " + at + (how.equals("violation") && !at.startsWith("final")
                ? ", EPT A/D " + (k.eptp().accessedDirtyEnabled() ? "on" : "off") : "");
    }

    private static String describe(EptRules.Expected want) {
        if (want instanceof EptRules.EptExit x) {
            return x.gpa().end() + " qualification " + Long.toHexString(x.qualification()) + " (" + x.what() + ")";
        }
        return want.toString();
    }

    private static final String[] SHAPES = {"PML4E", "PDPTE", "PDPTE 1G", "PDE", "PDE 2M", "PTE"};

    /**
     * The floors: each rewrite of each shape of entry reached; each R/W/X value and each memory type of a leaf; a
     * 100b entry on a processor without execute-only support (a misconfiguration) and with it (a violation); each way
     * an access can end (a misconfiguration at the final access counted over the three kinds of access).
     */
    private static final List<Coverage.Floor> FLOORS = floors();

    /**
     * The floors as jqwik coverage checks, one per label, made once: jqwik keeps a check registered again only if it
     * is not already registered (by equality), so the same objects are registered on every try.
     */
    private static final Map<String, Consumer<StatisticsCoverage>> CHECKS = checks(FLOORS);

    private static Map<String, Consumer<StatisticsCoverage>> checks(List<Coverage.Floor> floors) {
        Map<String, List<Coverage.Floor>> byLabel = new LinkedHashMap<>();
        for (Coverage.Floor f : floors) {
            byLabel.computeIfAbsent(f.label(), l -> new ArrayList<>()).add(f);
        }
        Map<String, Consumer<StatisticsCoverage>> out = new LinkedHashMap<>();
        byLabel.forEach((label, fs) -> out.put(label, cov -> {
            for (Coverage.Floor f : fs) {
                cov.checkPattern(f.pattern()).percentage(p -> f.strictly() ? p > f.percent() : p >= f.percent());
            }
        }));
        return out;
    }

    private static List<Coverage.Floor> floors() {
        List<Coverage.Floor> floors = new ArrayList<>();
        for (String s : SHAPES) {
            for (String w : new String[] {"RWX", "memory type", "bit of 51:MAXPHYADDR", "ignored bit", "unchanged"}) {
                floors.add(Coverage.Floor.reached("entry rewritten", s + ": " + w));
            }
        }
        for (String s : new String[] {"PML4E: reserved bit 7:3", "PDPTE: reserved bit 6:3",
                "PDPTE 1G: reserved bit 29:12", "PDE: reserved bit 6:3", "PDE 2M: reserved bit 20:12",
                "PTE: guest table read-only, its A flag clear", "PTE: data page without the access's permission"}) {
            floors.add(Coverage.Floor.reached("entry rewritten", s));
        }
        for (int v = 0; v < 8; v++) {
            floors.add(Coverage.Floor.reached("leaf rewrite", "RWX=" + Integer.toBinaryString(8 | v).substring(1)));
            floors.add(Coverage.Floor.reached("leaf rewrite", "memory type " + v));
        }
        floors.add(Coverage.Floor.matchingAtLeast("execute-only entry", "unsupported: misconfiguration at .*", 0.1));
        floors.add(Coverage.Floor.matchingAtLeast("execute-only entry", "supported: violation at .*", 0.1));
        for (String v : new String[] {"completed", "guest fault", "violation at walk read, EPT A/D off",
                "violation at walk read, EPT A/D on", "violation at A/D write, EPT A/D off", "violation at final READ",
                "violation at final WRITE", "violation at final FETCH", "misconfiguration at walk read"}) {
            floors.add(Coverage.Floor.reached("outcome", v));
        }
        // a misconfiguration met by the final access, whatever its kind (EptProperties shows the kind does not matter)
        floors.add(Coverage.Floor.matchingAtLeast("outcome", "misconfiguration at final .*", 0.5));
        return List.copyOf(floors);
    }

    private static void collect(EptRuleCase r, String outcome) {
        String region = r.region();
        String shape = region.substring(0, region.indexOf(':'));
        String what = region.substring(region.indexOf(':') + 2);
        String kind = what.startsWith("RWX") ? "RWX" : what.startsWith("memory type") ? "memory type" : what;
        Statistics.label("entry rewritten").collect(shape + ": " + kind);
        boolean leaf = shape.equals("PTE") || shape.contains(" ");
        Statistics.label("leaf rewrite").collect(leaf && !kind.equals(what) ? what : "other");
        Statistics.label("execute-only entry").collect(what.equals("RWX=100")
                ? (r.capabilities().executeOnly() ? "supported: " : "unsupported: ") + outcome : "other");
        Statistics.label("outcome").collect(outcome);
        CHECKS.forEach((label, check) -> Statistics.label(label).coverage(check));
    }
}
