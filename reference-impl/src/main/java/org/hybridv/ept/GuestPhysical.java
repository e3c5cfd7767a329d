package org.hybridv.ept;

import org.hybridv.x86.Hex;

/**
 * The width of guest-physical addresses under 4-level EPT (Intel SDM Vol. 3C §28.2.2).
 *
 * <p>SDM 28.2.2: "The EPT translation mechanism uses only bits 47:0 of each guest-physical address." Its footnote:
 * "No processors supporting the Intel 64 architecture support more than 48 physical-address bits. Thus, no such
 * processor can produce a guest-physical address with more than 48 bits. An attempt to use such an address causes a
 * page fault. An attempt to load CR3 with such an address causes a general-protection fault."
 *
 * <p><b>Decision: a guest-physical address with any of bits 63:48 set is API misuse, not an outcome.</b> Reasoning:
 * <ul>
 * <li>Every guest-physical address the guest produces comes from CR3 or from the address field of a guest
 * paging-structure entry, bits M-1:12 for the guest's MAXPHYADDR M, bits 51:M being reserved (a #PF with RSVD = 1
 * before the address is used, Vol. 3A §4.5.4) — so it is below 2<sup>M</sup> ≤ 2<sup>52</sup>: bits 63:52 are never set.
 * With guest CR0.PG = 0 the guest is not in IA-32e mode and its linear (= guest-physical) addresses have at most 32
 * bits.</li>
 * <li>Bits 51:48 can be set only if M &gt; 48, which the footnote excludes for every processor of the 2016-era SDM
 * ("no such processor can produce a guest-physical address with more than 48 bits"; the guest's page walk raises
 * #PF first).</li>
 * <li>So such an address reaching the EPT walk means its caller modelled a guest the architecture does not have. The
 * literal alternative — ignore bits 63:48 because the walk "uses only bits 47:0" — would silently alias
 * 2<sup>48</sup> + x to x, a behaviour no processor of that SDM can show; a reference should not invent it.</li>
 * </ul>
 * Consequence for the 2-D walk: under EPT give the guest a MAXPHYADDR of at most 48 (the x86 layer accepts 36..52),
 * or test {@link #isTranslatable(long)} before calling the EPT walk.
 */
public final class GuestPhysical {
    private GuestPhysical() {}

    /** Bits 47:0 are used by the 4-level EPT walk (SDM 28.2.2). */
    public static final int WIDTH = 48;

    /** Whether {@code guestPhysical} has bits 63:48 clear, so the 4-level EPT walk can translate it. */
    public static boolean isTranslatable(long guestPhysical) {
        return (guestPhysical >>> WIDTH) == 0;
    }

    /** {@code guestPhysical}, or IllegalArgumentException naming it if bits 63:48 are not all 0. */
    public static long check(long guestPhysical) {
        if (!isTranslatable(guestPhysical)) {
            throw new IllegalArgumentException("guest-physical address " + Hex.of(guestPhysical) + " sets bits 63:48;"
                    + " EPT uses only bits 47:0 and no processor produces a wider guest-physical address (SDM 28.2.2"
                    + " footnote 1): the guest walk must fault first (give the guest MAXPHYADDR <= 48)");
        }
        return guestPhysical;
    }
}
