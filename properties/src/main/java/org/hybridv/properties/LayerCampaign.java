package org.hybridv.properties;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs the {@link LayerProperties layer properties} inside {@code hybridv check}: each class through the JUnit
 * Platform launcher with the jqwik engine, every property at the campaign's seed and at its CI tries scaled by the
 * campaign's tries ({@code --tries 1000}, the default, is exactly what {@code mvn verify} runs). One class at a time:
 * jqwik keeps engine state in statics, so two executions must not overlap. Each property's outcome is a value: passed,
 * falsified (with jqwik's shrunk sample and the failed assertion, which names the rule), a coverage floor missed, or
 * an error outside the tries.
 */
public final class LayerCampaign {
    private LayerCampaign() {}

    /** jqwik's tries for a property whose annotation names none (the jqwik.tries.default of the CI). */
    static final int DEFAULT_TRIES = 1000;

    /** How a property ended. */
    public enum Status {
        /** Every try passed and every coverage floor was met. */
        PASSED,
        /** A try violated the property. */
        FALSIFIED,
        /** Every try passed but a coverage floor was missed. */
        COVERAGE,
        /** The property failed outside its tries (a generator, a hook): not checked. */
        ERROR,
        /** Not run: the time budget ran out or the campaign was cancelled before it started. */
        NOT_RUN
    }

    /**
     * One property (a jqwik method) of a layer class.
     *
     * @param method  its name
     * @param tries   tries run
     * @param checks  tries that were not discarded by an assumption
     * @param status  how it ended
     * @param sample  the falsifying sample, shrunk (empty unless FALSIFIED)
     * @param message the failed assertion or the coverage or error message (empty when PASSED)
     */
    public record Outcome(String method, int tries, int checks, Status status, String sample, String message) {}

    /** One layer class: its properties' outcomes, in declaration order. */
    public record Result(LayerProperties.Layer layer, List<Outcome> outcomes, double seconds) {
        public int tries() {
            return outcomes.stream().mapToInt(Outcome::tries).sum();
        }

        /** The first outcome with {@code status}, if any. */
        public Optional<Outcome> first(Status status) {
            return outcomes.stream().filter(o -> o.status() == status).findFirst();
        }
    }

    /**
     * A campaign's settings.
     *
     * @param seed     jqwik's seed for every property
     * @param tries    the campaign's tries per property (1000: the CI budget)
     * @param deadline no class starts after this {@link System#nanoTime()}, if present
     */
    public record Config(long seed, int tries, Optional<Long> deadline) {}

    /** The longest sample or message kept (jqwik prints whole machines). */
    static final int MAX_TEXT = 4000;

    /** Runs {@code layers} in order; a class is not started once {@code cancelled} or past the deadline. */
    public static List<Result> run(List<LayerProperties.Layer> layers, Config config, BooleanSupplier cancelled) {
        Path folder;
        try {
            folder = Files.createTempDirectory("hybridv-jqwik");
        } catch (IOException e) {
            throw new IllegalStateException("no temporary folder for jqwik's database: " + e.getMessage(), e);
        }
        // jqwik remembers failures in a file; a campaign starts from none and leaves none behind
        Path database = folder.resolve("database");
        // jqwik's own log (e.g. "edge cases exceed tries") is not the campaign's output
        java.util.logging.Logger jqwikLog = java.util.logging.Logger.getLogger("net.jqwik");
        java.util.logging.Level level = jqwikLog.getLevel();
        jqwikLog.setLevel(java.util.logging.Level.WARNING);
        CampaignHook.Session session = new CampaignHook.Session(Long.toString(config.seed()), config.tries());
        List<Result> results = new ArrayList<>();
        Launcher launcher = LauncherFactory.create();
        CampaignHook.begin(session);
        try {
            for (LayerProperties.Layer l : layers) {
                boolean late = config.deadline().map(d -> System.nanoTime() - d > 0).orElse(false);
                if (cancelled.getAsBoolean() || late) {
                    results.add(notRun(l, cancelled.getAsBoolean() ? "interrupted" : "the time budget ran out"));
                    continue;
                }
                results.add(runOne(launcher, l, session, database));
            }
        } finally {
            CampaignHook.end();
            jqwikLog.setLevel(level);
            try {
                Files.deleteIfExists(database);
                Files.deleteIfExists(folder);
            } catch (IOException e) {
                // a temporary file left behind is harmless
            }
        }
        return results;
    }

    private static Result notRun(LayerProperties.Layer l, String why) {
        return new Result(l, propertyMethods(l.type()).stream().map(m -> new Outcome(m.getName(), 0, 0,
                Status.NOT_RUN, "", why)).toList(), 0);
    }

    /** The tries a campaign of {@code tries} asks of {@code l}: each property's CI tries scaled, summed. */
    public static int triesAsked(LayerProperties.Layer l, int tries) {
        long sum = 0;
        for (Method m : propertyMethods(l.type())) {
            int ci = m.getAnnotation(Property.class).tries();
            sum += CampaignHook.scaled(ci > 0 ? ci : DEFAULT_TRIES, tries);
        }
        return (int) Math.min(Integer.MAX_VALUE, sum);
    }

    /** The class's jqwik properties, in source order as far as reflection keeps it (sorted by name: stable). */
    static List<Method> propertyMethods(Class<?> type) {
        return Arrays.stream(type.getDeclaredMethods()).filter(m -> m.isAnnotationPresent(Property.class))
                .sorted(Comparator.comparing(Method::getName)).toList();
    }

    private static Result runOne(Launcher launcher, LayerProperties.Layer l, CampaignHook.Session session,
            Path database) {
        long t0 = System.nanoTime();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectClass(l.type()))
                .configurationParameter("jqwik.database", database.toString())
                .configurationParameter("jqwik.failures.runfirst", "false")
                .configurationParameter("jqwik.reporting.onlyfailures", "true")
                .configurationParameter("jqwik.reporting.usejunitplatform", "true")
                .configurationParameter("jqwik.tries.default", Integer.toString(DEFAULT_TRIES))
                .configurationParameter("junit.platform.output.capture.stdout", "false")
                .build();
        Map<String, TestExecutionResult> finished = new ConcurrentHashMap<>();
        launcher.execute(request, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.getSource().orElse(null) instanceof MethodSource m) {
                    finished.put(m.getMethodName(), result);
                }
            }
        });
        List<Outcome> outcomes = new ArrayList<>();
        for (Method m : propertyMethods(l.type())) {
            outcomes.add(outcome(m, session.tries().get(m), finished.get(m.getName())));
        }
        return new Result(l, outcomes, (System.nanoTime() - t0) / 1e9);
    }

    /** A property's outcome from what its tries did (the hook's record) and how its execution ended. */
    static Outcome outcome(Method m, PropertyExecutionResult tries, TestExecutionResult end) {
        if (tries == null) {
            String why = end == null ? "jqwik did not run it" : end.getThrowable().map(LayerCampaign::text)
                    .orElse("jqwik did not run its tries (" + end.getStatus() + ")");
            return new Outcome(m.getName(), 0, 0, Status.ERROR, "", why);
        }
        int n = tries.countTries();
        int checks = tries.countChecks();
        if (tries.status() == PropertyExecutionResult.Status.FAILED) {
            String sample = tries.falsifiedParameters().map(ps -> cut(ps.toString())).orElse("");
            String why = tries.throwable().map(LayerCampaign::text).orElse("failed");
            return new Outcome(m.getName(), n, checks, sample.isEmpty() ? Status.ERROR : Status.FALSIFIED, sample,
                    why);
        }
        if (tries.status() == PropertyExecutionResult.Status.ABORTED) {
            return new Outcome(m.getName(), n, checks, Status.ERROR, "", tries.throwable().map(LayerCampaign::text)
                    .orElse("aborted"));
        }
        if (end != null && end.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
            // the tries passed, jqwik's statistics hook failed the property afterwards: a coverage floor
            return new Outcome(m.getName(), n, checks, Status.COVERAGE, "", end.getThrowable()
                    .map(LayerCampaign::text).orElse("coverage check failed"));
        }
        return new Outcome(m.getName(), n, checks, Status.PASSED, "", "");
    }

    private static String text(Throwable t) {
        String s = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
        return cut(s);
    }

    private static String cut(String s) {
        return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + " … (" + (s.length() - MAX_TEXT)
                + " more characters)";
    }
}
