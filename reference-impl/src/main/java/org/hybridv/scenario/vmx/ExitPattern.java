package org.hybridv.scenario.vmx;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptViolationQualification;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;

/**
 * The VM-exit information fields (Intel SDM Vol. 3C §24.9, §27.2) a step expects; null means "do not check". Which
 * fields a file may name depends on the reason ({@link VmxDecoders}): the qualification as a number for every reason
 * (SDM §27.2.1: "for all other VM exits, this field is cleared"), bit by bit for an EPT violation; the guest-physical
 * address for EPT violations and misconfigurations; the guest-linear address for EPT violations; the interruption
 * information for exceptions.
 *
 * @param reason             the basic exit reason, or null
 * @param entryFailure       bit 31 of the exit-reason field (a VM-entry failure, §26.7), or null
 * @param qualification      the exit qualification, all 64 bits, or null
 * @param eptQualification   bits of an EPT-violation qualification (table 27-7), or null
 * @param guestPhysical      the guest-physical-address field, or null
 * @param guestLinear        the guest-linear-address field, or null
 * @param interruption       the VM-exit interruption-information field, all 32 bits, or null
 * @param interruptionFields parts of the interruption information and its error code, or null
 */
public record ExitPattern(ExitReason reason, Boolean entryFailure, Long qualification,
        EptQualification eptQualification, Long guestPhysical, Long guestLinear, Long interruption,
        InterruptionFields interruptionFields) {

    /** Bits of an EPT-violation exit qualification (SDM table 27-7); null means "do not check". */
    public record EptQualification(Boolean read, Boolean write, Boolean fetch, Boolean readable, Boolean writable,
            Boolean executable, Boolean linearValid, Boolean translatedAccess) {
        static final List<String> NAMES = List.of("read", "write", "fetch", "readable", "writable", "executable",
                "linearValid", "translatedAccess");

        void check(long bits, List<Check> out) {
            Boolean[] expected = {read, write, fetch, readable, writable, executable, linearValid, translatedAccess};
            int[] bit = {EptViolationQualification.BIT_READ, EptViolationQualification.BIT_WRITE,
                EptViolationQualification.BIT_FETCH, EptViolationQualification.BIT_READABLE,
                EptViolationQualification.BIT_WRITABLE, EptViolationQualification.BIT_EXECUTABLE,
                EptViolationQualification.BIT_LINEAR_VALID, EptViolationQualification.BIT_TRANSLATED_ACCESS};
            for (int i = 0; i < expected.length; i++) {
                if (expected[i] != null) {
                    out.add(Check.of("qualification." + NAMES.get(i) + " (bit " + bit[i] + ")",
                            String.valueOf(expected[i]), String.valueOf(((bits >>> bit[i]) & 1) != 0)));
                }
            }
        }
    }

    /**
     * Parts of the VM-exit interruption information (SDM §24.9.2, table 24-15) and the interruption error code; null
     * means "do not check".
     *
     * @param vector         bits 7:0
     * @param type           bits 10:8 (3 = hardware exception)
     * @param errorCodeValid bit 11
     * @param errorCode      the VM-exit interruption error code (meaningful when bit 11 is 1)
     */
    public record InterruptionFields(Integer vector, Integer type, Boolean errorCodeValid, Long errorCode) {}

    /** The checks of this pattern against {@code info}; when the reason differs, only the reason is compared. */
    public List<Check> check(ExitInformation info) {
        List<Check> out = new ArrayList<>();
        if (reason != null) {
            Check r = Check.of("reason", VmxRender.reason(reason), VmxRender.reason(info.reason()));
            out.add(r);
            if (!r.holds()) {
                return out;
            }
        }
        if (entryFailure != null) {
            out.add(Check.of("entryFailure", String.valueOf(entryFailure), String.valueOf(info.entryFailure())));
        }
        if (qualification != null) {
            out.add(Check.of("qualification", Render.hex(qualification), Render.hex(info.qualification())));
        }
        if (eptQualification != null) {
            eptQualification.check(info.qualification(), out);
        }
        if (guestPhysical != null) {
            out.add(Check.of("guestPhysical", Render.hex(guestPhysical), Render.hex(info.guestPhysicalAddress())));
        }
        if (guestLinear != null) {
            out.add(Check.of("guestLinear", Render.hex(guestLinear), Render.hex(info.guestLinearAddress())));
        }
        if (interruption != null) {
            out.add(Check.of("interruption", Render.hex(interruption),
                    Render.hex(info.interruption().bits() & 0xFFFF_FFFFL)));
        }
        if (interruptionFields != null) {
            InterruptionFields f = interruptionFields;
            if (f.vector() != null) {
                out.add(Check.of("interruption.vector", VmxRender.vector(f.vector()),
                        VmxRender.vector(info.interruption().vector())));
            }
            if (f.type() != null) {
                out.add(Check.of("interruption.type", VmxRender.interruptionType(f.type()),
                        VmxRender.interruptionType(info.interruption().type())));
            }
            if (f.errorCodeValid() != null) {
                out.add(Check.of("interruption.errorCodeValid", String.valueOf(f.errorCodeValid()),
                        String.valueOf(info.interruption().errorCodeValid())));
            }
            if (f.errorCode() != null) {
                out.add(Check.of("interruption.errorCode", Render.errorCode(f.errorCode()),
                        info.interruption().errorCodeValid()
                                ? Render.errorCode(info.interruptionErrorCode() & 0xFFFF_FFFFL)
                                : "none (error code valid = 0)"));
            }
        }
        return out;
    }
}
