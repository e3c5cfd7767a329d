package org.hybridv.gen;

import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.RandomDistribution;

/**
 * The one place where jqwik meets the generators: jqwik generates (and shrinks) a list of raw choices; the project's
 * generators turn it into a system. Replacing the engine means replacing this class only.
 */
public final class JqwikChoices {
    /** Raw choices per generated value; generators that need more read zeroes (the simplest options). */
    public static final int LENGTH = 96;

    private JqwikChoices() {}

    /** An arbitrary of whatever {@code generator} builds from a shrinkable choice list. */
    public static <T> Arbitrary<T> arbitrary(Function<Choices, T> generator) {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE - 1)
                .withDistribution(RandomDistribution.uniform())
                .list().ofSize(LENGTH)
                .map(list -> generator.apply(new ListChoices(list)));
    }
}
