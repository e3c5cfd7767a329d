package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@code hybridv check}, the main job, as CI uses it: no false green, every failure located and reproducible, inputs
 * checked before any work, paths that resolve against the checkout, parallel workers with deterministic results,
 * progress, coverage, reports, JUnit XML and GitHub annotations, interruption.
 */
class CheckCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A fault of the catalog that the hybrid-kernel property catches on its first try (docs/faults.md). */
    private static final String FAULT = "switch-mmu-top-level-only";

    /** The arguments of a run of the whole-system properties alone (the layer properties have tests of their own). */
    private static List<String> args(Path dir, String... more) {
        List<String> a = new ArrayList<>(layerArgs(dir, more));
        a.add(2, "--no-layers");
        return a;
    }

    private static List<String> layerArgs(Path dir, String... more) {
        List<String> a = new ArrayList<>(List.of("check", "--no-spec", "--progress", "0", "--report",
                dir.resolve("report").toString(), "--found", dir.resolve("found").toString()));
        a.addAll(List.of(more));
        return a;
    }

    private static Cli.Result check(Path dir, String... more) {
        return Cli.run(args(dir, more).toArray(String[]::new));
    }

    /** A run that includes the layer properties (unless --property names only whole-system ones). */
    private static Cli.Result checkLayers(Path dir, String... more) {
        return Cli.run(layerArgs(dir, more).toArray(String[]::new));
    }

    private static JsonNode report(Path dir) throws Exception {
        return JSON.readTree(dir.resolve("report/report.json").toFile());
    }

    /** report.json without its run section (command, workers, start, durations): what must be byte-identical. */
    private static String stable(Path dir) throws Exception {
        ObjectNode r = (ObjectNode) report(dir);
        r.remove("run");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r);
    }

    @Test
    void aShortCampaignPassesAndItsReportNamesVersionCommitSeedAndCoverage(@TempDir Path dir) throws Exception {
        Cli.Result r = check(dir, "--tries", "5", "--no-replay", "--no-floors");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("hybrid-kernel", "hypervisor", "whole-system", "5/5", "exit 0 (passed)");
        JsonNode j = report(dir);
        assertThat(j.get("exit").asInt()).isZero();
        assertThat(j.get("seed").asLong()).isEqualTo(20261123L);
        assertThat(j.get("version").asText()).isNotBlank();
        assertThat(j.get("commit").asText()).matches("[0-9a-f]{40}|unknown");
        for (JsonNode p : j.get("properties")) {
            assertThat(p.get("triesRun").asInt()).isEqualTo(5);
            assertThat(p.get("coverage").size()).as("coverage of %s", p.get("name")).isPositive();
        }
        assertThat(j.get("properties").get(1).get("coverage").has("mode")).isTrue();
        assertThat(j.get("properties").get(1).get("coverage").has("TLB")).isTrue();
        assertThat(Files.exists(dir.resolve("found"))).as("nothing found, nothing written").isFalse();
    }

    @Test
    void aTimeBudgetIsSharedTryByTryAndAPropertyThatRanTooFewTriesIsNotChecked(@TempDir Path dir) throws Exception {
        // Before, the budget went to the first property alone: the others ran 0 tries and were "passed", exit 0.
        Cli.Result r = check(dir, "--tries", "100000", "--time", "1", "--no-replay", "--no-floors", "--min-tries",
                "100000");
        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        assertThat(r.out()).contains("not checked", "exit 3 (incomplete)").doesNotContain(" passed ");
        List<Integer> ran = new ArrayList<>();
        for (JsonNode p : report(dir).get("properties")) {
            assertThat(p.get("verdict").asText()).isEqualTo("not checked");
            ran.add(p.get("triesRun").asInt());
        }
        assertThat(ran).allMatch(n -> n >= 1);
        // Interleaved try by try: no property is more than one try ahead of another.
        assertThat(ran.stream().mapToInt(Integer::intValue).max().getAsInt()
                - ran.stream().mapToInt(Integer::intValue).min().getAsInt()).isLessThanOrEqualTo(1);
        assertThat(report(dir).get("incomplete").toString()).contains("hybrid-kernel", "hypervisor", "whole-system");
    }

    @Test
    void aPropertyThatRanNoTryIsNeverPassed(@TempDir Path dir) throws Exception {
        // Shard 5 of 8 of 3 tries holds no try at all.
        Cli.Result r = check(dir, "--tries", "3", "--shard", "5/8", "--no-replay");
        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        for (JsonNode p : report(dir).get("properties")) {
            assertThat(p.get("triesRun").asInt()).isZero();
            assertThat(p.get("verdict").asText()).isEqualTo("not checked");
        }
        assertThat(Cli.run("check", "--min-tries", "0").exit()).isEqualTo(2);
    }

    @Test
    void aMissedCoverageFloorMakesTheRunIncomplete(@TempDir Path dir) throws Exception {
        Cli.Result r = check(dir, "--tries", "2", "--no-replay", "--property", "hypervisor");
        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        assertThat(r.out()).contains("coverage floor missed: outcome: HypercallRefused");
        assertThat(report(dir).get("properties").get(0).get("verdict").asText()).isEqualTo("incomplete");
        assertThat(r.out()).doesNotContain(" passed ");
        JsonNode floors = report(dir).get("properties").get(0).get("floors");
        assertThat(floors.size()).isPositive();
        assertThat(floors.findValuesAsText("met")).contains("false");
    }

    @Test
    void aReplayFailureSaysFileStepCheckExpectedObservedAndHowToReproduce(@TempDir Path dir) throws Exception {
        Path corpus = RepoRoot.find().resolve("docs/examples/wrong-expectation.json");
        Cli.Result r = check(dir, "--tries", "1", "--no-floors", "--property", "hybrid-kernel", "--corpus",
                corpus.toString(), "--junit", dir.resolve("junit.xml").toString(), "--annotations", "github");
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        // The documented failure of this example (README): step 6, errorCode expected 0x5, observed 0x7.
        assertThat(r.out()).contains("wrong-expectation.json", "step 6", "errorCode", "expected: 0x5",
                "observed: 0x7", "reproduce: ", "replay ");
        JsonNode f = report(dir).get("findings").get(0);
        assertThat(f.get("phase").asText()).isEqualTo("replay");
        assertThat(f.get("file").asText()).endsWith("wrong-expectation.json");
        assertThat(f.get("step").asInt()).isEqualTo(6);
        assertThat(f.get("line").asInt()).isPositive();
        assertThat(f.get("check").asText()).isEqualTo("errorCode");
        assertThat(f.get("expected").asText()).startsWith("0x5");
        assertThat(f.get("observed").asText()).startsWith("0x7");
        assertThat(f.get("reproduce").get(0).asText()).contains("replay", "wrong-expectation.json");
        // The same finding as a GitHub annotation on the file and line of the step …
        assertThat(r.out()).containsPattern("(?m)^::error file=[^,]*wrong-expectation.json,line="
                + f.get("line").asInt() + ",title=hybridv replay%3A errorCode::");
        // … and as a JUnit failure.
        Document x = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("junit.xml")
                .toFile());
        NodeList cases = x.getElementsByTagName("testcase");
        int failures = 0;
        for (int i = 0; i < cases.getLength(); i++) {
            Element c = (Element) cases.item(i);
            NodeList fl = c.getElementsByTagName("failure");
            if (fl.getLength() > 0) {
                failures++;
                assertThat(c.getAttribute("classname")).isEqualTo("hybridv.replay");
                assertThat(((Element) fl.item(0)).getAttribute("message")).contains("wrong-expectation.json",
                        "step 6", "errorCode");
            }
        }
        assertThat(cases.getLength()).as("one property, one scenario").isEqualTo(2);
        assertThat(failures).isEqualTo(1);
    }

    @Test
    void aPropertyViolationIsWrittenLocatedAndReproducibleByItsTry(@TempDir Path dir) throws Exception {
        Cli.Result r = check(dir, "--tries", "50", "--no-replay", "--property", "hybrid-kernel", "--fault", FAULT);
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        JsonNode f = report(dir).get("findings").get(0);
        assertThat(f.get("phase").asText()).isEqualTo("property");
        Path file = Path.of(f.get("file").asText());
        assertThat(file.toAbsolutePath().normalize().getParent()).isEqualTo(dir.resolve("found").toAbsolutePath()
                .normalize());
        assertThat(f.get("step").asInt()).isPositive();
        assertThat(Files.readAllLines(file).get(f.get("line").asInt() - 1)).contains("{");
        assertThat(f.get("check").asText()).matches("I[1-8] \\(.+\\)");
        assertThat(f.get("reproduce").toString()).contains("replay", "--try", "--fault " + FAULT);
        // The written scenario replays the violation with the fault injected.
        Cli.Result replay = Cli.run("replay", "-q", file.toString());
        assertThat(replay.exit()).as(replay.all()).isZero();
        // Re-running only the reported try finds the same violation and the same (content-named) scenario.
        String tryIndex = f.get("reproduce").get(1).asText().replaceAll(".*--try (\\d+).*", "$1");
        Path again = dir.resolve("again");
        Files.createDirectories(again);
        Cli.Result one = check(again, "--no-replay", "--property", "hybrid-kernel", "--fault", FAULT, "--try",
                tryIndex);
        assertThat(one.exit()).as(one.all()).isEqualTo(1);
        JsonNode g = report(again).get("findings").get(0);
        assertThat(g.get("check").asText()).isEqualTo(f.get("check").asText());
        assertThat(Path.of(g.get("file").asText()).getFileName()).isEqualTo(file.getFileName());
        Cli.Result raw = check(dir.resolve("raw"), "--no-replay", "--property", "hybrid-kernel", "--fault", FAULT,
                "--try", tryIndex, "--no-shrink");
        assertThat(raw.exit()).isEqualTo(1);
        assertThat(raw.out()).doesNotContain("shrunk to");
    }

    @Test
    void workersGiveByteIdenticalResultsAndReports(@TempDir Path dir) throws Exception {
        check(dir.resolve("w1"), "--tries", "12", "--no-replay", "--no-floors", "--workers", "1");
        check(dir.resolve("w2"), "--tries", "12", "--no-replay", "--no-floors", "--workers", "2");
        check(dir.resolve("w3"), "--tries", "12", "--no-replay", "--no-floors", "--workers", "3");
        assertThat(stable(dir.resolve("w2"))).isEqualTo(stable(dir.resolve("w1"))).isEqualTo(stable(dir.resolve(
                "w3")));
        // With a failure: the same first failing try, the same shrunk counterexample, whatever the workers.
        Cli.Result a = check(dir.resolve("f1"), "--tries", "30", "--no-replay", "--fault", FAULT, "--workers", "1");
        Cli.Result b = check(dir.resolve("f2"), "--tries", "30", "--no-replay", "--fault", FAULT, "--workers", "2");
        assertThat(a.exit()).isEqualTo(1);
        assertThat(b.exit()).isEqualTo(1);
        // The reports differ only in the folder each run was told to write to (shown relative or absolute).
        assertThat(stable(dir.resolve("f2")).replace("/f2/found/", "/F/found/"))
                .isEqualTo(stable(dir.resolve("f1")).replace("/f1/found/", "/F/found/"));
        try (Stream<Path> s1 = Files.list(dir.resolve("f1/found")); Stream<Path> s2 = Files.list(dir.resolve(
                "f2/found"))) {
            assertThat(s1.map(p -> p.getFileName().toString()).sorted().toList())
                    .isEqualTo(s2.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void layerPropertiesRunAtTheirCiTriesScaledByTriesAndAreReportedPerProperty(@TempDir Path dir) throws Exception {
        // tlb: three properties of 1,000 CI tries; cpuid: one of 2,000; --tries 100 is a tenth of the CI budget (too
        // few for cpuid's coverage floors)
        Cli.Result r = checkLayers(dir, "--no-replay", "--property", "tlb", "--property", "cpuid", "--tries", "100",
                "--no-floors");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("tlb", "300/300", "cpuid", "200/200", "exit 0 (passed)");
        JsonNode ps = report(dir).get("properties");
        assertThat(ps.size()).isEqualTo(2);
        assertThat(ps.get(0).get("name").asText()).isEqualTo("tlb");
        assertThat(ps.get(0).get("kind").asText()).isEqualTo("layer");
        assertThat(ps.get(0).get("properties").size()).isEqualTo(3);
        for (JsonNode p : ps.get(0).get("properties")) {
            assertThat(p.get("status").asText()).isEqualTo("passed");
            assertThat(p.get("tries").asInt()).isEqualTo(100);
        }
        assertThat(Files.readString(dir.resolve("report/report.md"))).contains("## Layer properties",
                "| tlb | afterInvlpgOfTheAddressAnAccessEqualsAFreshWalk | passed | 100 |");
        // the default runs every layer property after the whole-system ones; --no-layers none
        assertThat(r.err()).contains("layer properties: 2 classes");
    }

    @Test
    void aLayerPropertysMissedFloorIsIncompleteAndTheSameSeedGivesTheSameReport(@TempDir Path dir)
            throws Exception {
        // five tries cannot reach every VM-entry outcome the property's statistics require
        Cli.Result r = checkLayers(dir.resolve("a"), "--no-replay", "--property", "vm-entry", "--tries", "5");
        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        assertThat(r.out()).contains("vm-entry", "incomplete", "coverage floor missed: everyVmEntryDoesWhatTheSdmSays");
        Cli.Result again = checkLayers(dir.resolve("b"), "--no-replay", "--property", "vm-entry", "--tries", "5",
                "--workers", "1");
        assertThat(again.exit()).isEqualTo(3);
        assertThat(stable(dir.resolve("b"))).isEqualTo(stable(dir.resolve("a")));
        Cli.Result noFloors = checkLayers(dir.resolve("c"), "--no-replay", "--property", "vm-entry", "--tries", "5",
                "--no-floors");
        assertThat(noFloors.exit()).as(noFloors.all()).isZero();
        assertThat(noFloors.out()).contains("(floors not required)");
        // a seeded fault is injected into the whole-system properties only: never a "passed" for a layer property
        // that did not run with it
        Cli.Result faulted = checkLayers(dir.resolve("d"), "--no-replay", "--property", "vm-entry", "--tries", "5",
                "--fault", FAULT);
        assertThat(faulted.exit()).isEqualTo(2);
        assertThat(faulted.err()).contains("--fault applies to the whole-system properties");
        Cli.Result both = checkLayers(dir.resolve("e"), "--no-replay", "--property", "vm-entry", "--property",
                "hybrid-kernel", "--tries", "5", "--no-floors", "--fault", FAULT);
        assertThat(both.exit()).as(both.all()).isEqualTo(1);
        assertThat(both.err()).contains("layer properties: not run (--fault");
        assertThat(report(dir.resolve("e")).get("properties").size()).isEqualTo(1);
    }

    @Test
    void aLayerPropertyLeftOutByTheTimeBudgetIsNotCheckedNeverPassed(@TempDir Path dir) throws Exception {
        // the whole-system property takes the whole second; no layer class starts after the budget
        Cli.Result r = checkLayers(dir, "--no-replay", "--property", "hybrid-kernel", "--property", "tlb", "--tries",
                "100000", "--time", "1", "--no-floors");
        assertThat(r.exit()).as(r.all()).isEqualTo(3);
        JsonNode tlb = report(dir).get("properties").get(1);
        assertThat(tlb.get("name").asText()).isEqualTo("tlb");
        assertThat(tlb.get("verdict").asText()).isEqualTo("not checked");
        assertThat(tlb.get("triesRun").asInt()).isZero();
        assertThat(report(dir).get("incomplete").toString()).contains("tlb", "the time budget ran out");
    }

    @Test
    void anUnknownPropertyNamesTheWholeSystemAndTheLayerOnes(@TempDir Path dir) {
        Cli.Result r = checkLayers(dir, "--property", "page-wlak");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no property \"page-wlak\"", "whole-system: [hybrid-kernel", "page-walk",
                "block-front").doesNotContain("Exception");
    }

    @Test
    void inputsAreCheckedBeforeAnyWorkStarts(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        String[][] bad = {
            {"--corpus", dir.resolve("nonexistent").toString(), "no such file or directory"},
            {"--report", "/proc/nope", "/proc/nope"},
            {"--found", file.toString(), "is a file, not a folder"},
            {"--report", file.resolve("sub").toString(), "is a file, not a folder"},
            {"--junit", dir.toString(), "is a folder, not a file"},
            {"--models", dir.resolve("none").toString(), "no such file or directory"},
        };
        for (String[] b : bad) {
            List<String> a = new ArrayList<>(List.of("check", "--tries", "100000", "--progress", "0", b[0], b[1]));
            if (!b[0].equals("--report")) {
                a.addAll(List.of("--report", dir.resolve("r").toString()));
            }
            if (!b[0].equals("--found")) {
                a.addAll(List.of("--found", dir.resolve("f").toString()));
            }
            Cli.Result r = Cli.run(a.toArray(String[]::new));
            assertThat(r.exit()).as(r.all()).isEqualTo(2);
            List<String> lines = r.err().lines().toList();
            assertThat(lines).as(r.all()).hasSize(1);
            assertThat(lines.get(0)).contains(b[0], b[2]).doesNotContain("Exception");
            // Nothing ran: no phase started, no summary printed.
            assertThat(r.out()).as(r.all()).isEmpty();
        }
    }

    @Test
    void twoRunsNeverShareAReportFolderSilently(@TempDir Path dir) throws Exception {
        Path reportDir = dir.resolve("report");
        Files.createDirectories(reportDir);
        try (FileChannel ch = FileChannel.open(reportDir.resolve(".hybridv-check.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = ch.lock()) {
            // The lock is held by this JVM: a second run in another JVM must refuse.
            ChildJvm.Started s = ChildJvm.start(dir, dir.resolve("logs"), List.of(), "check", "--no-spec",
                    "--no-replay", "--tries", "1", "--report", reportDir.toString(), "--found",
                    dir.resolve("found").toString());
            assertThat(s.await(120)).as("%s", s.stderr()).isEqualTo(2);
            assertThat(s.stderr()).contains("another hybridv check is writing its report there");
            assertThat(held.isValid()).isTrue();
        }
    }

    @Test
    void writtenFilesHonourTheUmask(@TempDir Path dir) throws Exception {
        Cli.Result r = check(dir, "--tries", "20", "--no-replay", "--property", "hybrid-kernel", "--fault", FAULT);
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        Path plain = dir.resolve("plain");
        try (OutputStream o = Files.newOutputStream(plain)) {
            o.write(1);
        }
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        try (Stream<Path> s = Files.list(dir.resolve("found"))) {
            for (Path p : s.toList()) {
                assertThat(Files.getPosixFilePermissions(p)).as(p.toString()).isEqualTo(expected);
            }
        }
        assertThat(Files.getPosixFilePermissions(dir.resolve("report/report.json"))).isEqualTo(expected);
    }

    @Test
    void reportMdIsMarkdownWithTablesCoverageAndLinks(@TempDir Path dir) throws Exception {
        check(dir, "--tries", "20", "--no-replay", "--property", "hybrid-kernel", "--fault", FAULT);
        String md = Files.readString(dir.resolve("report/report.md"));
        assertThat(md).startsWith("# hybridv check: found").doesNotContain("```");
        assertThat(md).contains("| check | verdict | runs | detail |", "## Findings", "## Coverage: hybrid-kernel",
                "| floor | observed | met |", "| label | value | count | % of label |");
        assertThat(md).containsPattern("\\[hybrid-kernel-[0-9a-f]{12}\\.json\\]\\(\\.\\./found/hybrid-kernel-"
                + "[0-9a-f]{12}\\.json\\)");
        // the seed's comparison: its verdicts and its charts, written beside the report and embedded
        assertThat(md).contains("## The seed's comparison (a cost model's prediction)",
                "![events.svg](comparison/events.svg)");
        for (String chart : org.hybridv.compare.Charts.render((org.hybridv.compare.Comparison.Report) CheckReport.comparison()).keySet()) {
            assertThat(md).contains("](comparison/" + chart + ")");
            assertThat(dir.resolve("report/comparison/" + chart)).exists().content().startsWith("<?xml");
        }
    }

    @Test
    void progressLinesSayTriesDoneOfAskedRateViolationsAndEta(@TempDir Path dir) throws Exception {
        List<String> a = args(dir, "--tries", "100000", "--time", "3", "--no-replay", "--no-floors",
                "--property", "hybrid-kernel");
        a.set(a.indexOf("--progress") + 1, "1");
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        assertThat(r.err()).containsPattern("(?m)^progress \\d+ s: hybrid-kernel \\d+/100000 \\([0-9.]+/s, \\d+ "
                + "violations?, ETA \\d+ s\\)$");
    }

    @Test
    void defaultPathsResolveAgainstTheCheckoutNotTheCurrentDirectory(@TempDir Path dir) throws Exception {
        // A checkout with a corpus of one scenario and no Alloy models; hybridv started from its docs/ folder.
        Path home = dir.resolve("checkout");
        Files.createDirectories(home.resolve("counterexamples"));
        Files.createDirectories(home.resolve("docs"));
        Files.writeString(home.resolve("pom.xml"), "<project/>");
        Files.copy(RepoRoot.find().resolve("docs/examples/first-scenario.json"), home.resolve(
                "counterexamples/first.json"));
        ChildJvm.Started s = ChildJvm.start(home.resolve("docs"), dir.resolve("logs"), List.of("-Dhybridv.home="
                + home), "check", "--no-spec", "--no-layers", "--tries", "1", "--no-floors", "--progress", "0");
        assertThat(s.await(300)).as("%s%s", s.stdout(), s.stderr()).isZero();
        assertThat(home.resolve("target/hybridv-report/report.json")).exists();
        assertThat(home.resolve("docs/target")).doesNotExist();
        assertThat(s.stdout()).contains("replay corpus", "passed");
        // Without --no-spec, the checkout's missing spec/models is an error, never a silent switch to the jar's.
        ChildJvm.Started t = ChildJvm.start(home.resolve("docs"), dir.resolve("logs"), List.of("-Dhybridv.home="
                + home), "check", "--tries", "1", "--progress", "0");
        assertThat(t.await(120)).as("%s", t.stderr()).isEqualTo(2);
        assertThat(t.stderr().strip()).contains("--models", "has no spec/models directory").doesNotContain("\n");
    }

    @Test
    void interruptionPrintsThePartialSummaryWritesTheReportAndExits130(@TempDir Path dir) throws Exception {
        ChildJvm.Started s = ChildJvm.start(dir, dir.resolve("logs"), List.of(), "check", "--no-spec",
                "--no-replay", "--tries", "1000000", "--progress", "0", "--report", dir.resolve("report").toString(),
                "--found", dir.resolve("found").toString());
        // Wait (bounded) for the campaign to start, then send SIGINT as Ctrl-C does.
        for (int i = 0; i < 600 && !s.stderr().contains("… properties"); i++) {
            Thread.sleep(100);
        }
        assertThat(s.stderr()).contains("… properties");
        Thread.sleep(500);
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(s.process().pid())).start();
        assertThat(kill.waitFor()).isZero();
        assertThat(s.await(60)).as("%s%s", s.stdout(), s.stderr()).isEqualTo(130);
        assertThat(s.stdout()).as("stderr: %s", s.stderr()).contains("exit 130 (interrupted)", "resume:", "--from-try",
                "reproduce:");
        JsonNode j = JSON.readTree(dir.resolve("report/report.json").toFile());
        assertThat(j.get("interrupted").asBoolean()).isTrue();
        assertThat(j.get("exit").asInt()).isEqualTo(130);
        for (JsonNode p : j.get("properties")) {
            assertThat(p.get("triesRun").asInt()).isLessThan(1_000_000);
        }
    }

    @Test
    void badArgumentsAreUnusableInputWithoutAStackTrace() {
        Cli.Result shard = Cli.run("check", "--shard", "3/2");
        assertThat(shard.exit()).isEqualTo(2);
        assertThat(shard.err()).contains("--shard: \"3/2\" is not i/n").doesNotContain("Exception", "\tat ");
        Cli.Result property = Cli.run("check", "--property", "nope");
        assertThat(property.exit()).isEqualTo(2);
        assertThat(property.err()).contains("no property \"nope\"", "whole-system");
        Cli.Result fault = Cli.run("check", "--fault", "nope\u001b]0;title\u0007");
        assertThat(fault.exit()).isEqualTo(2);
        assertThat(fault.err()).contains("unknown fault", "\\e]0;title\\x07").doesNotContain("\u001b");
        Cli.Result faults = Cli.run("faults", "--fault", "nope");
        assertThat(faults.exit()).isEqualTo(2);
        assertThat(faults.err()).contains("--fault", "nope", "superpage-accepted").doesNotContain("\tat ");
        assertThat(Cli.run("check", "--workers", "0").exit()).isEqualTo(2);
        assertThat(Cli.run("check", "--annotations", "gitlab").exit()).isEqualTo(2);
    }

    @Test
    void faultsPrintsTheRowOfACaughtFault() {
        Cli.Result r = Cli.run("faults", "--tries", "50", "--fault", FAULT);
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains(FAULT, "PRE-2", "1 of 1 faults caught");
    }

    @Test
    void helpDocumentsEveryExitCode() {
        for (String[] a : new String[][] {{"--help"}, {"check", "--help"}}) {
            Cli.Result r = Cli.run(a);
            assertThat(r.out()).contains("Exit codes:");
            for (String code : List.of("0", "1", "2", "3", "70", "130")) {
                assertThat(r.out()).containsPattern("(?m)^  " + code + " +\\S");
            }
        }
    }
}
