package org.hybridv.guest;

import org.hybridv.x86.Checks;

/**
 * The bare processor's local APIC timer in x2APIC mode, as far as the kernel's clock event device uses it (Intel SDM
 * Vol. 3A §10.5.4 "APIC Timer", §10.12.1.2 "x2APIC Register Address Space", Table 10-6): the LVT timer register
 * (832H), the initial count (838H), the current count (839H, read-only), the divide configuration (83EH) and EOI
 * (80BH, write-only, 0 only). The firmware left the APIC in x2APIC mode (IA32_APIC_BASE.EXTD = 1, §10.12.1), the
 * mode in which the hypervisor's emulated APIC is reached too ({@code X2ApicEmulation}); the model's time is
 * {@link Platform#advanceTime} ticks of the bus clock. The same registers and the same rules as the hypervisor's
 * emulation (EMU-3, EMU-5), here in hardware.
 *
 * @param lvtTimer  vector (7:0), mask (16), timer mode (18:17); masked at reset (§10.4.7.1)
 * @param initCount the initial count
 * @param curCount  the current count: 0 when the timer does not run
 * @param divConf   the divide configuration, bits 0, 1 and 3
 * @param requested the timer's vector is requested (IRR): the count reached zero, not yet delivered
 * @param inService the vector in service (ISR), 0 if none: delivered, no EOI yet
 * @param delivered the interrupts delivered through the IDT so far
 * @param phase     the bus clocks the divider has counted toward the next decrement, 0 up to the divide value minus 1
 *                  (clocks short of a whole divide value carry over); 0 when the initial count is written
 */
public record LocalApic(long lvtTimer, long initCount, long curCount, long divConf, boolean requested, int inService,
        int delivered, long phase) {
    /** x2APIC MSRs (SDM Vol. 3A Table 10-6). */
    public static final long EOI = 0x80B;
    public static final long LVT_TIMER = 0x832;
    public static final long INIT_COUNT = 0x838;
    public static final long CUR_COUNT = 0x839;
    public static final long DIV_CONF = 0x83E;
    /** The LVT mask bit (§10.5.1). */
    public static final long MASKED = 1L << 16;
    /** LVT timer mode bits 18:17 and the periodic mode (§10.5.4, Figure 10-8); one-shot is 00. */
    static final long MODE_BITS = 3L << 17;
    static final long PERIODIC = 1L << 17;

    /** After reset: LVT masked, counts 0 (§10.4.7.1). */
    public static final LocalApic RESET = new LocalApic(MASKED, 0, 0, 0, false, 0, 0, 0);

    public LocalApic {
        Checks.inRange("vector in service", inService, 0, 255);
        if (delivered < 0 || phase < 0 || phase >= 128) {
            throw new IllegalArgumentException("interrupts delivered " + delivered + ", divider phase " + phase);
        }
    }

    /** Whether {@code msr} is one of the registers above. */
    public static boolean owns(long msr) {
        return msr == EOI || msr == LVT_TIMER || msr == INIT_COUNT || msr == CUR_COUNT || msr == DIV_CONF;
    }

    /**
     * WRMSR to one of the registers: the APIC after it, or null for #GP(0) (a non-zero EOI, the read-only current
     * count; SDM §10.12.1.2). EOI ends the interrupt in service; the initial count (re)arms the timer (a count of 0
     * stops it); the LVT keeps vector, mask and mode.
     */
    LocalApic write(long msr, long value) {
        if (msr == EOI) {
            return value == 0 ? new LocalApic(lvtTimer, initCount, curCount, divConf, requested, 0, delivered, phase)
                    : null;
        }
        if (msr == LVT_TIMER) {
            return new LocalApic(value & (0xFFL | MASKED | MODE_BITS), initCount, curCount, divConf, requested,
                    inService, delivered, phase);
        }
        if (msr == INIT_COUNT) {
            long c = value & 0xFFFF_FFFFL;
            return new LocalApic(lvtTimer, c, c, divConf, requested, inService, delivered, 0);
        }
        if (msr == DIV_CONF) {
            // the divider's phase is kept, folded into the new divide value's range
            return new LocalApic(lvtTimer, initCount, curCount, value & 0b1011, requested, inService, delivered,
                    phase % divisor(value & 0b1011));
        }
        return null;
    }

    /** RDMSR of one of the registers, or null for #GP(0) (EOI is write-only). */
    Long read(long msr) {
        if (msr == LVT_TIMER) {
            return lvtTimer;
        }
        if (msr == INIT_COUNT) {
            return initCount;
        }
        if (msr == CUR_COUNT) {
            return curCount;
        }
        return msr == DIV_CONF ? Long.valueOf(divConf) : null;
    }

    /** The divide value (§10.5.4, Figure 10-10): bits 3, 1, 0 as n; 111 divides by 1, the others by 2^(n+1). */
    static long divisor(long divConf) {
        int n = (int) (((divConf >>> 1) & 0b100) | (divConf & 0b11));
        return n == 0b111 ? 1 : 1L << (n + 1);
    }

    /**
     * {@code ticks} bus clocks pass: the current count decreases by one per divide value, the clocks short of a
     * whole divide value carried over ({@link #phase}); reaching zero the timer expires — one-shot: it stays at 0;
     * periodic: the initial count is reloaded and counts on with the decrements left — and unless the LVT is masked
     * the timer's vector is requested (§10.5.4).
     */
    LocalApic countDown(long ticks) {
        if (curCount == 0) {
            return this;
        }
        long div = divisor(divConf);
        long dec = (phase + ticks) / div;
        long p = (phase + ticks) % div;
        if (dec < curCount) {
            return new LocalApic(lvtTimer, initCount, curCount - dec, divConf, requested, inService, delivered, p);
        }
        boolean periodic = (lvtTimer & MODE_BITS) == PERIODIC;
        long next = periodic ? initCount - (dec - curCount) % initCount : 0;
        return new LocalApic(lvtTimer, initCount, next, divConf, requested || (lvtTimer & MASKED) == 0, inService,
                delivered, periodic ? p : 0);
    }

    /**
     * At an instruction boundary: a requested vector is delivered if none is in service (§10.8.3.1: an interrupt
     * waits while one of its priority class is in service; the timer is the only source). It moves from IRR to ISR.
     */
    LocalApic deliver() {
        if (!requested || inService != 0) {
            return this;
        }
        return new LocalApic(lvtTimer, initCount, curCount, divConf, false, (int) (lvtTimer & 0xFF), delivered + 1,
                phase);
    }
}
