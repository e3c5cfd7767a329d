package org.hybridv.gen;

/** A #PF error code and the exception-exit controls that decide it (Intel SDM Vol. 3C §24.6.3). */
public record PageFaultFilterCase(PageFaultFilter filter, int errorCode) {
    @Override
    public String toString() {
        return String.format("PageFaultFilterCase[%s, error code %08x]", filter, errorCode);
    }
}
