package org.hybridv.xen;

import java.util.List;
import org.hybridv.x86.Checks;

/**
 * What the hypervisor keeps per shadow-mode vCPU (Xen {@code v->arch.paging.shadow}, {@code v->arch.hvm.guest_cr[3]}):
 * the CR3 the guest loaded (guest-physical; the hardware CR3 holds {@code root}), and the hypervisor-owned frames
 * holding its shadow tables (owner {@link FrameInfo#XEN}). The root is allocated with the vCPU and kept; the other
 * tables are allocated on demand when a #PF exit fills the shadow and released when the shadows are dropped.
 *
 * @param guestCr3 the guest's CR3 value (what MOV from CR3 returns)
 * @param root     the machine frame of the shadow L4, -1 if the vCPU is not in shadow mode
 * @param tables   the shadow table frames in use below the root
 */
public record ShadowState(long guestCr3, long root, List<Long> tables) {
    /** A vCPU that is not in shadow mode. */
    public static final ShadowState NONE = new ShadowState(0, -1, List.of());

    public ShadowState {
        Checks.notNull("tables", tables);
        tables = List.copyOf(tables);
    }

    public boolean active() {
        return root >= 0;
    }

    public ShadowState withGuestCr3(long v) {
        return new ShadowState(v, root, tables);
    }

    public ShadowState withTables(List<Long> t) {
        return new ShadowState(guestCr3, root, t);
    }
}
