package org.hybridv.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.hybridv.explore.Explorer;
import org.junit.jupiter.api.Test;

/**
 * The engine-at-scale benchmark's system is what it claims (every number below n once, at the depth of its digit
 * sum), and the explorer searches it as it must with the frontier in memory and rebuilt from the trace.
 */
class EngineScaleTest {
    private static int digitSum(long x) {
        int s = 0;
        for (; x > 0; x /= 10) {
            s += (int) (x % 10);
        }
        return s;
    }

    @Test
    void theDiameterIsTheLargestDigitSumBelowN() {
        for (long n = 1; n < 1_200; n++) {
            int best = 0;
            for (long x = 0; x < n; x++) {
                best = Math.max(best, digitSum(x));
            }
            assertThat(new EngineScale.Counting(n).diameter()).as("n = %d", n).isEqualTo(best);
        }
    }

    /**
     * With at most 7 states of a level in memory, nearly every state is rebuilt from the trace (through the replay
     * cache, traces up to 40 steps long): the same counts per level as in memory — the number of values below n
     * with each digit sum — for one and two workers.
     */
    @Test
    void aSpilledSearchFindsEveryNumberOnceAtItsDigitSum() throws Exception {
        long n = 54_321;
        // one level per digit sum, then the empty level the last one's expansion finds
        long[] expected = new long[new EngineScale.Counting(n).diameter() + 2];
        for (long x = 0; x < n; x++) {
            expected[digitSum(x)]++;
        }
        for (int workers : new int[] {1, 2}) {
            for (int inMemory : new int[] {7, Explorer.Options.FRONTIER_IN_MEMORY}) {
                Explorer.Result r = Explorer.run(new EngineScale.Counting(n), new Explorer.Options(workers, 1000,
                        n + 1, false, inMemory), p -> { });
                assertThat(r.outcome()).isEqualTo(Explorer.Outcome.EXHAUSTED);
                assertThat(r.distinct()).isEqualTo(n);
                assertThat(r.levels().stream().mapToLong(Long::longValue).toArray()).isEqualTo(expected);
            }
        }
    }

    @Test
    void theCommandRunsItAndRefusesABadSize() {
        org.hybridv.cli.Cli.Result ok = org.hybridv.cli.Cli.run("bench", "--explore-engine", "5000", "--workers", "2");
        assertThat(ok.exit()).as(ok.all()).isZero();
        assertThat(ok.out()).contains("EXHAUSTED: 5,000 distinct states (expected 5,000)");
        org.hybridv.cli.Cli.Result bad = org.hybridv.cli.Cli.run("bench", "--explore-engine", "0");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.all()).contains("--explore-engine must be between 1 and").doesNotContain("Exception");
    }

    @Test
    void theRunSaysItEndedAsItMust() throws Exception {
        StringWriter text = new StringWriter();
        assertThat(EngineScale.run(new PrintWriter(text), 20_000, 2)).isTrue();
        assertThat(text.toString()).contains("EXHAUSTED: 20,000 distinct states (expected 20,000)")
                .contains("as it must end");
    }
}
