package org.hybridv.scenario.vmx;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hybridv.scenario.Bad;
import org.hybridv.ept.EptViolationQualification;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;

/**
 * The VM-exit information fields (Intel SDM Vol. 3C §24.9, §27.2) a step expects; null means "do not check". Which
 * fields a file may name depends on the reason (checked by the constructor that takes the reasons): the qualification as a number for every reason
 * (SDM §27.2.1: "for all other VM exits, this field is cleared"), bit by bit for an EPT violation; the guest-physical
 * address for EPT violations and misconfigurations; the guest-linear address for EPT violations; the interruption
 * information for exceptions.
 *
 * @param reason             the basic exit reason, or null
 * @param entryFailure       bit 31 of the exit-reason field (a VM-entry failure, §26.7), or null
 * @param qualification      the exit qualification: all 64 bits, or bits of an EPT-violation qualification (table
 *                           27-7); or null
 * @param guestPhysical      the guest-physical-address field, or null
 * @param guestLinear        the guest-linear-address field, or null
 * @param interruption       the VM-exit interruption information (§24.9.2): all 32 bits or by field; or null
 */
public record ExitPattern(ExitReason reason, Boolean entryFailure, VmxStep.Qualification qualification,
        Long guestPhysical, Long guestLinear, VmxStep.Interruption interruption) {
    /**
     * The pattern, checked: a field the SDM defines only for some reasons comes with one of them named (a qualification object: EPT_VIOLATION; the guest-physical address:
     * EPT_VIOLATION, EPT_MISCONFIG; the guest-linear address: EPT_VIOLATION; the interruption information:
     * EXCEPTION_OR_NMI).
     */
    public ExitPattern {
        if (qualification != null && qualification.ept() != null) {
            requireReason(reason, "qualification", Set.of(ExitReason.EPT_VIOLATION), "an object names the bits of an"
                    + " EPT-violation qualification (SDM table 27-7); for other exits give the qualification as a"
                    + " number");
        }
        if (guestPhysical != null) {
            requireReason(reason, "guestPhysical", Set.of(ExitReason.EPT_VIOLATION, ExitReason.EPT_MISCONFIG), "the"
                    + " guest-physical address is reported by EPT violations and misconfigurations only (SDM"
                    + " §27.2.1)");
        }
        if (guestLinear != null) {
            requireReason(reason, "guestLinear", Set.of(ExitReason.EPT_VIOLATION), "this reference reports a guest-linear"
                    + " address for EPT violations only (SDM §27.2.1)");
        }
        if (interruption != null) {
            requireReason(reason, "interruption", Set.of(ExitReason.EXCEPTION_OR_NMI), "the VM-exit interruption"
                    + " information describes the exception that caused the exit (SDM §24.9.2)");
        }
    }

    private static void requireReason(ExitReason reason, String field, Set<ExitReason> allowed, String why) {
        if (reason == null || !allowed.contains(reason)) {
            List<String> names = allowed.stream().map(ExitReason::name).sorted().toList();
            throw Bad.at(field, (reason == null ? "needs \"reason\": " + String.join(" or ", names)
                    : "does not apply to reason " + reason.name()) + ": " + why);
        }
    }

    /** The checks against the exit information {@code info}; after a wrong reason, no other field is compared. */
    public List<Check> check(ExitInformation info) {
        List<Check> out = new ArrayList<>();
        if (reason != null) {
            Check r = Check.equal("reason", reason, info.reason());
            out.add(new Check(r.what(), VmxRender.reason(reason), VmxRender.reason(info.reason()), r.holds()));
            if (!r.holds()) {
                return out;
            }
        }
        Check.flag(out, "entryFailure", entryFailure, info.entryFailure());
        if (qualification != null && qualification.bits() != null) {
            out.add(Check.value("qualification", qualification.bits(), info.qualification(), Render::hex));
        }
        if (qualification != null && qualification.ept() != null) {
            VmxStep.EptQualification q = qualification.ept();
            Boolean[] expected = {q.read(), q.write(), q.fetch(), q.readable(), q.writable(), q.executable(),
                q.linearValid(), q.translatedAccess()};
            int[] bit = {EptViolationQualification.BIT_READ, EptViolationQualification.BIT_WRITE,
                EptViolationQualification.BIT_FETCH, EptViolationQualification.BIT_READABLE,
                EptViolationQualification.BIT_WRITABLE, EptViolationQualification.BIT_EXECUTABLE,
                EptViolationQualification.BIT_LINEAR_VALID, EptViolationQualification.BIT_TRANSLATED_ACCESS};
            for (int i = 0; i < expected.length; i++) {
                Check.flag(out, "qualification." + VmxStep.EptQualification.NAMES.get(i) + " (bit " + bit[i] + ")",
                        expected[i], ((info.qualification() >>> bit[i]) & 1) != 0);
            }
        }
        Check.value(out, "guestPhysical", guestPhysical, info.guestPhysicalAddress(), Render::hex);
        Check.value(out, "guestLinear", guestLinear, info.guestLinearAddress(), Render::hex);
        if (interruption != null && interruption.bits() != null) {
            out.add(Check.value("interruption", interruption.bits(), info.interruption().bits() & 0xFFFF_FFFFL,
                    Render::hex));
        }
        if (interruption != null && interruption.fields() != null) {
            VmxStep.InterruptionFields f = interruption.fields();
            if (f.vector() != null) {
                out.add(Check.value("interruption.vector", f.vector(), info.interruption().vector(),
                        v -> VmxRender.vector((int) v)));
            }
            if (f.type() != null) {
                out.add(Check.value("interruption.type", f.type(), info.interruption().type(),
                        v -> VmxRender.interruptionType((int) v)));
            }
            Check.flag(out, "interruption.errorCodeValid", f.errorCodeValid(), info.interruption().errorCodeValid());
            if (f.errorCode() != null) {
                boolean valid = info.interruption().errorCodeValid();
                long got = info.interruptionErrorCode() & 0xFFFF_FFFFL;
                out.add(new Check("interruption.errorCode", Render.errorCode(f.errorCode()),
                        valid ? Render.errorCode(got) : "none (error code valid = 0)",
                        valid && got == f.errorCode()));
            }
        }
        return out;
    }
}
