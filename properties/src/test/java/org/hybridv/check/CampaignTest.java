package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The campaign engine on a toy property whose minimal counterexample is known. */
class CampaignTest {
    /** Runs are lists of 6 numbers below 1000; the property fails when some number after the second is ≥ 700. */
    static final class Toy implements SystemProperty<List<Integer>> {
        @Override
        public String name() {
            return "toy";
        }

        @Override
        public String description() {
            return "toy";
        }

        @Override
        public List<Integer> generate(Choices c) {
            List<Integer> l = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                l.add(c.below(1000));
            }
            return l;
        }

        @Override
        public Verdict check(List<Integer> run, Faults faults) {
            for (int i = 2; i < run.size(); i++) {
                if (run.get(i) >= 700) {
                    return new Verdict.Violated("I0", "toy", i + 1, "value " + run.get(i) + " at " + i);
                }
            }
            return Verdict.HOLDS;
        }

        @Override
        public int length(List<Integer> run) {
            return run.size();
        }

        @Override
        public ObjectNode scenario(List<Integer> run, Faults faults, Verdict.Violated v) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.putObject("machine").put("memoryFrames", 1);
            o.putArray("steps").add(run.toString());
            return o;
        }
    }

    @Test
    void findsShrinksToTheMinimalRunAndIsDeterministic() {
        Campaign.Result<List<Integer>> a = Campaign.run(new Toy(), Campaign.Config.of(42, 200, Faults.NONE));
        Campaign.Result<List<Integer>> b = Campaign.run(new Toy(), Campaign.Config.of(42, 200, Faults.NONE));
        assertThat(a.failure()).isPresent();
        // Minimal: the failing value is the smallest that still fails (700) and comes as early as it can (index 2);
        // every other choice is 0.
        assertThat(a.failure().get().shrunk()).isEqualTo(List.of(0, 0, 700, 0, 0, 0));
        assertThat(a.failure().get().shrunkChoices()).isEqualTo(b.failure().get().shrunkChoices());
        assertThat(a.failure().get().tryIndex()).isEqualTo(b.failure().get().tryIndex());
    }

    @Test
    void shardsPartitionTheTries() {
        Campaign.Config whole = Campaign.Config.of(7, 10, Faults.NONE);
        int sum = 0;
        for (int i = 0; i < 3; i++) {
            sum += Campaign.run(new Passing(), new Campaign.Config(7, 10, i, 3, Faults.NONE,
                    java.util.Optional.empty())).triesRun();
        }
        assertThat(sum).isEqualTo(Campaign.run(new Passing(), whole).triesRun()).isEqualTo(10);
    }

    static class Passing implements SystemProperty<Integer> {
        public String name() {
            return "passing";
        }

        public String description() {
            return "passing";
        }

        public Integer generate(Choices c) {
            return c.below(10);
        }

        public Verdict check(Integer run, Faults faults) {
            return Verdict.HOLDS;
        }

        public int length(Integer run) {
            return 1;
        }

        public ObjectNode scenario(Integer run, Faults f, Verdict.Violated v) {
            return null;
        }
    }

    @Test
    void captureIsContentAddressedAtomicAndNeverOverwrites(@TempDir Path dir) throws Exception {
        Campaign.Result<List<Integer>> r = Campaign.run(new Toy(), Campaign.Config.of(42, 200, Faults.NONE));
        ObjectNode doc = Capture.document(new Toy(), r.failure().get(), Faults.NONE, 42).orElseThrow();
        Capture.Written w1 = Capture.write(dir, "toy", doc);
        Capture.Written w2 = Capture.write(dir, "toy", doc);
        assertThat(w1.created()).isTrue();
        assertThat(w2.created()).isFalse();
        assertThat(w2.file()).isEqualTo(w1.file());
        assertThat(w1.file().getFileName().toString()).matches("toy-[0-9a-f]{12}\\.json");
        assertThat(Files.readString(w1.file())).contains("\"violates\": \"I0\"").endsWith("\n");
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(w1.file());
        }
    }

    @Test
    void anyNumberOfWorkersFindsTheSameFirstFailureAndCoverage() {
        // The lowest failing try is the first failure, whichever worker finishes first; its shrunk run and the
        // coverage of the tries up to it are the same for 1, 2 and 5 workers.
        Campaign.Config one = Campaign.Config.of(42, 200, Faults.NONE);
        Campaign.Result<List<Integer>> a = Campaign.run(new Toy(), one);
        for (int w : new int[] {2, 5}) {
            Campaign.Result<List<Integer>> b = Campaign.run(new Toy(), one.withWorkers(w));
            assertThat(b.failure().get().tryIndex()).isEqualTo(a.failure().get().tryIndex());
            assertThat(b.failure().get().shrunkChoices()).isEqualTo(a.failure().get().shrunkChoices());
            assertThat(b.triesRun()).isEqualTo(a.triesRun()).isEqualTo(a.failure().get().tryIndex() + 1);
        }
    }

    @Test
    void propertiesAreInterleavedSoACancelledCampaignLeavesThemWithinOneTry() {
        // Cancelled after 7 tries in all: the dispatcher handed them out try by try, so each property ran 3 or 4.
        Campaign.Monitor m = new Campaign.Monitor();
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        SystemProperty<Integer> counting = new Passing() {
            @Override
            public Verdict check(Integer run, Faults faults) {
                if (calls.incrementAndGet() == 7) {
                    m.cancel();
                }
                return Verdict.HOLDS;
            }
        };
        List<Campaign.Result<?>> rs = Campaign.runAll(List.of(counting, new Passing()), Campaign.Config.of(1, 1000,
                Faults.NONE), m);
        int first = rs.get(0).triesRun();
        int second = rs.get(1).triesRun();
        assertThat(Math.abs(first - second)).isLessThanOrEqualTo(1);
        assertThat(first + second).isLessThan(20);
        assertThat(rs.get(0).stopped()).isTrue();
    }

    @Test
    void resumingFromATryRunsExactlyTheRestOfTheShard() {
        // Shard 1 of 3 of 20 tries is 1, 4, 7, 10, 13, 16, 19; resumed from try 8 it is 10, 13, 16, 19.
        Campaign.Config c = new Campaign.Config(7, 20, 1, 3, Faults.NONE, java.util.Optional.empty(), 1, true,
                java.util.OptionalInt.empty(), 8);
        assertThat(c.tryIndices()).containsExactly(10, 13, 16, 19);
        assertThat(Campaign.run(new Passing(), c).triesRun()).isEqualTo(4);
        Campaign.Config one = new Campaign.Config(7, 20, 0, 1, Faults.NONE, java.util.Optional.empty(), 1, true,
                java.util.OptionalInt.of(12), 0);
        assertThat(one.tryIndices()).containsExactly(12);
    }
}
