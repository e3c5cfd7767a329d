package org.hybridv.bench;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.check.Campaign;
import org.hybridv.check.SystemProperty;
import org.hybridv.xen.Faults;

/**
 * Campaign throughput with 1 and with {@code n} workers, measured in one run: for each property, a warm-up campaign,
 * then rounds alternating 1 worker and {@code n} workers (so drift of the machine hits both alike), each round a
 * campaign of the same tries from the same seed. The figure is tries per wall-clock second, median over the rounds.
 */
public final class CampaignRate {
    private CampaignRate() {}

    /** One property's rates and the speed-up. */
    public record Row(String property, int tries, double oneWorker, double nWorkers, int workers) {
        public double speedup() {
            return nWorkers / oneWorker;
        }
    }

    public static Row measure(SystemProperty<?> p, long seed, int tries, int workers, int rounds) {
        Campaign.Config one = Campaign.Config.of(seed, tries, Faults.NONE);
        Campaign.Config many = one.withWorkers(workers);
        Campaign.run(p, one);
        Campaign.run(p, many);
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            a.add(rate(p, one));
            b.add(rate(p, many));
        }
        return new Row(p.name(), tries, median(a), median(b), workers);
    }

    private static double rate(SystemProperty<?> p, Campaign.Config c) {
        long t0 = System.nanoTime();
        Campaign.Result<?> r = Campaign.run(p, c);
        return r.triesRun() / ((System.nanoTime() - t0) / 1e9);
    }

    private static double median(List<Double> l) {
        List<Double> s = new ArrayList<>(l);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
