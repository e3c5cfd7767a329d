package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * The GitHub Actions workflow (.github/workflows/hybridv.yml) is YAML of the expected shape, and every command it runs
 * exists: each {@code ./hybridv} line parses against the real command line (an unknown subcommand or option, or a
 * value of the wrong type, fails here rather than at 2 a.m. on the runner), each {@code mvn} line is the README's test
 * command, and nothing else is run. The campaign's shards cover every try exactly once, and the artifacts it uploads
 * are the folders {@code check} writes to by default.
 */
class WorkflowTest {
    private static final Path WORKFLOW = Path.of(".github", "workflows", "hybridv.yml");
    /** A workflow expression, {@code ${{ ... }}}. */
    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{\\{\\s*([^}]*?)\\s*}}");

    private static Path root;
    private static JsonNode workflow;
    private static List<String> readmeTestCommand;

    @BeforeAll
    static void read() throws IOException {
        root = RepoRoot.find();
        workflow = new YAMLMapper().readTree(Files.readString(root.resolve(WORKFLOW)));
        readmeTestCommand = readmeTestCommand();
    }

    @Test
    void triggersArePushPullRequestScheduleAndManual() {
        JsonNode on = workflow.get("on");
        assertThat(on).as("the 'on' key (read as a string, not YAML 1.1's boolean)").isNotNull();
        assertThat(fieldNames(on)).containsExactlyInAnyOrder("push", "pull_request", "schedule", "workflow_dispatch");
        assertThat(on.get("schedule").isArray()).isTrue();
        assertThat(on.get("schedule")).isNotEmpty();
        for (JsonNode s : on.get("schedule")) {
            // Five fields: minute hour day-of-month month day-of-week.
            assertThat(s.get("cron").asText().trim().split("\\s+")).hasSize(5);
        }
    }

    @Test
    void theVerifyJobRunsTheReadmesTestCommandOnJava17() {
        JsonNode verify = job("verify");
        assertThat(verify.get("if").asText()).contains("push", "pull_request");
        assertThat(runs(verify, Map.of())).containsExactly(readmeTestCommand);
        assertSetsUpTemurin17WithMavenCache(verify);
    }

    @Test
    void theCampaignRunsEveryShardOnceAndTheSpecInOneShard() {
        JsonNode campaign = job("campaign");
        assertThat(campaign.get("if").asText()).contains("schedule", "workflow_dispatch");
        assertThat(campaign.at("/strategy/fail-fast").asBoolean(true)).as("a failing shard must not cancel the others")
                .isFalse();
        assertSetsUpTemurin17WithMavenCache(campaign);
        List<Map<String, String>> combos = matrix(campaign);
        assertThat(combos).hasSizeGreaterThan(1);
        TreeSet<Integer> shards = new TreeSet<>();
        TreeSet<Integer> counts = new TreeSet<>();
        int withSpec = 0;
        for (Map<String, String> combo : combos) {
            List<ParseResult> checks = new ArrayList<>();
            for (List<String> line : runs(campaign, combo)) {
                checks.add(parseHybridv(line).subcommand());
            }
            assertThat(checks).as("one hybridv check per shard job " + combo).hasSize(1);
            ParseResult check = checks.get(0);
            assertThat(check.commandSpec().name()).isEqualTo("check");
            assertThat(check.hasMatchedOption("--shard")).as(combo.toString()).isTrue();
            String shard = check.matchedOption("--shard").stringValues().get(0);
            Matcher m = Pattern.compile("(\\d+)/(\\d+)").matcher(shard);
            assertThat(m.matches()).as("--shard " + shard).isTrue();
            int i = Integer.parseInt(m.group(1));
            int n = Integer.parseInt(m.group(2));
            assertThat(i).as("--shard " + shard).isLessThan(n);
            assertThat(shards.add(i)).as("shard " + i + " twice").isTrue();
            counts.add(n);
            if (!check.hasMatchedOption("--no-spec")) {
                withSpec++;
            }
        }
        assertThat(counts).as("every job splits the campaign the same way").hasSize(1);
        int n = counts.first();
        assertThat(shards).as("shards 0.." + (n - 1) + " each run once")
                .containsExactlyElementsOf(IntStream.range(0, n).boxed().toList());
        assertThat(withSpec).as("the Alloy models run in exactly one shard").isEqualTo(1);
    }

    @Test
    void theCampaignUploadsWhatCheckWritesEvenWhenItFails() {
        // check's defaults, in the checkout the launcher runs from (the workflow's working directory)
        String found = CheckCommand.DEFAULT_FOUND;
        String report = CheckCommand.DEFAULT_REPORT;
        List<JsonNode> uploads = new ArrayList<>();
        for (JsonNode step : job("campaign").get("steps")) {
            if (step.path("uses").asText().startsWith("actions/upload-artifact@")) {
                uploads.add(step);
            }
        }
        assertThat(uploads).hasSize(1);
        JsonNode upload = uploads.get(0);
        assertThat(upload.path("if").asText()).isEqualTo("always()");
        assertThat(upload.at("/with/name").asText()).as("one artifact name per shard").contains("${{ matrix.shard }}");
        List<String> paths = upload.at("/with/path").asText().lines().map(String::trim)
                .filter(l -> !l.isEmpty()).map(l -> l.replaceAll("/$", "")).toList();
        assertThat(paths).containsExactlyInAnyOrder(found, report);
    }

    @Test
    void theSwarmRunsEachMemberOnceAndUploadsItsReport() {
        JsonNode swarm = job("swarm");
        assertThat(swarm.get("if").asText()).contains("schedule", "workflow_dispatch");
        assertThat(swarm.at("/strategy/fail-fast").asBoolean(true)).isFalse();
        assertSetsUpTemurin17WithMavenCache(swarm);
        TreeSet<Integer> members = new TreeSet<>();
        TreeSet<Integer> counts = new TreeSet<>();
        List<String> reports = new ArrayList<>();
        for (Map<String, String> combo : matrix(swarm)) {
            List<List<String>> lines = runs(swarm, combo);
            assertThat(lines).as("one hybridv explore per member " + combo).hasSize(1);
            ParseResult explore = parseHybridv(lines.get(0)).subcommand();
            assertThat(explore.commandSpec().name()).isEqualTo("explore");
            Matcher m = Pattern.compile("(\\d+)/(\\d+)").matcher(explore.matchedOption("--swarm").stringValues()
                    .get(0));
            assertThat(m.matches()).isTrue();
            assertThat(members.add(Integer.parseInt(m.group(1)))).as("member twice").isTrue();
            counts.add(Integer.parseInt(m.group(2)));
            assertThat(explore.hasMatchedOption("--report")).isTrue();
            reports.add(explore.matchedOption("--report").stringValues().get(0));
            JsonNode upload = null;
            for (JsonNode step : swarm.get("steps")) {
                if (step.path("uses").asText().startsWith("actions/upload-artifact@")) {
                    upload = step;
                }
            }
            assertThat(upload).isNotNull();
            assertThat(upload.path("if").asText()).isEqualTo("always()");
            List<String> paths = upload.at("/with/path").asText().lines().map(String::trim)
                    .filter(l -> !l.isEmpty()).map(l -> substitute(l, combo).replaceAll("/$", "")).toList();
            assertThat(paths).containsExactlyInAnyOrder(CheckCommand.DEFAULT_FOUND, reports.get(reports.size() - 1));
        }
        assertThat(counts).hasSize(1);
        assertThat(members).containsExactlyElementsOf(IntStream.rangeClosed(1, counts.first()).boxed().toList());
        assertThat(reports).doesNotHaveDuplicates();
    }

    @Test
    void everyStepRunsOnlyCommandsThatExist() {
        for (String name : fieldNames(workflow.get("jobs"))) {
            JsonNode job = job(name);
            for (Map<String, String> combo : matrix(job)) {
                for (List<String> line : runs(job, combo)) {
                    switch (line.get(0)) {
                        case "./hybridv" -> parseHybridv(line);
                        case "mvn" -> assertThat(line).as(name).isEqualTo(readmeTestCommand);
                        default -> fail("job " + name + " runs " + line + ": only ./hybridv and the README's mvn"
                                + " command are checked here");
                    }
                }
            }
        }
    }

    @Test
    void theParseUsedHereRejectsWhatTheWorkflowMustNotContain() {
        // An unknown subcommand, an unknown option, a value of the wrong type: each fails the parse.
        for (String bad : List.of("./hybridv chek --tries 1", "./hybridv check --shards 0/4",
                "./hybridv check --tries many")) {
            assertThatThrownBy(() -> parseHybridv(Arrays.asList(bad.split(" ")))).as(bad)
                    .isInstanceOf(AssertionError.class).hasMessageContaining("does not parse");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static JsonNode job(String name) {
        JsonNode j = workflow.path("jobs").get(name);
        assertThat(j).as("job " + name).isNotNull();
        assertThat(j.path("runs-on").asText()).as(name + " runs-on").isNotEmpty();
        assertThat(j.get("steps").isArray()).as(name + " steps").isTrue();
        return j;
    }

    private static void assertSetsUpTemurin17WithMavenCache(JsonNode job) {
        List<JsonNode> setups = new ArrayList<>();
        for (JsonNode step : job.get("steps")) {
            if (step.path("uses").asText().startsWith("actions/setup-java@")) {
                setups.add(step);
            }
        }
        assertThat(setups).hasSize(1);
        JsonNode with = setups.get(0).get("with");
        assertThat(with.path("distribution").asText()).isEqualTo("temurin");
        assertThat(with.path("java-version").asText()).isEqualTo("17");
        assertThat(with.path("cache").asText()).isEqualTo("maven");
    }

    /** The matrix combinations of a job: its {@code include} entries, or one empty combination without a matrix. */
    private static List<Map<String, String>> matrix(JsonNode job) {
        JsonNode matrix = job.at("/strategy/matrix");
        if (matrix.isMissingNode()) {
            return List.of(Map.of());
        }
        assertThat(fieldNames(matrix)).as("matrix written as include entries").containsExactly("include");
        List<Map<String, String>> combos = new ArrayList<>();
        for (JsonNode entry : matrix.get("include")) {
            Map<String, String> combo = new LinkedHashMap<>();
            for (String k : fieldNames(entry)) {
                combo.put(k, entry.get(k).asText());
            }
            combos.add(combo);
        }
        return combos;
    }

    /**
     * The command lines of a job's {@code run:} steps with {@code combo} substituted for the matrix expressions, each
     * split into words. A line ending in a backslash continues on the next.
     */
    private static List<List<String>> runs(JsonNode job, Map<String, String> combo) {
        List<List<String>> lines = new ArrayList<>();
        for (JsonNode step : job.get("steps")) {
            if (!step.has("run")) {
                continue;
            }
            String script = step.get("run").asText().replaceAll("\\\\\\r?\\n", " ");
            for (String line : script.lines().toList()) {
                // "… || test $? -eq 3": exit 3 (a bound reached, nothing found) passes; the command is what is checked
                String words = substitute(line, combo).trim().replaceFirst("\\s*\\|\\| test \\$\\? -eq 3$", "");
                if (!words.isEmpty() && !words.startsWith("#")) {
                    lines.add(List.of(words.split("\\s+")));
                }
            }
        }
        return lines;
    }

    /** Replaces {@code ${{ matrix.k }}} by the combination's value and {@code ${{ github.run_number }}} by 1. */
    private static String substitute(String line, Map<String, String> combo) {
        Matcher m = EXPRESSION.matcher(line);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String expr = m.group(1);
            String value;
            if (expr.startsWith("matrix.")) {
                value = combo.get(expr.substring("matrix.".length()));
                assertThat(value).as("matrix value for " + expr + " in " + combo).isNotNull();
            } else if (expr.equals("github.run_number")) {
                value = "1";
            } else {
                throw new AssertionError("expression ${{ " + expr + " }} in a run line has no sample value here");
            }
            m.appendReplacement(b, Matcher.quoteReplacement(value));
        }
        m.appendTail(b);
        return b.toString();
    }

    /** Parses {@code ./hybridv args…} against the real command line. */
    private static ParseResult parseHybridv(List<String> line) {
        assertThat(line.get(0)).isEqualTo("./hybridv");
        assertThat(Files.isRegularFile(root.resolve("hybridv"))).as("the launcher exists").isTrue();
        String[] args = line.subList(1, line.size()).toArray(String[]::new);
        try {
            ParseResult r = new CommandLine(new Hybridv()).parseArgs(args);
            assertThat(r.hasSubcommand()).as(String.join(" ", line) + " names a subcommand").isTrue();
            return r;
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError(String.join(" ", line) + " does not parse: " + e.getMessage(), e);
        }
    }

    /** The test command of the README: the line of a code block that starts with {@code mvn}, before its comment. */
    private static List<String> readmeTestCommand() throws IOException {
        List<String> found = new ArrayList<>();
        boolean inCode = false;
        for (String l : Files.readAllLines(root.resolve("README.md"))) {
            if (l.startsWith("```")) {
                inCode = !inCode;
            } else if (inCode && l.startsWith("mvn ")) {
                found.add(l.replaceAll("#.*", "").trim());
            }
        }
        assertThat(found).as("the README's mvn command").hasSize(1);
        return List.of(found.get(0).split("\\s+"));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
