package org.hybridv.gen;

import org.hybridv.vmx.InvvpidType;
import org.hybridv.x86.TlbPolicy;

/**
 * Generates {@link VpidCase}s over an adversarial TLB: a {@link TlbCases} case, two distinct non-zero VPIDs (often 1,
 * 2 and FFFFH, the edges of the 16-bit field), and an INVVPID type.
 *
 * <p>Choice 0 everywhere gives VPIDs 1 and 2 and INVVPID type 0.
 */
public final class VpidCases {
    private VpidCases() {}

    public static VpidCase generate(Choices c) {
        TlbCase tlb = TlbCases.generate(c, TlbPolicy.ADVERSARIAL);
        int vpid = vpid(c);
        int other = vpid(c);
        if (other == vpid) {
            other = vpid % 0xFFFF + 1;
        }
        if (other == vpid) {
            other = vpid == 1 ? 2 : 1;
        }
        InvvpidType type = c.oneOf(InvvpidType.values());
        return new VpidCase(tlb, vpid, other, type);
    }

    static int vpid(Choices c) {
        return switch (c.weighted(40, 30, 15, 15)) {
            case 0 -> 1;
            case 1 -> 2;
            case 2 -> 0xFFFF;
            default -> 1 + c.below(0xFFFF);
        };
    }
}
