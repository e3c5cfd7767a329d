package org.hybridv.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.hybridv.cli.RepoRoot;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.ExitAccounting;
import org.junit.jupiter.api.Test;

/**
 * The diagrams and figures of the docs say what the code does: the package diagram of docs/architecture.md is the
 * import graph of the sources, the boot stage machine of docs/hybrid.md is {@link BootStage#next()}, and the exit
 * table and charts there are what {@link ExitAccounting} measures. And the docs describe the project, not its
 * tracker: no issue numbers, no paths outside the repository.
 */
class DocsTest {
    private static final List<String> MODULES = List.of("reference-impl", "spec", "properties", "bench");
    /** The docs this test keeps free of tracker references. */
    private static final List<String> DOCS = List.of("architecture.md", "hybrid.md", "hypervisor.md",
            "invariants.md", "paging.md", "vmx.md", "ept.md", "faults.md", "benchmarks.md", "explore.md", "smp.md",
            "comparison.md");

    private final Path root = RepoRoot.find();

    // ---- docs/architecture.md: the package diagram -----------------------------------------------------------------

    @Test
    void everyArrowOfThePackageDiagramIsAnImportAndEveryImportFollowsTheArrows() {
        List<String> block = mermaid("architecture.md", "flowchart").get(0);
        Map<String, String> nodePackage = new LinkedHashMap<>();
        Map<String, String> nodeModule = new LinkedHashMap<>();
        Map<String, Set<String>> arrows = new TreeMap<>();
        Pattern subgraph = Pattern.compile("subgraph \\w+ \\[([\\w-]+)]");
        Pattern node = Pattern.compile("(\\w+)\\[\"(org\\.hybridv(?:\\.[a-z0-9]+)*)[^\"]*\"]");
        Pattern arrow = Pattern.compile("(\\w+) --> (\\w+)");
        String module = null;
        for (String line : block) {
            Matcher m;
            if ((m = subgraph.matcher(line)).matches()) {
                module = m.group(1);
            } else if (line.equals("end")) {
                module = null;
            } else if ((m = node.matcher(line)).matches()) {
                assertThat(module).as("node " + line + " inside a module's box").isNotNull();
                nodePackage.put(m.group(1), m.group(2));
                nodeModule.put(m.group(1), module);
            } else if ((m = arrow.matcher(line)).matches()) {
                arrows.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            }
        }
        Map<String, Map<String, Set<String>>> sources = packagesAndTheirReferences();
        // Every package with main sources is drawn (a subpackage inside its parent's node), in its own module's box.
        Map<String, Set<String>> imports = new TreeMap<>();
        for (var mod : sources.entrySet()) {
            for (var pkg : mod.getValue().entrySet()) {
                String from = nodeOf(nodePackage, pkg.getKey());
                assertThat(from).as(pkg.getKey() + " is drawn").isNotNull();
                assertThat(nodeModule.get(from)).as(pkg.getKey() + "'s box").isEqualTo(mod.getKey());
                for (String target : pkg.getValue()) {
                    String to = nodeOf(nodePackage, target);
                    assertThat(to).as(target + " (referenced by " + pkg.getKey() + ") is drawn").isNotNull();
                    if (!to.equals(from)) {
                        imports.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
                    }
                }
            }
        }
        for (String n : nodePackage.keySet()) {
            assertThat(sources.values().stream().flatMap(p -> p.keySet().stream())
                    .anyMatch(p -> n.equals(nodeOf(nodePackage, p)))).as("node " + n + " has sources").isTrue();
        }
        arrows.forEach((from, tos) -> assertThat(imports.getOrDefault(from, Set.of())).as("imports of " + from)
                .containsAll(tos));
        imports.forEach((from, tos) -> assertThat(reachable(arrows, from)).as("what the arrows reach from " + from)
                .containsAll(tos));
    }

    /** The node whose package is the longest prefix of {@code pkg}. */
    private static String nodeOf(Map<String, String> nodePackage, String pkg) {
        String best = null;
        int length = -1;
        for (var e : nodePackage.entrySet()) {
            String p = e.getValue();
            if ((pkg.equals(p) || pkg.startsWith(p + ".")) && p.length() > length) {
                best = e.getKey();
                length = p.length();
            }
        }
        return best;
    }

    private static Set<String> reachable(Map<String, Set<String>> arrows, String from) {
        Set<String> seen = new TreeSet<>();
        Deque<String> todo = new ArrayDeque<>(arrows.getOrDefault(from, Set.of()));
        while (!todo.isEmpty()) {
            String n = todo.pop();
            if (seen.add(n)) {
                todo.addAll(arrows.getOrDefault(n, Set.of()));
            }
        }
        return seen;
    }

    /** Module → package → the org.hybridv packages its main sources import or name in full. */
    private Map<String, Map<String, Set<String>>> packagesAndTheirReferences() {
        Pattern pkgLine = Pattern.compile("(?m)^package ([\\w.]+);");
        Pattern reference = Pattern.compile("\\b(org\\.hybridv(?:\\.[a-z0-9]+)+)\\.[A-Z]");
        Map<String, Map<String, Set<String>>> result = new TreeMap<>();
        for (String module : MODULES) {
            Path src = root.resolve(module).resolve("src/main/java");
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                    String text = Files.readString(f);
                    Matcher p = pkgLine.matcher(text);
                    assertThat(p.find()).as(f + " has a package").isTrue();
                    Set<String> refs = result.computeIfAbsent(module, k -> new TreeMap<>())
                            .computeIfAbsent(p.group(1), k -> new TreeSet<>());
                    Matcher r = reference.matcher(text.substring(p.end()));
                    while (r.find()) {
                        refs.add(r.group(1));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return result;
    }

    // ---- docs/hybrid.md: the boot stage machine, the exit table and charts -----------------------------------------

    @Test
    void theBootStageDiagramHasExactlyTheEdgesOfBootStage() {
        List<String> block = mermaid("hybrid.md", "stateDiagram-v2").get(0);
        Set<String> drawn = new TreeSet<>();
        Pattern edge = Pattern.compile("(\\S+) --> (\\S+)(?: : .*)?");
        for (String line : block) {
            Matcher m = edge.matcher(line);
            if (m.matches()) {
                drawn.add(m.group(1) + " -> " + m.group(2));
            }
        }
        Set<String> expected = new TreeSet<>();
        expected.add("[*] -> " + BootStage.values()[0]);
        for (BootStage s : BootStage.values()) {
            for (BootStage t : s.next()) {
                expected.add(s + " -> " + t);
            }
            if (s.next().isEmpty()) {
                expected.add(s + " -> [*]");
            }
        }
        assertThat(drawn).isEqualTo(expected);
    }

    @Test
    void theExitTableInTheDocIsWhatHybridvExitsPrints() {
        String doc = read("hybrid.md");
        String section = doc.substring(doc.indexOf("## Exit accounting"));
        Matcher m = Pattern.compile("(?s)\n```\n(.*?)```\n").matcher(section);
        assertThat(m.find()).as("a plain code block in the exit accounting section").isTrue();
        assertThat(m.group(1)).isEqualTo(ExitAccounting.table().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void everyBarOfTheExitChartsIsTheMeasuredNumber() {
        List<List<String>> charts = mermaid("hybrid.md", "xychart-beta");
        Set<String> charted = new TreeSet<>();
        for (List<String> chart : charts) {
            String title = field(chart, "title ");
            String configuration = title.replaceFirst("^\"", "").split("[ :]")[0];
            assertThat(ExitAccounting.CONFIGURATIONS).as(title).contains(configuration);
            assertThat(charted.add(configuration)).as("one chart for " + configuration).isTrue();
            List<String> labels = List.of(field(chart, "x-axis ").replaceAll("^\\[|]$", "").split(",\\s*"));
            List<Integer> bars = new ArrayList<>();
            for (String v : field(chart, "bar ").replaceAll("^\\[|]$", "").split(",\\s*")) {
                bars.add(Integer.parseInt(v.trim()));
            }
            assertThat(bars).as(configuration + " bars, one per label " + labels).hasSameSizeAs(labels)
                    .isEqualTo(expectedBars(configuration));
            Matcher range = Pattern.compile("0 --> (\\d+)").matcher(field(chart, "y-axis "));
            assertThat(range.find()).as(configuration + " y-axis range").isTrue();
            assertThat(bars).allMatch(b -> b <= Integer.parseInt(range.group(1)));
        }
        // Every configuration with exits has its chart; bare metal has none to draw.
        for (String c : ExitAccounting.CONFIGURATIONS) {
            boolean exits = ExitAccounting.measure(c).all().total().total() > 0;
            assertThat(charted.contains(c)).as(c).isEqualTo(exits);
        }
    }

    /** The phases in table order, the user #PF phase as its own exits, its handling and the rest (if any). */
    private static List<Integer> expectedBars(String configuration) {
        List<Integer> bars = new ArrayList<>();
        for (ExitAccounting.PhaseExits p : ExitAccounting.measure(configuration).phases().values()) {
            int total = p.total().total();
            if (p.userPageFaults() > 0) {
                int own = p.userPfCaused().total();
                int handling = p.userPfHandling().total();
                bars.add(own);
                bars.add(handling);
                if (total - own - handling != 0) {
                    bars.add(total - own - handling);
                }
            } else {
                bars.add(total);
            }
        }
        return bars;
    }

    private static String field(List<String> chart, String prefix) {
        return chart.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length()).trim())
                .findFirst().orElseThrow(() -> new AssertionError("no " + prefix.trim() + " in " + chart));
    }

    // ---- every doc of this list ------------------------------------------------------------------------------------

    @Test
    void theDocsNameNoIssueNumbersAndNoPathOutsideTheRepository() {
        Pattern issue = Pattern.compile("(?i)\\bissues? \\d+");
        Pattern outside = Pattern.compile("(\\.\\./shared|/wor[k]/|\\.\\./\\.\\./)");
        for (String doc : DOCS) {
            List<String> lines = read(doc).lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                String where = "docs/" + doc + ":" + (i + 1) + ": " + lines.get(i);
                assertThat(issue.matcher(lines.get(i)).find()).as(where).isFalse();
                assertThat(outside.matcher(lines.get(i)).find()).as(where).isFalse();
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private String read(String doc) {
        try {
            return Files.readString(root.resolve("docs").resolve(doc));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Mermaid blocks of {@code doc} whose first line is {@code kind}, each as trimmed, non-empty lines. */
    private List<List<String>> mermaid(String doc, String kind) {
        List<List<String>> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("(?s)```mermaid\n(.*?)```").matcher(read(doc));
        while (m.find()) {
            List<String> lines = m.group(1).lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
            if (!lines.isEmpty() && lines.get(0).split(" ")[0].equals(kind)) {
                blocks.add(lines);
            }
        }
        assertThat(blocks).as("mermaid " + kind + " blocks in docs/" + doc).isNotEmpty();
        return blocks;
    }
}
