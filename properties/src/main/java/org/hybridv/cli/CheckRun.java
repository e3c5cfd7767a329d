package org.hybridv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hybridv.check.Coverage;
import org.hybridv.spec.SpecReport;

/**
 * What one {@code hybridv check} did, phase by phase: the state its summary, report.json, report.md, the JUnit XML
 * and the annotations are all printed from. Filled in as the phases run, so an interrupted run reports what it had.
 */
final class CheckRun {
    /** The exit codes of {@code hybridv check}. */
    static final int EXIT_PASSED = 0;
    static final int EXIT_FOUND = 1;
    static final int EXIT_UNUSABLE = Hybridv.EXIT_UNUSABLE;
    static final int EXIT_INCOMPLETE = 3;
    static final int EXIT_INTERRUPTED = 130;

    /** What the run was asked. */
    record Settings(long seed, int tries, int fromTry, int shard, int shards, int workers, int minTries,
            boolean floors, boolean shrink, Integer onlyTry, Long timeSeconds, String models, String command,
            String launcher) {}

    /**
     * A property's row.
     *
     * @param verdict  "passed", "FOUND", "harness error", "not checked" (too few tries) or "incomplete" (a coverage
     *                 floor missed)
     * @param outcomes a layer property's outcome per jqwik property (empty for a whole-system property)
     */
    record PropertyRow(String name, int triesRun, int triesAsked, String verdict, String detail,
            Optional<Path> counterexample, Coverage coverage, List<Coverage.Floor> floors,
            List<Coverage.Floor> missed, List<org.hybridv.properties.LayerCampaign.Outcome> outcomes) {
        /** Whether this is a layer property's row. */
        boolean layer() {
            return !outcomes.isEmpty();
        }
    }

    /** One replayed scenario: its source and verdict ("passed", "FAILED", "unusable"). */
    record ReplayRow(String source, String verdict, int steps, int checks) {}

    /** Something that leaves the run incomplete (exit 3): a property not checked enough, a coverage floor missed. */
    record Incomplete(String subject, String reason) {}

    final Settings settings;
    final String version;
    final String commit;
    final java.time.Instant started;
    final Map<String, Double> seconds = new LinkedHashMap<>();

    Optional<SpecReport> spec = Optional.empty();
    boolean specRan;
    final List<PropertyRow> properties = new ArrayList<>();
    boolean propertiesRan;
    final List<ReplayRow> replays = new ArrayList<>();
    boolean replayRan;
    String corpus = "";
    final List<Finding> findings = new ArrayList<>();
    final List<Incomplete> incomplete = new ArrayList<>();
    int unusable;
    boolean interrupted;
    /** The try to resume an interrupted campaign from, if it was interrupted during the properties. */
    Optional<Integer> resumeFrom = Optional.empty();

    CheckRun(Settings settings, String version, String commit, java.time.Instant started) {
        this.settings = settings;
        this.version = version;
        this.commit = commit;
        this.started = started;
    }

    boolean found() {
        return findings.stream().anyMatch(f -> !f.phase().equals("input"));
    }

    int exit() {
        if (interrupted) {
            return EXIT_INTERRUPTED;
        }
        if (unusable > 0) {
            return EXIT_UNUSABLE;
        }
        if (found()) {
            return EXIT_FOUND;
        }
        return incomplete.isEmpty() ? EXIT_PASSED : EXIT_INCOMPLETE;
    }

    /** The word for {@link #exit()}: passed, found, unusable, incomplete, interrupted. */
    String verdict() {
        return switch (exit()) {
            case EXIT_PASSED -> "passed";
            case EXIT_FOUND -> "found";
            case EXIT_UNUSABLE -> "unusable input";
            case EXIT_INCOMPLETE -> "incomplete";
            default -> "interrupted";
        };
    }
}
