package org.hybridv.bench;

import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Extension point for the last figure of {@code hybridv bench}: per seeded fault, the median wall-clock time to the
 * first failure over {@link #SEEDS} seeds (issue 8: every fault caught in a median under 2 s). To be implemented
 * once the fault catalog and the campaign engine exist: run the CI-budget properties with the fault injected from
 * seed 1..{@value #SEEDS}, time each run up to its first failing try, and report the median per fault.
 *
 * <p>An implementation is found with {@link ServiceLoader} (a {@code META-INF/services/org.hybridv.bench.FaultTimer}
 * entry); until one exists {@code hybridv bench} prints "not available" for this figure.
 */
public interface FaultTimer {
    /** Seeds per fault. */
    int SEEDS = 10;

    /** One fault's figure. */
    record Timing(String fault, double medianSeconds, int caught, int seeds) {}

    /** Per fault, in catalog order; {@code quick} may use fewer seeds (and say so in {@link Timing#seeds()}). */
    List<Timing> medianTimeToFirstFailure(boolean quick);

    /** The registered timer, if any. */
    static Optional<FaultTimer> find() {
        return ServiceLoader.load(FaultTimer.class, FaultTimer.class.getClassLoader()).findFirst();
    }
}
