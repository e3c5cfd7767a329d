package org.hybridv.gen;

import org.hybridv.x86.ErrorCode;

/**
 * Generates {@link GuestFaultCase}s: {@link PagingCases} (whose accesses fault often, at CPL 0 and 3) with a generated
 * exception-exit filter, or with the seed's filter.
 *
 * <p>Choice 0 everywhere gives the simplest paging case and CR2 = 0, with bitmap = mask = match = 0 from
 * {@link #generate} and the bare seed filter (bitmap bit 14 only) from {@link #seedFilter}.
 */
public final class GuestFaultCases {
    private GuestFaultCases() {}

    /** Any filter ({@link PageFaultFilters#generate(Choices)}). */
    public static GuestFaultCase generate(Choices c) {
        PagingCase paging = PagingCases.generate(c);
        PageFaultFilter filter = PageFaultFilters.generate(c);
        return new GuestFaultCase(paging, filter, c.bits64());
    }

    /**
     * The seed's filter — exception bitmap bit 14 = 1, PFEC_MASK = U/S, PFEC_MATCH = 0 — with the other exception
     * bitmap bits drawn at random (they decide #GP and the like, never #PF).
     */
    public static GuestFaultCase seedFilter(Choices c) {
        PagingCase paging = PagingCases.generate(c);
        int others = c.flag(false, 40) ? PageFaultFilters.int32(c) : 0;
        PageFaultFilter filter = new PageFaultFilter(others | PageFaultFilter.BIT14, ErrorCode.US, 0);
        return new GuestFaultCase(paging, filter, c.bits64());
    }

    /** A filter case for the exit-decision formula alone. */
    public static PageFaultFilterCase filterCase(Choices c) {
        int errorCode = PageFaultFilters.errorCode(c);
        return new PageFaultFilterCase(PageFaultFilters.generate(c, errorCode), errorCode);
    }
}
