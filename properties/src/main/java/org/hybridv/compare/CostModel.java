package org.hybridv.compare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cost model, read from {@code costs.json} (its schema {@code costs.schema.json}, beside it): processor
 * generations, per event a range of cycles per generation with its source, and workload mixes.
 *
 * @param generations the generations, in the file's order
 * @param costs       event → cost
 * @param mixes       the mixes, in the file's order
 */
public record CostModel(List<Generation> generations, SortedMap<String, Cost> costs, List<Mix> mixes) {
    /** The resource the model is read from. */
    public static final String RESOURCE = "costs.json";

    public CostModel {
        generations = List.copyOf(generations);
        costs = Collections.unmodifiableSortedMap(new TreeMap<>(costs));
        mixes = List.copyOf(mixes);
    }

    /** A processor generation. */
    public record Generation(String id, String name, String years, String note) {}

    /** A closed range of cycles. */
    public record Range(double min, double max) {
        public Range {
            if (!(min >= 0) || !(max >= min)) {
                throw new IllegalArgumentException("range [" + min + ", " + max + "]");
            }
        }

        public double mid() {
            return (min + max) / 2;
        }
    }

    /** One event's cost. */
    public record Cost(String event, String what, Map<String, Range> cycles, String source, boolean estimate) {
        public Cost {
            cycles = Collections.unmodifiableMap(new LinkedHashMap<>(cycles));
        }
    }

    /** A mix: how many iterations of each workload, plus native compute, per unit of work. */
    public record Mix(String name, String per, Map<String, Long> workloads, long compute, long computeTlbMisses,
            String source) {
        public Mix {
            workloads = Collections.unmodifiableMap(new LinkedHashMap<>(workloads));
        }
    }

    /** The model shipped with hybridv. */
    public static CostModel load() {
        try (InputStream in = CostModel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " is missing");
            }
            return parse(in.readAllBytes());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + RESOURCE, e);
        }
    }

    /**
     * Parses a cost model; {@link IllegalArgumentException} naming the field when it is not one (the schema says the
     * same, for editors).
     */
    public static CostModel parse(byte[] json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage());
        }
        List<Generation> gens = new ArrayList<>();
        for (JsonNode g : array(root, "generations")) {
            gens.add(new Generation(text(g, "id"), text(g, "name"), text(g, "years"), g.path("note").asText("")));
        }
        if (gens.size() < 2) {
            throw new IllegalArgumentException("generations: at least two are needed");
        }
        SortedMap<String, Cost> costs = new TreeMap<>();
        for (JsonNode c : array(root, "costs")) {
            String event = text(c, "event");
            Map<String, Range> cycles = new LinkedHashMap<>();
            JsonNode cy = c.get("cycles");
            for (Generation g : gens) {
                JsonNode r = cy == null ? null : cy.get(g.id());
                if (r == null || !r.isArray() || r.size() != 2 || !r.get(0).isNumber() || !r.get(1).isNumber()) {
                    throw new IllegalArgumentException("costs: " + event + ": cycles." + g.id()
                            + " must be [min, max]");
                }
                try {
                    cycles.put(g.id(), new Range(r.get(0).asDouble(), r.get(1).asDouble()));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("costs: " + event + ": cycles." + g.id() + ": "
                            + e.getMessage() + " (need 0 <= min <= max)");
                }
            }
            if (costs.put(event, new Cost(event, text(c, "what"), cycles, text(c, "source"),
                    c.path("estimate").asBoolean(true))) != null) {
                throw new IllegalArgumentException("costs: " + event + " is given twice");
            }
        }
        List<Mix> mixes = new ArrayList<>();
        for (JsonNode m : array(root, "mixes")) {
            Map<String, Long> w = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = m.path("workloads").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                w.put(e.getKey(), e.getValue().asLong());
            }
            mixes.add(new Mix(text(m, "name"), text(m, "per"), w, m.path("compute").asLong(),
                    m.path("computeTlbMisses").asLong(), text(m, "source")));
        }
        return new CostModel(gens, costs, mixes);
    }

    private static Iterable<JsonNode> array(JsonNode root, String field) {
        JsonNode a = root.get(field);
        if (a == null || !a.isArray()) {
            throw new IllegalArgumentException(field + ": an array is required");
        }
        return a;
    }

    private static String text(JsonNode n, String field) {
        JsonNode t = n.get(field);
        if (t == null || !t.isTextual()) {
            throw new IllegalArgumentException(field + ": a string is required in " + n);
        }
        return t.asText();
    }

    /**
     * The cost keys an event is priced by: a VM exit is the round trip, its reason's handler, and the TLB refills a
     * transition costs on a processor without VPIDs.
     */
    public static List<String> keysOf(String event) {
        if (event.startsWith("vmexit:")) {
            return List.of("vmexit", "exit-handler:" + event.substring("vmexit:".length()), "vmexit-tlb-refill");
        }
        if (event.startsWith("pv:trap:")) {
            return List.of("pv:trap");
        }
        return List.of(event);
    }

    /** The cost of {@code event} in {@code generation} with each cost key's value chosen by {@code pick}. */
    public double price(Events events, String generation, Pick pick) {
        double total = 0;
        for (Map.Entry<String, Long> e : events.counts().entrySet()) {
            for (String key : keysOf(e.getKey())) {
                Cost c = costs.get(key);
                if (c == null) {
                    throw new IllegalStateException("the cost model has no cost for " + key + " (event "
                            + e.getKey() + ")");
                }
                total += e.getValue() * pick.value(key, c.cycles().get(generation));
            }
        }
        return total;
    }

    /** Which value of a cost's range to use. */
    @FunctionalInterface
    public interface Pick {
        double value(String key, Range r);

        Pick MID = (k, r) -> r.mid();
        Pick MIN = (k, r) -> r.min();
        Pick MAX = (k, r) -> r.max();

        /** Every cost at its midpoint except {@code key}, at {@code value} cycles. */
        static Pick set(String key, double value) {
            return (k, r) -> k.equals(key) ? value : r.mid();
        }

        /** Every cost at its midpoint except {@code key}, at its min or max. */
        static Pick only(String key, boolean max) {
            return (k, r) -> k.equals(key) ? (max ? r.max() : r.min()) : r.mid();
        }
    }
}
