package org.hybridv.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.junit.jupiter.api.Test;

/**
 * The rulebook (docs/rules/) is where every rule ID of the repository is defined, and every citation points into the
 * repository:
 * <ul>
 * <li>no file names a path outside the repository (the research notes the IDs once lived in, a path of a
 * development machine, a relative path that leaves the checkout), and every relative Markdown link resolves;</li>
 * <li>every rule ID any file cites is an entry of the rulebook;</li>
 * <li>every rule the rulebook says the model implements is cited by main code or an Alloy model (no orphans), and
 * what its row names — Java, tests, scenarios, Alloy — exists;</li>
 * <li>every implemented rule names the invariant or property that checks it after every step, or says why none
 * does; every invariant and property named exists.</li>
 * </ul>
 * The repository is read by walking the checkout (skipping {@code target/} and dot-directories), so the test needs no
 * git binary.
 */
class RulebookTest {
    /** The prefixes of the rulebook's IDs. */
    static final Pattern RULE_ID = Pattern.compile(
            "\\b(?:TYP|OWN|PRO|L1|LN|LIN|SP|SLOT|MU|MX|UVA|PTW|GNT|TLB|MISC|SH|HAP|PRE|POST|INV|BOOT|CTL|BUD|MIG|EVT|TIME|EMU|IPI|BLK)"
                    + "-\\d+\\b");
    /** A path that leaves the repository: the notes the rules came from, a machine path, an escaping relative path. */
    static final Pattern OUTSIDE = Pattern.compile("(?i)(xen-direct-paging|hybrid[-_]design|\\bnotes/|\\.\\./shared"
            + "|(?<![\\w.])/(?:work|home|Users)/\\w|\\bnotes? §\\d)");
    private static final Pattern INVARIANT = Pattern.compile("I[1-8](?:-[a-z]+(?:-[a-z]+)*)?");
    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Set<String> TEXT = Set.of("java", "als", "md", "json", "xml", "properties", "txt", "yml",
            "yaml", "sh", "cfg", "gitignore");
    private static final List<String> RULEBOOK = List.of("xen.md", "hybrid.md");

    private final Path root = RepoRoot.find();
    private final Map<String, String> files = textFiles();

    // ---- paths outside the repository ------------------------------------------------------------------------------

    @Test
    void noFileNamesAPathOutsideTheRepository() {
        List<String> found = new ArrayList<>();
        files.forEach((path, text) -> {
            if (path.equals(self())) {
                return;
            }
            List<String> lines = text.lines().toList();
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = OUTSIDE.matcher(lines.get(i));
                if (m.find()) {
                    found.add(path + ":" + (i + 1) + ": " + m.group() + " in " + excerpt(lines.get(i), m.start()));
                }
            }
        });
        assertThat(found).as("files naming a path outside the repository (%d)", found.size()).isEmpty();
    }

    @Test
    void everyRelativeMarkdownLinkResolvesInsideTheRepository() {
        List<String> broken = new ArrayList<>();
        files.forEach((path, text) -> {
            if (!path.endsWith(".md")) {
                return;
            }
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("(?i)^(https?|mailto):.*") || target.startsWith("#")) {
                    continue;
                }
                String file = target.replaceAll("#.*$", "");
                Path resolved = root.resolve(path).getParent().resolve(file).normalize();
                if (!resolved.startsWith(root) || !Files.exists(resolved)) {
                    broken.add(path + ": (" + target + ")");
                }
            }
        });
        assertThat(broken).as("links that do not resolve inside the repository").isEmpty();
    }

    // ---- rule IDs ------------------------------------------------------------------------------------------------

    @Test
    void everyCitedRuleIdIsInTheRulebook() {
        Set<String> defined = new TreeSet<>(defined().keySet());
        Map<String, String> unknown = new TreeMap<>();
        files.forEach((path, text) -> {
            Matcher m = RULE_ID.matcher(text);
            while (m.find()) {
                if (!defined.contains(m.group())) {
                    unknown.putIfAbsent(m.group(), path);
                }
            }
        });
        assertThat(unknown).as("rule IDs cited but not defined in docs/rules/ (ID=first file)").isEmpty();
    }

    @Test
    void everyImplementedRuleIsCitedByCode() {
        List<String> orphans = new ArrayList<>();
        for (Entry e : implemented()) {
            boolean cited = files.entrySet().stream()
                    .filter(f -> f.getKey().contains("/src/main/java/") || f.getKey().endsWith(".als"))
                    .anyMatch(f -> Pattern.compile("\\b" + Pattern.quote(e.id) + "\\b").matcher(f.getValue()).find());
            if (!cited) {
                orphans.add(e.where());
            }
        }
        assertThat(orphans).as("rules of the rulebook no main code or Alloy model cites").isEmpty();
    }

    @Test
    void everyRuleIdIsDefinedOnce() {
        List<String> all = new ArrayList<>();
        for (String book : RULEBOOK) {
            for (Entry e : entries(book)) {
                all.add(e.id);
            }
        }
        assertThat(all).as("rule IDs of docs/rules/").doesNotHaveDuplicates().isNotEmpty();
    }

    // ---- what a row names exists ---------------------------------------------------------------------------------

    @Test
    void everyJavaFunctionTestScenarioAndAlloyNameOfTheRulebookExists() {
        List<String> missing = new ArrayList<>();
        for (Entry e : implemented()) {
            for (String t : ticked(e.java)) {
                if (!javaNameExists(t, "/src/main/java/")) {
                    missing.add(e.where() + " Java `" + t + "`");
                }
            }
            for (String t : ticked(e.pinnedBy)) {
                boolean ok = t.endsWith(".json") ? fileNamed(t) : (javaNameExists(t, "/src/test/java/")
                        || javaNameExists(t, "properties/src/main/java/org/hybridv/properties/"));
                if (!ok) {
                    missing.add(e.where() + " pinned by `" + t + "`");
                }
            }
            for (String t : ticked(e.alloy)) {
                boolean ok = t.endsWith(".als") ? fileNamed(t) : files.entrySet().stream()
                        .filter(f -> f.getKey().startsWith("spec/models/"))
                        .anyMatch(f -> word(t).matcher(f.getValue()).find());
                if (!ok) {
                    missing.add(e.where() + " Alloy `" + t + "`");
                }
            }
            if (ticked(e.pinnedBy).isEmpty()) {
                missing.add(e.where() + " names no test or scenario that pins it");
            }
        }
        assertThat(missing).as("names in docs/rules/ that the repository does not have").isEmpty();
    }

    // ---- checked by ----------------------------------------------------------------------------------------------

    @Test
    void everyRuleNamesItsCheckerOrAReasonAndEveryCheckerExists() {
        List<String> bad = new ArrayList<>();
        Map<String, String> unchecked = new LinkedHashMap<>();
        for (Entry e : implemented()) {
            List<String> checkers = ticked(e.checkedBy);
            String cell = e.checkedBy.trim();
            if (cell.startsWith("none:")) {
                String reason = cell.substring("none:".length()).trim();
                if (reason.length() < 30 || !checkers.isEmpty() && !reason.contains(" ")) {
                    bad.add(e.where() + ": 'none:' without a reason");
                }
                unchecked.put(e.id, reason);
                continue;
            }
            if (checkers.isEmpty()) {
                bad.add(e.where() + ": names no invariant or property, and gives no reason (\"none: …\")");
            }
            for (String c : checkers) {
                if (!checkerExists(c)) {
                    bad.add(e.where() + ": checker `" + c + "` is not an invariant or property of the code");
                }
            }
        }
        assertThat(bad).isEmpty();
        // The rules no invariant or property checks after every step, each with its reason (the list the rulebook
        // promises; printed so that a reader of the build log sees it).
        unchecked.forEach((id, reason) -> System.out.println("rule with no step checker: " + id + " — " + reason));
        assertThat(unchecked.values()).allSatisfy(r -> assertThat(r).isNotBlank());
    }

    @Test
    void theIndexLinksEveryRulebookFileAndTheSdmIndexLinksTheChapterDocs() {
        String index = files.get("docs/rules/README.md");
        assertThat(index).as("docs/rules/README.md").isNotNull();
        for (String f : List.of("xen.md", "hybrid.md", "sdm.md")) {
            assertThat(index).contains("(" + f + ")");
        }
        String sdm = files.get("docs/rules/sdm.md");
        for (String f : List.of("../paging.md", "../vmx.md", "../ept.md")) {
            assertThat(sdm).contains("(" + f);
        }
        assertThat(files.get("README.md")).contains("docs/rules/");
        assertThat(files.get("docs/architecture.md")).contains("rules/README.md");
    }

    // ---- parsing the rulebook --------------------------------------------------------------------------------------

    /** One row of a rulebook table; an implemented rule has all seven columns, a rule not modelled four. */
    record Entry(String book, int line, String id, String rule, String source, String java, String pinnedBy,
            String alloy, String checkedBy, boolean modelled) {
        String where() {
            return "docs/rules/" + book + ":" + line + " " + id;
        }
    }

    private Map<String, Entry> defined() {
        Map<String, Entry> out = new TreeMap<>();
        for (String book : RULEBOOK) {
            for (Entry e : entries(book)) {
                out.put(e.id, e);
            }
        }
        return out;
    }

    private List<Entry> implemented() {
        return defined().values().stream().filter(Entry::modelled).toList();
    }

    /**
     * The rows of {@code book} whose first cell is a rule ID. A table whose header starts "| ID | rule | source |
     * Java" holds implemented rules (seven cells); one whose header starts "| ID | rule | source | not modelled"
     * holds rules the model names but does not implement (four cells).
     */
    private List<Entry> entries(String book) {
        String text = files.get("docs/rules/" + book);
        assertThat(text).as("docs/rules/" + book).isNotNull();
        List<Entry> out = new ArrayList<>();
        Boolean modelled = null;
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (!l.startsWith("|")) {
                modelled = null;
                continue;
            }
            List<String> cells = cells(l);
            if (cells.size() >= 4 && cells.get(0).equals("ID")) {
                modelled = cells.get(3).equals("Java") ? Boolean.TRUE
                        : cells.get(3).startsWith("not modelled") ? Boolean.FALSE : null;
                continue;
            }
            if (modelled == null || !RULE_ID.matcher(cells.get(0)).matches()) {
                continue;
            }
            int want = modelled ? 7 : 4;
            assertThat(cells).as("docs/rules/%s:%d has %d cells", book, i + 1, want).hasSize(want);
            for (String c : cells) {
                assertThat(c).as("docs/rules/%s:%d: an empty cell", book, i + 1).isNotBlank();
            }
            out.add(modelled
                    ? new Entry(book, i + 1, cells.get(0), cells.get(1), cells.get(2), cells.get(3), cells.get(4),
                            cells.get(5), cells.get(6), true)
                    : new Entry(book, i + 1, cells.get(0), cells.get(1), cells.get(2), "", "", "", "", false));
        }
        return out;
    }

    private static List<String> cells(String row) {
        String body = row.trim();
        body = body.substring(1, body.endsWith("|") ? body.length() - 1 : body.length());
        List<String> out = new ArrayList<>();
        for (String c : body.split("(?<!\\\\)\\|", -1)) {
            out.add(c.trim());
        }
        return out;
    }

    private static List<String> ticked(String cell) {
        List<String> out = new ArrayList<>();
        Matcher m = TICKED.matcher(cell);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    // ---- resolving names -------------------------------------------------------------------------------------------

    /** {@code Class} or {@code Class.member}: a file Class.java under {@code tree} whose text has the member. */
    private boolean javaNameExists(String name, String tree) {
        if (!name.matches("[A-Z]\\w*(\\.(\\w+|\\*))*")) {
            return false;
        }
        String[] parts = name.split("\\.");
        return files.entrySet().stream()
                .filter(f -> f.getKey().contains(tree) && f.getKey().endsWith("/" + parts[0] + ".java"))
                .anyMatch(f -> Stream.of(parts).skip(1).allMatch(p -> p.equals("*") || word(p).matcher(f.getValue())
                        .find()));
    }

    /**
     * An invariant ID (I1 … I8, or a clause such as I7-filter) that the invariants package reports, or a class of the
     * invariants package, of the checker's properties, or of the jqwik properties.
     */
    private boolean checkerExists(String name) {
        String invariants = "reference-impl/src/main/java/org/hybridv/invariants/";
        if (INVARIANT.matcher(name).matches()) {
            return files.entrySet().stream().filter(f -> f.getKey().startsWith(invariants))
                    .anyMatch(f -> word(name).matcher(f.getValue()).find());
        }
        return Stream.of(invariants, "properties/src/main/java/org/hybridv/check/",
                "properties/src/main/java/org/hybridv/properties/", "properties/src/test/java/org/hybridv/properties/")
                .anyMatch(dir -> files.containsKey(dir + name + ".java"));
    }

    private boolean fileNamed(String name) {
        return files.keySet().stream().anyMatch(p -> p.endsWith("/" + name));
    }

    private static Pattern word(String w) {
        return Pattern.compile("(?<![\\w-])" + Pattern.quote(w) + "(?![\\w-])");
    }

    // ---- reading the checkout --------------------------------------------------------------------------------------

    private String self() {
        return "properties/src/test/java/org/hybridv/docs/RulebookTest.java";
    }

    private static String excerpt(String line, int at) {
        int from = Math.max(0, at - 40);
        return "…" + line.substring(from, Math.min(line.length(), at + 60)).strip() + "…";
    }

    /** Every text file of the checkout, by its path relative to the root with '/' separators. */
    private Map<String, String> textFiles() {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(Files::isRegularFile).forEach(p -> {
                Path rel = root.relativize(p);
                for (Path part : rel) {
                    String s = part.toString();
                    if (s.equals("target") || s.startsWith(".") && !s.equals(".gitignore")) {
                        return;
                    }
                }
                String name = rel.getFileName().toString();
                String ext = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : "";
                if (TEXT.contains(ext) || name.equals("hybridv")) {
                    try {
                        out.put(rel.toString().replace('\\', '/'), Files.readString(p, StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        throw new UncheckedIOException(p.toString(), e);
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
