package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.hybridv.vmx.ExceptionExits;
import org.hybridv.x86.ErrorCode;

/**
 * The #PF exit decision of {@code vmx/pf_filter} ({@code exits[c, e]}, SDM 24.6.3) against
 * {@link ExceptionExits#pageFaultExits}, on every instance of the run {@code filterTable}: every error code (6 bits)
 * × PFEC_MASK × PFEC_MATCH (each over P|W/R|U/S) × exception-bitmap bit 14 — 8192 instances.
 */
public final class PfFilterConformance {
    private PfFilterConformance() {}

    public static Conformance check() {
        Instances in = Instances.of("vmx/pf_filter", "filterTable");
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(Integer.MAX_VALUE, i -> {
            int error = bits(i.atoms("ErrorCode.bits"));
            int mask = bits(i.atoms("AnyControls.pfecMask"));
            int match = bits(i.atoms("AnyControls.pfecMatch"));
            boolean bit14 = i.holds("AnyControls.bit14 = True");
            boolean alloy = i.holds("exits[AnyControls, ErrorCode]");
            boolean java = ExceptionExits.pageFaultExits(bit14 ? 1 << ExceptionExits.PAGE_FAULT : 0, mask, match,
                    error);
            if (alloy != java) {
                bad.add(new Disagreement(String.format("error code %s, PFEC_MASK %#x, PFEC_MATCH %#x, bit 14 = %d",
                        new ErrorCode(error), mask, match, bit14 ? 1 : 0), exit(alloy), exit(java), i.text()));
            }
        });
        return new Conformance("#PF exit decision (exits vs ExceptionExits.pageFaultExits)", "vmx/pf_filter",
                "filterTable", n.instances(), n.exhaustive(), bad);
    }

    /** The error-code bits named by the vocabulary's EcBit atoms (SDM 4.7; Java ErrorCode.P … PK). */
    static int bits(Set<String> names) {
        int b = 0;
        for (String s : names) {
            b |= switch (s) {
                case "P" -> ErrorCode.P;
                case "WR" -> ErrorCode.WR;
                case "US" -> ErrorCode.US;
                case "RSVD" -> ErrorCode.RSVD;
                case "ID" -> ErrorCode.ID;
                case "PK" -> ErrorCode.PK;
                default -> throw new IllegalArgumentException("not an error-code bit: " + s);
            };
        }
        return b;
    }

    private static String exit(boolean e) {
        return e ? "VM exit" : "delivered to the guest";
    }
}
