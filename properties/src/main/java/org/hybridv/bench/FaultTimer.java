package org.hybridv.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.check.Campaign;
import org.hybridv.check.KillMatrix;
import org.hybridv.xen.Fault;

/**
 * Per seeded fault, the median wall-clock time to the first failure over {@link #SEEDS} campaign seeds: the kill
 * matrix's search ({@link KillMatrix#caught}: the whole-system properties interleaved try by try, no shrinking) from
 * seed {@code Campaign.seedOfTry(base, i)}, timed from its start to the first violation. A seed that does not catch
 * the fault within {@link #TRIES} tries per property counts as not caught (and is left out of the median).
 */
public final class FaultTimer {
    private FaultTimer() {}

    /** Seeds per fault. */
    public static final int SEEDS = 10;
    /** Tries per property and seed (the CI budget of {@code KillMatrixTest}). */
    public static final int TRIES = 300;

    /** One fault's figure. */
    public record Timing(String fault, double medianSeconds, int caught, int seeds) {}

    /** Per fault, in catalog order; {@code quick} uses 3 seeds (and says so in {@link Timing#seeds()}). */
    public static List<Timing> medianTimeToFirstFailure(boolean quick, long base) {
        int seeds = quick ? 3 : SEEDS;
        List<Timing> out = new ArrayList<>();
        for (Fault f : Fault.values()) {
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < seeds; i++) {
                try {
                    Optional<KillMatrix.Caught> c = KillMatrix.caught(f, Campaign.seedOfTry(base, i), TRIES, false,
                            Optional.empty());
                    c.ifPresent(x -> times.add(x.nanos() / 1e9));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            double[] t = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double median = t.length == 0 ? Double.NaN : t.length % 2 == 1 ? t[t.length / 2]
                    : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
            out.add(new Timing(f.id(), median, t.length, seeds));
        }
        return out;
    }

    /** The largest of the medians (the figure the target "every fault caught in a median under 2 s" is about). */
    public static double worst(List<Timing> ts) {
        return ts.stream().mapToDouble(Timing::medianSeconds).max().orElse(Double.NaN);
    }
}
