package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Shrinks a failing choice list greedily, as jqwik and Hypothesis shrink their sources: because every generator
 * reads choice 0 as its simplest option and an exhausted list reads as zeroes, shorter lists and smaller values give
 * simpler systems. Passes, repeated until none helps or the budget of checks is spent: drop the tail, delete blocks of
 * 8, 4, 2, 1 choices, lower each choice to the smallest value that still fails (binary search from 0). Deterministic: the same list and predicate always
 * give the same result.
 */
final class Shrinker {
    private Shrinker() {}

    /** The result and how many candidate lists were checked. */
    record Shrunk(List<Integer> choices, int checks) {}

    static Shrunk shrink(List<Integer> failing, Predicate<List<Integer>> stillFails, int budget) {
        List<Integer> best = new ArrayList<>(failing);
        int checks = 0;
        boolean progress = true;
        while (progress && checks < budget) {
            progress = false;
            // Drop the tail: binary search for the shortest prefix that still fails.
            for (int keep = best.size() / 2; keep < best.size() && checks < budget; ) {
                checks++;
                List<Integer> c = new ArrayList<>(best.subList(0, keep));
                if (stillFails.test(c)) {
                    best = c;
                    progress = true;
                    keep = best.size() / 2;
                } else {
                    keep = keep + Math.max(1, (best.size() - keep) / 2);
                }
            }
            for (int block : new int[] {8, 4, 2, 1}) {
                for (int at = 0; at + block <= best.size() && checks < budget; ) {
                    List<Integer> c = new ArrayList<>(best);
                    c.subList(at, at + block).clear();
                    checks++;
                    if (stillFails.test(c)) {
                        best = c;
                        progress = true;
                    } else {
                        at++;
                    }
                }
            }
            for (int i = 0; i < best.size() && checks < budget; i++) {
                // The smallest value that still fails, by binary search between 0 (tried first) and the current one.
                int hi = best.get(i);
                int lo = -1;
                while (hi - lo > 1 && checks < budget) {
                    int mid = lo == -1 ? 0 : lo + (hi - lo) / 2;
                    List<Integer> c = new ArrayList<>(best);
                    c.set(i, mid);
                    checks++;
                    if (stillFails.test(c)) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                if (hi < best.get(i)) {
                    best.set(i, hi);
                    progress = true;
                }
            }
        }
        return new Shrunk(List.copyOf(best), checks);
    }
}
