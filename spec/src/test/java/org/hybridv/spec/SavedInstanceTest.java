package org.hybridv.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import edu.mit.csail.sdg.alloy4.A4Reporter;
import edu.mit.csail.sdg.alloy4.Util;
import edu.mit.csail.sdg.alloy4.XMLNode;
import edu.mit.csail.sdg.ast.Command;
import edu.mit.csail.sdg.ast.Expr;
import edu.mit.csail.sdg.ast.ExprVar;
import edu.mit.csail.sdg.ast.Sig;
import edu.mit.csail.sdg.parser.CompModule;
import edu.mit.csail.sdg.parser.CompUtil;
import edu.mit.csail.sdg.translator.A4Solution;
import edu.mit.csail.sdg.translator.A4SolutionReader;

/**
 * A saved counterexample opens with its model the way the Alloy Analyzer's evaluator opens a saved instance: the
 * {@code <instance filename=…>} names the model, the {@code <source filename=… content=…/>} elements carry it and
 * every module it opens, {@code CompUtil.parseEverything_fromFile} parses it from those sources, and
 * {@code A4SolutionReader.read} reads the instance against its signatures. The sources are placed under an empty
 * directory, so nothing is read from the models on disk: the file alone is enough.
 */
class SavedInstanceTest {
    /** The repository's saved counterexamples ({@code hybridv spec --save}), seen from the spec module. */
    static final Path SAVED = Path.of("..", "counterexamples", "alloy");

    @TempDir
    Path empty;

    /** A saved instance read back: the model parsed from the embedded sources, and the instance. */
    record ReadBack(String filename, Map<String, String> sources, CompModule model, A4Solution instance) {
        Object eval(String expression) {
            Expr e = CompUtil.parseOneExpression_fromString(model, expression);
            return instance.eval(e);
        }
    }

    /** Reads {@code xml} as the Analyzer's evaluator does, with the embedded sources placed under {@code base}. */
    static ReadBack readBack(XMLNode xml, Path base) {
        assertThat(xml.is("alloy")).isTrue();
        String filename = null;
        Map<String, String> sources = new LinkedHashMap<>();
        for (XMLNode sub : xml) {
            if (filename == null && sub.is("instance")) {
                filename = sub.getAttribute("filename");
            }
            if (sub.is("source")) {
                sources.put(sub.getAttribute("filename"), sub.getAttribute("content"));
            }
        }
        assertThat(filename).as("the instance names its model").isNotEmpty();
        Map<String, String> placed = new LinkedHashMap<>();
        for (Map.Entry<String, String> s : sources.entrySet()) {
            placed.put(place(s.getKey(), base), s.getValue());
        }
        CompModule model = CompUtil.parseEverything_fromFile(A4Reporter.NOP, placed, place(filename, base));
        A4Solution instance = A4SolutionReader.read(model.getAllReachableSigs(), xml);
        for (ExprVar a : instance.getAllAtoms()) {
            model.addGlobal(a.label, a);
        }
        for (ExprVar a : instance.getAllSkolems()) {
            model.addGlobal(a.label, a);
        }
        return new ReadBack(filename, sources, model, instance);
    }

    /** A source's name as a file under {@code base}; Alloy's own library keeps its name (the same everywhere). */
    private static String place(String name, Path base) {
        return name.startsWith(Util.jarPrefix()) ? name : Util.canon(base.resolve(name).toString());
    }

    @Test
    void aFreshCounterexampleOpensWithItsModelAndEvaluatesAsTheCommandImplies() throws IOException {
        SpecOptions o = new SpecOptions(SpecModelsTest.MODELS, Optional.of("vmx/pf_filter"), Optional.empty(),
                OptionalInt.empty(), SpecOptions.REPOSITORY_MODELS);
        CommandResult r = SpecRunner.run(o).results().stream()
                .filter(c -> c.command().equals("bugMatchWithUsIsSafeForDirect")).findFirst().orElseThrow();
        Path fresh = empty.resolve("fresh.xml");
        Files.writeString(fresh, ((Outcome.Instance) r.outcome()).xml(), StandardCharsets.UTF_8);
        ReadBack back = readBack(new XMLNode(fresh.toFile()), empty.resolve("elsewhere"));
        assertThat(back.sources()).containsOnlyKeys("spec/models/vmx/pf_filter.als", "spec/models/util/vocab.als",
                Util.jarPrefix() + "models/util/integer.als");
        assertThat(back.sources().get("spec/models/vmx/pf_filter.als"))
                .isEqualTo(Files.readString(SpecModelsTest.MODELS.resolve("vmx/pf_filter.als")));
        assertMatchWithUsCounterexample(back);
    }

    @Test
    void theSavedCounterexampleInTheRepositoryOpensWithItsModelAndEvaluatesAsTheCommandImplies() throws IOException {
        Path saved = SAVED.resolve("vmx/pf_filter/bugMatchWithUsIsSafeForDirect.xml");
        assertMatchWithUsCounterexample(readBack(new XMLNode(saved.toFile()), empty));
    }

    /**
     * "check bugMatchWithUsIsSafeForDirect for 1 AnyControls, 1 ErrorCode": a counterexample is one AnyControls whose
     * filter matches P|W/R|U/S with bit 14 set (matchWithUs), and one error code that violates safeFilter[Direct]: a
     * supervisor write-protection fault that does not exit.
     */
    private static void assertMatchWithUsCounterexample(ReadBack back) {
        assertThat(back.filename()).isEqualTo("spec/models/vmx/pf_filter.als");
        assertThat(back.eval("#AnyControls = 1 and #ErrorCode = 1")).isEqualTo(true);
        assertThat(back.eval("AnyControls.pfecMask = P + WR + US and AnyControls.pfecMatch = P + WR + US"))
                .isEqualTo(true);
        assertThat(back.eval("some e: ErrorCode | supervisorWriteProtectionFault[e] and not exits[AnyControls, e]"))
                .isEqualTo(true);
        assertThat(back.eval("all c: AnyControls | matchWithUs[c] implies safeFilter[Direct, c]"))
                .as("the assertion is false in its counterexample").isEqualTo(false);
    }

    @Test
    void everySavedCounterexampleOpensWithItsModelAlone() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(SAVED)) {
            files = s.filter(p -> p.toString().endsWith(".xml")).sorted().toList();
        }
        assertThat(files).as("the repository holds the counterexamples of the seeded-bug checks").hasSizeGreaterThan(5);
        for (Path f : files) {
            String rel = SAVED.relativize(f).toString().replace('\\', '/');
            String model = rel.substring(0, rel.lastIndexOf('/'));
            String command = rel.substring(rel.lastIndexOf('/') + 1, rel.length() - ".xml".length());
            XMLNode xml = new XMLNode(f.toFile());
            ReadBack back = readBack(xml, empty.resolve(model));
            assertThat(back.filename()).as(rel).isEqualTo("spec/models/" + model + ".als");
            assertThat(back.sources().keySet()).as(rel + ": names inside the repository or Alloy's library only")
                    .allMatch(n -> n.startsWith("spec/models/") || n.startsWith(Util.jarPrefix()));
            Command c = back.model().getAllCommands().stream().filter(x -> x.label.equals(command)).findFirst()
                    .orElseThrow(() -> new AssertionError(rel + ": no command " + command + " in its model"));
            assertThat(c.check && c.expects == 1).as(rel + ": a check that expects a counterexample").isTrue();
            // Every signature evaluates, in the model read back, to as many atoms as the file lists for it and its
            // subsignatures (an atom is listed under its most specific signature), in the first state.
            Map<String, Integer> listed = atomsPerSig(xml);
            for (Sig sig : back.model().getAllReachableUserDefinedSigs()) {
                assertThat(back.instance().eval(sig).size()).as(rel + ": " + sig.label).isEqualTo(listed.get(sig.label));
            }
        }
    }

    /** Per signature label of the first instance, the atoms listed under it and under its subsignatures. */
    private static Map<String, Integer> atomsPerSig(XMLNode xml) {
        Map<String, String> label = new LinkedHashMap<>();
        Map<String, String> parent = new LinkedHashMap<>();
        Map<String, Integer> own = new LinkedHashMap<>();
        for (XMLNode sub : xml) {
            if (sub.is("instance")) {
                for (XMLNode sig : sub.getChildren("sig")) {
                    String id = sig.getAttribute("ID");
                    label.put(id, sig.getAttribute("label"));
                    parent.put(id, sig.getAttribute("parentID"));
                    own.put(id, (int) count(sig.getChildren("atom")));
                }
                break;
            }
        }
        Map<String, Integer> total = new LinkedHashMap<>();
        for (String id : label.keySet()) {
            int n = 0;
            for (String other : label.keySet()) {
                for (String p = other; p != null && !p.isEmpty(); p = parent.get(p)) {
                    if (p.equals(id)) {
                        n += own.get(other);
                        break;
                    }
                }
            }
            total.put(label.get(id), n);
        }
        return total;
    }

    private static long count(Iterable<XMLNode> nodes) {
        long n = 0;
        for (XMLNode ignored : nodes) {
            n++;
        }
        return n;
    }
}
