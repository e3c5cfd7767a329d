package org.hybridv.check;

import java.util.List;
import java.util.Optional;
import org.hybridv.gen.Choices;
import org.hybridv.gen.ListChoices;
import org.hybridv.x86.Checks;
import org.hybridv.xen.Faults;

/**
 * Runs a {@link SystemProperty}: try {@code t} generates its run from {@code Choices.random(seed(seed, t))}, and the
 * first run that fails is shrunk ({@link Shrinker}) to a smaller run that still violates the same invariant.
 * Deterministic: the same property, seed, tries, shard and faults give the same tries, the same shrunk run, the same
 * bytes in its scenario. The only exception is the optional time budget, which decides when to stop starting tries
 * (documented on {@code hybridv check --time}).
 */
public final class Campaign {
    private Campaign() {}

    /** Checks the shrinker may spend on one failure. */
    public static final int SHRINK_BUDGET = 600;

    /**
     * @param seed      the campaign seed
     * @param tries     tries per property (before sharding)
     * @param shard     this job's shard (0-based) of {@code shards}: it runs the tries {@code t} with
     *                  {@code t % shards == shard}
     * @param shards    the number of shards
     * @param faults    the seeded faults injected into every run
     * @param deadline  {@link System#nanoTime()} after which no new try starts, or empty
     */
    public record Config(long seed, int tries, int shard, int shards, Faults faults, Optional<Long> deadline) {
        public Config {
            Checks.notNull("faults", faults);
            Checks.notNull("deadline", deadline);
            if (tries < 0 || shards < 1 || shard < 0 || shard >= shards) {
                throw new IllegalArgumentException("tries " + tries + ", shard " + shard + "/" + shards);
            }
        }

        public static Config of(long seed, int tries, Faults faults) {
            return new Config(seed, tries, 0, 1, faults, Optional.empty());
        }
    }

    /** A failure: the original and the shrunk run, its violation, and what it cost to find. */
    public record Failure<R>(R original, R shrunk, Verdict.Violated violation, Verdict firstVerdict,
            List<Integer> shrunkChoices, int tryIndex, long seedOfTry, long nanosToFailure, int shrinkChecks) {}

    /** What a campaign did. */
    public record Result<R>(String property, int triesRun, Optional<Failure<R>> failure, Optional<String> harnessError,
            long nanos) {
        public boolean passed() {
            return failure.isEmpty() && harnessError.isEmpty();
        }
    }

    /** The seed of try {@code t}: a fixed mix of the campaign seed and the try index (SplitMix64's constants). */
    public static long seedOfTry(long seed, int t) {
        long z = seed + 0x9E37_79B9_7F4A_7C15L * (t + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    public static <R> Result<R> run(SystemProperty<R> p, Config c) {
        long start = System.nanoTime();
        int run = 0;
        for (int t = c.shard(); t < c.tries(); t += c.shards()) {
            if (c.deadline().isPresent() && System.nanoTime() > c.deadline().get()) {
                break;
            }
            run++;
            Try<R> one = tryOnce(p, c.seed(), t, c.faults(), start, true);
            if (one.harnessError().isPresent()) {
                return new Result<>(p.name(), run, Optional.empty(), one.harnessError(), System.nanoTime() - start);
            }
            if (one.failure().isPresent()) {
                return new Result<>(p.name(), run, one.failure(), Optional.empty(), System.nanoTime() - start);
            }
        }
        return new Result<>(p.name(), run, Optional.empty(), Optional.empty(), System.nanoTime() - start);
    }

    /** The outcome of one try: nothing, a (shrunk) failure, or a harness error. */
    public record Try<R>(Optional<Failure<R>> failure, Optional<String> harnessError) {}

    /**
     * Try {@code t} of {@code p} alone (the kill matrix interleaves properties try by try); a failure is shrunk if
     * {@code shrink} (else reported as found), its time measured from {@code start} ({@link System#nanoTime()}).
     */
    public static <R> Try<R> tryOnce(SystemProperty<R> p, long seed, int t, Faults faults, long start,
            boolean shrink) {
        long trySeed = seedOfTry(seed, t);
        RecordingChoices choices = new RecordingChoices(Choices.random(trySeed));
        R r = p.generate(choices);
        Verdict v = safeCheck(p, r, faults);
        if (v instanceof Verdict.HarnessError h) {
            return new Try<>(Optional.empty(), Optional.of("try " + t + " (seed " + trySeed + "): " + h));
        }
        if (v instanceof Verdict.Violated violated) {
            long found = System.nanoTime() - start;
            Failure<R> f = shrink ? shrink(p, r, violated, choices.taken(), faults, t, trySeed, found)
                    : new Failure<>(r, r, violated, violated, choices.taken(), t, trySeed, found, 0);
            return new Try<>(Optional.of(f), Optional.empty());
        }
        return new Try<>(Optional.empty(), Optional.empty());
    }

    private static <R> Failure<R> shrink(SystemProperty<R> p, R original, Verdict.Violated v, List<Integer> taken,
            Faults faults, int t, long trySeed, long found) {
        Shrinker.Shrunk s = Shrinker.shrink(taken, list -> sameInvariant(safeCheck(p, p.generate(new ListChoices(
                list)), faults), v), SHRINK_BUDGET);
        R shrunk = p.generate(new ListChoices(s.choices()));
        Verdict.Violated sv = (Verdict.Violated) safeCheck(p, shrunk, faults);
        return new Failure<>(original, shrunk, sv, v, s.choices(), t, trySeed, found, s.checks());
    }

    private static boolean sameInvariant(Verdict v, Verdict.Violated original) {
        return v instanceof Verdict.Violated x && x.invariant().equals(original.invariant());
    }

    /** {@code p.check}, with an exception of the reference turned into a harness error naming it. */
    static <R> Verdict safeCheck(SystemProperty<R> p, R run, Faults faults) {
        try {
            return p.check(run, faults);
        } catch (RuntimeException e) {
            return new Verdict.HarnessError(0, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
