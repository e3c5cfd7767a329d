package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.hybridv.cli.Cli;
import org.hybridv.cli.RepoRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hybridv explore --swarm i/n: with a seeded fault reachable within the bound (type-change-no-flush, TLB-1, four
 * steps in direct-paging; the members run to depth 5), some member of a swarm of four finds it, and its counterexample
 * replays; a member is a function of (configuration, faults, i, n): the same member twice writes the same bytes, and
 * the members' seeds differ; a member that finds nothing exits 3 and says it proves nothing.
 */
class SwarmTest {
    private static final Path CONFIGS = RepoRoot.find().resolve("spec/configs");

    private static Cli.Result member(String config, int i, int n, Path dir, String... more) {
        List<String> args = new ArrayList<>(List.of("explore", CONFIGS.resolve(config + ".json").toString(),
                "--swarm", i + "/" + n, "--report", dir.resolve("report").toString(), "--out",
                dir.resolve("found").toString()));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void someMemberFindsTheSeededFaultAndAMemberIsTheSameEveryTime(@TempDir Path tmp) throws IOException {
        int found = 0;
        Set<String> seeds = new HashSet<>();
        for (int i = 1; i <= 4; i++) {
            Path d = tmp.resolve("m" + i);
            Cli.Result r = member("direct-paging", i, 4, d, "--fault", "type-change-no-flush", "--depth", "5");
            assertThat(r.exit()).as(r.all()).isIn(1, 3);
            JsonNode rep = new ObjectMapper().readTree(d.resolve("report/report.json").toFile());
            assertThat(rep.get("swarm").asText()).isEqualTo(i + "/4");
            seeds.add(rep.get("seed").asText());
            if (r.exit() == 1) {
                found++;
                assertThat(rep.get("finding").get("verdict").asText()).contains("I2").contains("TLB-1");
                assertThat(rep.get("finding").get("depth").asInt()).isBetween(4, rep.get("depthBound").asInt());
                List<Path> cx = files(d.resolve("found"));
                assertThat(cx).hasSize(1);
                Cli.Result replay = Cli.run("replay", "-q", cx.get(0).toString());
                assertThat(replay.exit()).as(replay.all()).isZero();
                if (found > 1) {
                    continue;
                }
                // the first finder again: the same report and counterexample, byte for byte
                Path again = tmp.resolve("again" + i);
                assertThat(member("direct-paging", i, 4, again, "--fault", "type-change-no-flush", "--depth", "5").exit())
                        .isEqualTo(1);
                assertThat(Files.readAllBytes(again.resolve("report/report.json"))).isEqualTo(Files.readAllBytes(d
                        .resolve("report/report.json")));
                assertThat(Files.readAllBytes(again.resolve("report/report.md"))).isEqualTo(Files.readAllBytes(d
                        .resolve("report/report.md")));
                List<Path> cx2 = files(again.resolve("found"));
                assertThat(cx2).hasSize(1);
                assertThat(cx2.get(0).getFileName()).isEqualTo(cx.get(0).getFileName());
                assertThat(Files.readAllBytes(cx2.get(0))).isEqualTo(Files.readAllBytes(cx.get(0)));
            } else {
                assertThat(files(d.resolve("found"))).isEmpty();
            }
        }
        assertThat(found).isPositive();
        assertThat(seeds).hasSize(4);
    }

    @Test
    void aMemberThatFindsNothingProvesNothing(@TempDir Path tmp) throws IOException {
        Cli.Result r = member("direct-paging", 1, 2, tmp, "--depth", "3");
        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        assertThat(r.out()).contains("never proves absence");
        JsonNode rep = new ObjectMapper().readTree(tmp.resolve("report/report.json").toFile());
        assertThat(rep.get("outcome").asText()).isEqualTo("not exhausted");
        // the breadth-first search exhausts direct-paging with 576 states; the member visits no state it cannot reach
        assertThat(rep.get("distinctStates").asLong()).isBetween(1L, 576L);
        assertThat(rep.get("statesByFirstDepth").size()).isLessThanOrEqualTo(4);
        assertThat(files(tmp.resolve("found"))).isEmpty();
    }

    @Test
    void aBadMemberIsOneLineAndExit2() {
        for (String bad : new String[] {"0/4", "5/4", "a/b", "1/2000", "3"}) {
            Cli.Result r = Cli.run("explore", CONFIGS.resolve("hybrid-switch.json").toString(), "--swarm", bad);
            assertThat(r.exit()).as(r.all()).isEqualTo(2);
            assertThat(r.err()).contains("--swarm");
            assertThat(r.err().strip().lines().findFirst().orElseThrow()).contains("--swarm");
        }
        Cli.Result r = Cli.run("explore", CONFIGS.resolve("hybrid-switch.json").toString(), "--swarm", "1/2",
                "--checkpoint", "x");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
    }
}
