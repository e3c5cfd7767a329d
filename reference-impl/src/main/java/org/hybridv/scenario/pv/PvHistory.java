package org.hybridv.scenario.pv;

/**
 * What a PV scenario remembers across steps: the first I10 violation of its sends (null while none), for
 * {@code checkPv}.
 */
public record PvHistory(String routingViolation) {
    public static final PvHistory NONE = new PvHistory(null);
}
