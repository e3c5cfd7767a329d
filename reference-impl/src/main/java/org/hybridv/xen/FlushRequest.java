package org.hybridv.xen;

import java.util.Comparator;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * A flush IPI pending on a target pCPU (Xen rule IPI-1; Xen {@code flush_area_mask} sends {@code INVALIDATE_TLB_VECTOR}
 * with the flush's flags and address, and the target's {@code invalidate_interrupt} runs {@code flush_area_local}):
 * which hypercall sent it and what the handler must invalidate there.
 *
 * @param sender the vCPU whose hypercall sent it (and waits for its acknowledgement, IPI-2)
 * @param scope  what the handler invalidates
 * @param domain the domain whose VPIDs a {@link Scope#DOMAIN} or {@link Scope#ADDRESS} flush names (-1 for
 *               {@link Scope#WHOLE})
 * @param linear the address of an {@link Scope#ADDRESS} flush (0 otherwise)
 */
public record FlushRequest(VcpuId sender, Scope scope, int domain, long linear) implements Comparable<FlushRequest> {
    /** What a flush IPI's handler invalidates on its pCPU. */
    public enum Scope {
        /**
         * The whole TLB ({@code FLUSH_TLB} of a type change, TLB-1/TLB-8: INVVPID all-context, the pCPU's clock time
         * advances).
         */
        WHOLE,
        /** Every translation of one domain (MU-5/TLB-3, MX-5, UVA-2: INVVPID single-context for each of its VPIDs). */
        DOMAIN,
        /** One address of one domain ({@code MMUEXT_INVLPG_ALL}, UVA-2: INVVPID individual-address per VPID). */
        ADDRESS
    }

    private static final Comparator<FlushRequest> ORDER = Comparator.comparing(FlushRequest::sender)
            .thenComparing(FlushRequest::scope).thenComparingInt(FlushRequest::domain)
            .thenComparingLong(FlushRequest::linear);

    public FlushRequest {
        Checks.notNull("sender", sender);
        Checks.notNull("scope", scope);
        if ((scope == Scope.WHOLE) != (domain == -1) || scope != Scope.ADDRESS && linear != 0) {
            throw new IllegalArgumentException("flush request " + scope + " with domain " + domain + ", linear "
                    + Hex.of(linear));
        }
    }

    /** A whole flush sent by {@code sender}'s hypercall. */
    public static FlushRequest whole(VcpuId sender) {
        return new FlushRequest(sender, Scope.WHOLE, -1, 0);
    }

    @Override
    public int compareTo(FlushRequest o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        return switch (scope) {
            case WHOLE -> "whole flush from " + sender;
            case DOMAIN -> "flush of d" + domain + " from " + sender;
            case ADDRESS -> "invlpg " + Hex.of(linear) + " of d" + domain + " from " + sender;
        };
    }
}
