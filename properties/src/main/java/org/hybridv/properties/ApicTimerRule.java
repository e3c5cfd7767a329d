package org.hybridv.properties;

/**
 * The local APIC timer's count-down as Intel SDM Vol. 3A §10.5.4 states it, restated for the properties' own models
 * of the timer (never the reference's code): the current count decreases once per divide value of bus clocks, so
 * clocks short of a whole divide value count toward the next decrement; at zero the timer expires — in one-shot mode
 * it stays at zero, in periodic mode it is reloaded from the initial count and counts on. A count of zero does not
 * run.
 *
 * @param count   the current count after the clocks
 * @param phase   the clocks counted toward the next decrement after them (0 once a one-shot timer expired)
 * @param expired whether the count reached zero during them
 */
record ApicTimerRule(long count, long phase, boolean expired) {
    /**
     * The timer with current count {@code count} and divider phase {@code phase} after {@code clocks} bus clocks,
     * divided by {@code divideBy}, with initial count {@code init}, in periodic mode or not.
     */
    static ApicTimerRule after(long count, long phase, long init, boolean periodic, long divideBy, long clocks) {
        if (count == 0) {
            return new ApicTimerRule(0, phase, false);
        }
        long decrements = (phase + clocks) / divideBy;
        long left = (phase + clocks) % divideBy;
        if (decrements < count) {
            return new ApicTimerRule(count - decrements, left, false);
        }
        return periodic ? new ApicTimerRule(init - (decrements - count) % init, left, true)
                : new ApicTimerRule(0, 0, true);
    }
}
