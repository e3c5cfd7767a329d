package org.hybridv.gen;

/**
 * The source of every decision a generator makes: a sequence of non-negative integers read one at a time.
 *
 * <p>Generators in this package are plain Java functions of a {@code Choices}; they never call a property-testing
 * engine. An engine supplies the sequence (jqwik: a list of integers it can shrink, see {@code JqwikChoices}); a
 * campaign can supply a seeded random stream ({@link #random(long)}); a test can supply a fixed list. Choice value 0
 * always selects the simplest option, so an engine that shrinks the sequence toward zeroes shrinks the generated
 * system toward the simplest one.
 */
public interface Choices {
    /** The next raw choice, ≥ 0. An exhausted finite sequence answers 0 from then on. */
    int next();

    /** A choice in 0..bound-1; 0 is the simplest. */
    default int below(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound = " + bound + " must be positive");
        }
        return next() % bound;
    }

    /**
     * An index into {@code weights}, chosen with probability proportional to its weight (for a uniform raw stream);
     * index 0 is the simplest option and is what choice value 0 selects.
     */
    default int weighted(int... weights) {
        int total = 0;
        for (int w : weights) {
            if (w < 0) {
                throw new IllegalArgumentException("weight " + w + " is negative");
            }
            total += w;
        }
        int r = below(total);
        for (int i = 0; i < weights.length; i++) {
            r -= weights[i];
            if (r < 0) {
                return i;
            }
        }
        throw new AssertionError("unreachable");
    }

    /**
     * A flag that is {@code usual} with probability (100 - percentOther)% and the other value otherwise; choice 0
     * gives {@code usual}.
     */
    default boolean flag(boolean usual, int percentOther) {
        return weighted(100 - percentOther, percentOther) == 0 ? usual : !usual;
    }

    /** One of {@code options}; choice 0 gives the first. */
    @SuppressWarnings("unchecked")
    default <T> T oneOf(T... options) {
        return options[below(options.length)];
    }

    /** A 64-bit value built from three raw choices (0 gives 0). */
    default long bits64() {
        return ((long) next() << 62) ^ ((long) next() << 31) ^ next();
    }

    /** A finite sequence: the given values (each ≥ 0), then zeroes. */
    static Choices of(int... values) {
        return new ListChoices(java.util.Arrays.stream(values).boxed().toList());
    }

    /** An endless uniform stream from a seeded {@link java.util.SplittableRandom}: same seed, same choices. */
    static Choices random(long seed) {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        return () -> random.nextInt(Integer.MAX_VALUE);
    }
}
