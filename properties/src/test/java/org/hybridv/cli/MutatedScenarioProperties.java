package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.Size;
import org.hybridv.corpus.ScenarioSchema;
import org.hybridv.properties.Budget;
import org.hybridv.scenario.ScenarioSources;

/**
 * Whatever file it is given, hybridv either replays it (exit 0 or 1) or rejects it with exit 2 and one error line
 * naming the file — never an internal error, never a stack trace. Mutants start from every scenario in the
 * repository: fields dropped, values of the wrong type or size, unknown fields, deep nesting, steps duplicated or
 * swapped, then bytes truncated, deleted, inserted or flipped; plus plain random bytes. Each runs through
 * {@link Hybridv#execute} in-process, as {@code replay}, {@code replay --json}, {@code replay --quiet} or
 * {@code validate}. Under {@code mvn verify} the seed is fixed ({@link Budget#SEED}) like every other property, so
 * CI is reproducible; a longer search with other seeds is a matter of editing the seed and tries locally.
 */
class MutatedScenarioProperties {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final List<JsonNode> SEEDS = seeds();
    private static final Path FILE = scratchFile();
    private static final List<String[]> COMMANDS = List.of(new String[] {"replay"}, new String[] {"replay", "--json"},
            new String[] {"replay", "--quiet"}, new String[] {"validate"});

    private static List<JsonNode> seeds() {
        Path root = RepoRoot.find();
        List<JsonNode> out = new ArrayList<>();
        for (Path p : ScenarioSources.expand(List.of(root.resolve("counterexamples").toString(),
                root.resolve("docs/examples").toString())).files()) {
            out.add(ScenarioSchema.read(p));
        }
        return List.copyOf(out);
    }

    private static Path scratchFile() {
        try {
            Path dir = Files.createTempDirectory("hybridv-mutants");
            dir.toFile().deleteOnExit();
            Path file = dir.resolve("mutant.json");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- properties

    @Property(seed = Budget.SEED, tries = 700)
    void aStructurallyMutatedScenarioReplaysOrIsRejectedWithOneLine(@ForAll("structuralMutants") Mutant m)
            throws IOException {
        byte[] bytes = m.bytes();
        Cli.Result r = runOn(bytes, m.command());
        check(r, m.command());
        // what the decoder accepts, the schema accepts (it may reject more: it cannot express everything)
        if (m.command()[0].equals("validate") && r.exit() == 0) {
            assertThat(ScenarioSchema.problems(MAPPER.readTree(bytes))).as(new String(bytes, "UTF-8")).isEmpty();
        }
    }

    @Property(seed = Budget.SEED, tries = 500)
    void aByteMutatedScenarioReplaysOrIsRejectedWithOneLine(@ForAll("byteMutants") ByteMutant m) {
        check(runOn(m.bytes(), m.command()), m.command());
    }

    @Property(seed = Budget.SEED, tries = 200)
    void randomBytesAreRejectedWithOneLine(@ForAll @Size(max = 600) byte[] bytes, @ForAll("commands") String[] command) {
        Cli.Result r = runOn(bytes, command);
        check(r, command);
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
    }

    private static Cli.Result runOn(byte[] bytes, String[] command) {
        try {
            Files.write(FILE, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String[] args = Arrays.copyOf(command, command.length + 1);
        args[command.length] = FILE.toString();
        return Cli.run(args);
    }

    /** The contract: 0/1 with a clean run, or 2 with exactly one error line about this file; no stack trace. */
    private static void check(Cli.Result r, String[] command) {
        Statistics.label("exit").collect(r.exit());
        String all = r.out() + r.err();
        assertThat(all).as(r.all()).doesNotContain("\tat ", "internal error", "Exception in thread");
        assertThat(r.exit()).as(r.all()).isIn(0, 1, 2);
        if (r.exit() == 2) {
            List<String> lines = r.err().lines().toList();
            assertThat(lines).as(r.all()).hasSize(1);
            assertThat(lines.get(0)).as(r.all()).startsWith(FILE + ":").contains(": error: ");
        } else {
            assertThat(r.err()).as(r.all()).isEmpty();
        }
        if (command.length > 1 && command[1].equals("--json")) {
            try {
                JsonNode report = MAPPER.readTree(r.out());
                assertThat(report.get("exitCode").asInt()).isEqualTo(r.exit());
            } catch (IOException e) {
                throw new AssertionError("--json printed something that is not JSON:\n" + r.all(), e);
            }
        } else {
            assertThat(r.out()).as(r.all()).containsPattern("\\d+ (scenario|scenarios|path|paths): ");
        }
    }

    // ---------------------------------------------------------------- generators

    @Provide
    Arbitrary<String[]> commands() {
        return Arbitraries.of(COMMANDS);
    }

    /**
     * One edit of a JSON tree, by numbers: which edit ({@code kind}), on which node (index into the tree's nodes in
     * depth-first order), with which value and size. Plain integers, so jqwik can shrink them.
     */
    record Edit(int kind, int target, int value, int extra) {}

    record Mutant(int seed, List<Edit> edits, boolean pretty, String[] command) {
        byte[] bytes() {
            JsonNode tree = SEEDS.get(seed).deepCopy();
            for (Edit e : edits) {
                tree = apply(tree, e);
            }
            try {
                return pretty ? MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(tree)
                        : MAPPER.writeValueAsBytes(tree);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String toString() {
            return "Mutant[seed " + seed + ", " + edits + ", " + String.join(" ", command) + "]";
        }
    }

    /** Byte edits of a serialized seed: truncate, delete, insert, flip. */
    record ByteEdit(int kind, int position, int length, byte value) {}

    record ByteMutant(int seed, List<ByteEdit> edits, String[] command) {
        byte[] bytes() {
            byte[] b;
            try {
                b = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(SEEDS.get(seed));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (ByteEdit e : edits) {
                int at = b.length == 0 ? 0 : Math.floorMod(e.position(), b.length);
                switch (Math.floorMod(e.kind(), 5)) {
                    case 0 -> b = Arrays.copyOf(b, at);
                    case 1 -> {
                        int end = Math.min(b.length, at + 1 + Math.floorMod(e.length(), 64));
                        byte[] n = new byte[b.length - (end - at)];
                        System.arraycopy(b, 0, n, 0, at);
                        System.arraycopy(b, end, n, at, b.length - end);
                        b = n;
                    }
                    case 2 -> {
                        int count = 1 + Math.floorMod(e.length(), 8);
                        byte[] n = new byte[b.length + count];
                        System.arraycopy(b, 0, n, 0, at);
                        Arrays.fill(n, at, at + count, e.value());
                        System.arraycopy(b, at, n, at + count, b.length - at);
                        b = n;
                    }
                    case 3 -> {
                        if (b.length > 0) {
                            b[at] = (byte) (b[at] ^ (e.value() == 0 ? 0x20 : e.value()));
                        }
                    }
                    default -> {
                        if (b.length > 0) {
                            byte[] syntax = "{}[],:\"0x-9etn ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                            b[at] = syntax[Math.floorMod(e.length(), syntax.length)];
                        }
                    }
                }
            }
            return b;
        }

        @Override
        public String toString() {
            return "ByteMutant[seed " + seed + ", " + edits + ", " + String.join(" ", command) + "]";
        }
    }

    @Provide
    Arbitrary<Mutant> structuralMutants() {
        Arbitrary<Edit> edit = Combinators.combine(Arbitraries.integers().between(0, 6),
                Arbitraries.integers().between(0, 10_000), Arbitraries.integers().between(0, 20),
                Arbitraries.integers()).as(Edit::new);
        return Combinators.combine(Arbitraries.integers().between(0, SEEDS.size() - 1),
                edit.list().ofMinSize(1).ofMaxSize(4), Arbitraries.of(true, false), commands()).as(Mutant::new);
    }

    @Provide
    Arbitrary<ByteMutant> byteMutants() {
        Arbitrary<ByteEdit> edit = Combinators.combine(Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 100_000), Arbitraries.integers().between(0, 200),
                Arbitraries.bytes()).as(ByteEdit::new);
        return Combinators.combine(Arbitraries.integers().between(0, SEEDS.size() - 1),
                edit.list().ofMinSize(1).ofMaxSize(3), commands()).as(ByteMutant::new);
    }

    // ---------------------------------------------------------------- tree edits

    /** A node with the container holding it (null for the root) and its key or index there. */
    private record Place(JsonNode node, JsonNode parent, String key, int index) {}

    private static List<Place> places(JsonNode root) {
        List<Place> out = new ArrayList<>();
        collect(root, null, null, -1, out);
        return out;
    }

    private static void collect(JsonNode n, JsonNode parent, String key, int index, List<Place> out) {
        out.add(new Place(n, parent, key, index));
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> f : n.properties()) {
                collect(f.getValue(), n, f.getKey(), -1, out);
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                collect(n.get(i), n, null, i, out);
            }
        }
    }

    private static JsonNode apply(JsonNode root, Edit e) {
        List<Place> all = places(root);
        Place p = all.get(Math.floorMod(e.target(), all.size()));
        switch (e.kind()) {
            case 0 -> { // drop the node
                if (p.parent() == null) {
                    return NODES.objectNode();
                }
                remove(p);
            }
            case 1, 6 -> { // replace with a weird value (6: an interesting integer)
                JsonNode v = e.kind() == 6 ? interestingInteger(e.extra()) : weird(e.value(), e.extra(), all);
                if (p.parent() == null) {
                    return v;
                }
                put(p, v);
            }
            case 2 -> { // add a field to the nearest object
                ObjectNode target = p.node().isObject() ? (ObjectNode) p.node()
                        : p.parent() != null && p.parent().isObject() ? (ObjectNode) p.parent() : null;
                if (target != null) {
                    String[] names = {"bogus", "op", "raw", "expect", "value", "frame", "$schema", "", "Present",
                        "linear", "cpl", "faults", "table", "entry", "\u2603"};
                    target.set(names[Math.floorMod(e.extra(), names.length)], weird(e.value(), e.extra() / 7, all));
                }
            }
            case 3 -> { // wrap in deep nesting
                JsonNode v = p.node();
                int depth = 1 + Math.floorMod(e.extra(), 150);
                for (int i = 0; i < depth; i++) {
                    v = e.value() % 2 == 0 ? NODES.arrayNode().add(v) : NODES.objectNode().set("a", v);
                }
                if (p.parent() == null) {
                    return v;
                }
                put(p, v);
            }
            case 4 -> { // duplicate an array element (e.g. a step)
                ArrayNode a = nearestArray(p);
                if (a != null && !a.isEmpty()) {
                    int i = Math.floorMod(e.extra(), a.size());
                    a.insert(i, a.get(i).deepCopy());
                }
            }
            default -> { // swap two array elements (e.g. reorder steps)
                ArrayNode a = nearestArray(p);
                if (a != null && a.size() > 1) {
                    int i = Math.floorMod(e.extra(), a.size());
                    int j = Math.floorMod(e.value(), a.size());
                    JsonNode t = a.get(i);
                    a.set(i, a.get(j));
                    a.set(j, t);
                }
            }
        }
        return root;
    }

    private static ArrayNode nearestArray(Place p) {
        if (p.node().isArray()) {
            return (ArrayNode) p.node();
        }
        return p.parent() != null && p.parent().isArray() ? (ArrayNode) p.parent() : null;
    }

    private static void remove(Place p) {
        if (p.parent().isObject()) {
            ((ObjectNode) p.parent()).remove(p.key());
        } else {
            ((ArrayNode) p.parent()).remove(p.index());
        }
    }

    private static void put(Place p, JsonNode v) {
        if (p.parent().isObject()) {
            ((ObjectNode) p.parent()).set(p.key(), v);
        } else {
            ((ArrayNode) p.parent()).set(p.index(), v);
        }
    }

    private static JsonNode weird(int choice, int extra, List<Place> all) {
        String[] strings = {"read", "write", "fetch", "ok", "pageFault", "generalProtection", "pte", "cpu", "0x",
            "0x_", "0xZZ", "-1", "1e3", "hybridv-scenario/1", "\u0000", "\u2603", "4K", "adversarial", "0x8_",
            "0x1_0000_0000_0000_0000"};
        return switch (choice) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(true);
            case 2 -> NODES.booleanNode(false);
            case 3 -> NODES.textNode("");
            case 4 -> NODES.textNode(strings[Math.floorMod(extra, strings.length)]);
            case 5 -> NODES.numberNode(extra);
            case 6 -> NODES.numberNode(BigInteger.ONE.shiftLeft(64).add(BigInteger.valueOf(extra)));
            case 7 -> NODES.numberNode(Long.MIN_VALUE);
            case 8 -> NODES.numberNode(BigInteger.TEN.pow(90));
            case 9 -> NODES.numberNode(extra % 2 == 0 ? 1.5 : 1e300);
            case 10 -> NODES.textNode("0x" + "f".repeat(1 + Math.floorMod(extra, 40)));
            case 11 -> NODES.arrayNode();
            case 12 -> NODES.objectNode();
            case 13 -> {
                JsonNode v = NODES.arrayNode();
                for (int i = Math.floorMod(extra, 150); i > 0; i--) {
                    v = NODES.arrayNode().add(v);
                }
                yield v;
            }
            case 14 -> all.get(Math.floorMod(extra, all.size())).node().deepCopy();
            case 15 -> NODES.textNode("0x" + Long.toHexString((long) extra * 0x9E3779B97F4A7C15L));
            case 16 -> NODES.textNode("x".repeat(Math.floorMod(extra, 2000)));
            default -> interestingInteger(extra);
        };
    }

    private static JsonNode interestingInteger(int extra) {
        long[] values = {0, 1, 3, 4, 7, 8, 15, 16, 63, 64, 511, 512, 4095, 4096, 0x1000, 0x9000, (1L << 39),
            (1L << 40) - 1, 1L << 40, 1L << 47, (1L << 52) - 1, 1L << 52, 1048575, 1048576, 1048577, Long.MAX_VALUE,
            0xffff_8000_0000_0000L, -1};
        long v = values[Math.floorMod(extra, values.length)];
        return v < 0 ? NODES.textNode("0x" + Long.toHexString(v)) : NODES.numberNode(v);
    }
}
