package org.hybridv.compare;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.Kernel;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;

/**
 * The comparison: every workload run on every platform and its events counted, the cost model's prediction of each
 * relative to native (with the range the cost ranges allow), the seed's claims judged, and the sensitivity of each
 * verdict to each cost.
 *
 * <p>Definitions (stated in docs/comparison.md): a prediction is the sum over events of count × cost; the ratio to
 * native is {@code T(platform) / T(native)} at the costs' midpoints; its range is the smallest and largest ratio over
 * all costs at their minimum, all at their maximum, and each cost alone at either end with the others at their
 * midpoints. "Close to native" means a ratio of at most {@link #CLOSE}.
 */
public final class Comparison {
    private Comparison() {}

    /** "Close to native": within 10 %. */
    public static final double CLOSE = 1.10;
    /** The seed's kernel-build figure: hybrid performance as a share of a PV domU's, in percent. */
    public static final double SEED_BUILD_PERCENT = 98.5;
    /** How far from the seed's figure a prediction may be and still reproduce it, in percentage points. */
    public static final double BUILD_TOLERANCE = 1.0;
    /** Rows of the sensitivity table shown per prediction. */
    public static final int TORNADO_ROWS = 4;

    /** One workload's events per iteration on each platform. */
    public record Measured(String name, String lmbench, Map<Target, Events> events) {}

    /** A prediction relative to native: midpoint and range, and the cost that dominates the overhead. */
    public record Prediction(String workload, Target target, String generation, double mid, double lo, double hi,
            String dominant, double dominantShare) {}

    /** One cost's swing of a prediction: the value with that cost at its minimum and at its maximum. */
    public record Swing(String cost, double atMin, double atMax, boolean flips) {}

    /** The sensitivity of one prediction. */
    public record Tornado(String prediction, String generation, double mid, List<Swing> swings) {}

    /** A claim of the seed and what the model says of it in one generation. */
    public record Verdict(String claim, String generation, boolean reproduced, boolean acrossRanges, String why) {}

    /** What {@link #compute} gives: the comparison, or the disagreement that prevents it. */
    public sealed interface Result permits Report, Disagreement {}

    /** Everything {@code hybridv compare} prints. */
    public record Report(CostModel model, List<Measured> rows, List<Prediction> predictions,
            Map<String, double[]> buildVsPv, List<Verdict> verdicts, List<Tornado> tornadoes) implements Result {}

    /**
     * A workload that returned other results on {@code platform} than natively: the platforms did not do the same
     * work, so their events cannot be compared (a slip in the reference's kernel or platforms, which I3 and the
     * workload contract judge in {@code hybridv check}).
     */
    public record Disagreement(String workload, String platform, List<KernelResult> results,
            List<KernelResult> natively) implements Result {
        public Disagreement {
            results = List.copyOf(results);
            natively = List.copyOf(natively);
        }

        @Override
        public String toString() {
            return workload + " on " + platform + " returned " + results + ", natively " + natively;
        }
    }

    // ---- measuring ---------------------------------------------------------------------------------------------------

    /**
     * The lmbench rows, each run on every platform, checked to do the same work as natively (for a reference whose
     * platforms agree: a {@link Disagreement} is an {@link IllegalStateException} here; {@link #compute} returns it).
     */
    public static List<Measured> measureLmbench() {
        List<Measured> out = new ArrayList<>();
        Optional<Disagreement> d = measureLmbench(out);
        if (d.isPresent()) {
            throw new IllegalStateException(d.get().toString());
        }
        return out;
    }

    /** Fills {@code out} with the lmbench rows; the first workload whose results differ from native's, if any. */
    private static Optional<Disagreement> measureLmbench(List<Measured> out) {
        Map<Target, GuestSystem> booted = new EnumMap<>(Target.class);
        for (Target t : Target.values()) {
            booted.put(t, t.boot());
        }
        for (Workload w : Workload.lmbenchRows()) {
            Map<Target, Events> ev = new EnumMap<>(Target.class);
            List<KernelResult> nativeResults = null;
            for (Target t : Target.values()) {
                GuestSystem s = booted.get(t);
                for (GuestOp op : w.setup()) {
                    s = Kernel.apply(s, op).post();
                }
                Events e = Events.NONE;
                List<KernelResult> results = new ArrayList<>();
                for (GuestOp op : w.measured()) {
                    KernelStep k = Kernel.apply(s, op);
                    e = e.plus(EventCounter.count(t, s, k));
                    results.add(k.result());
                    s = k.post();
                }
                if (nativeResults == null) {
                    nativeResults = results;
                } else if (!results.equals(nativeResults)) {
                    return Optional.of(new Disagreement(w.name(), t.label(), results, nativeResults));
                }
                ev.put(t, e);
            }
            out.add(new Measured(w.name(), w.lmbench(), ev));
        }
        return Optional.empty();
    }

    /** A mix's events on each platform: its workloads' iterations, its compute and the compute's TLB misses. */
    public static Measured mix(CostModel.Mix m, List<Measured> rows) {
        Map<Target, Events> ev = new EnumMap<>(Target.class);
        for (Target t : Target.values()) {
            Events e = Events.NONE.plus("op:compute", m.compute()).plus("tlb-miss", m.computeTlbMisses())
                    .plus("walk-ref", m.computeTlbMisses() * t.walkRefs());
            for (Map.Entry<String, Long> w : m.workloads().entrySet()) {
                Measured row = rows.stream().filter(r -> r.name().equals(w.getKey())).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("mix " + m.name() + ": no workload "
                                + w.getKey()));
                e = e.plus(row.events().get(t).times(w.getValue()));
            }
            ev.put(t, e);
        }
        return new Measured(m.name(), "mix per " + m.per(), ev);
    }

    // ---- predicting --------------------------------------------------------------------------------------------------

    /**
     * The comparison with {@code model}, or the first workload on which a platform's results differed from native's
     * (then nothing can be compared).
     */
    public static Result compute(CostModel model) {
        List<Measured> rows = new ArrayList<>();
        Optional<Disagreement> disagreement = measureLmbench(rows);
        if (disagreement.isPresent()) {
            return disagreement.get();
        }
        int lmbenchRows = rows.size();
        for (CostModel.Mix m : model.mixes()) {
            rows.add(mix(m, rows.subList(0, lmbenchRows)));
        }
        List<Prediction> predictions = new ArrayList<>();
        List<Tornado> tornadoes = new ArrayList<>();
        List<Verdict> verdicts = new ArrayList<>();
        Map<String, double[]> buildVsPv = new LinkedHashMap<>();
        for (CostModel.Generation g : model.generations()) {
            String gen = g.id();
            for (Measured r : rows) {
                for (Target t : Target.values()) {
                    predictions.add(predict(model, r, t, gen));
                }
            }
            // Claim 1: some lmbench rows close to native for the hybrid; 2: not for software-only PV.
            List<String> close = new ArrayList<>();
            List<String> closeEverywhere = new ArrayList<>();
            List<String> pvNotClose = new ArrayList<>();
            for (Measured r : rows.subList(0, lmbenchRows)) {
                Prediction h = find(predictions, r.name(), Target.HYBRID, gen);
                Prediction p = find(predictions, r.name(), Target.PV, gen);
                if (h.mid() <= CLOSE) {
                    close.add(r.name());
                    if (h.hi() <= CLOSE) {
                        closeEverywhere.add(r.name());
                    }
                    if (p.lo() > CLOSE) {
                        pvNotClose.add(r.name());
                    }
                }
                tornadoes.add(tornado(model, r, gen, "hybrid/native " + r.name(), cm -> ratio(model, r,
                        Target.HYBRID, gen, cm), v -> (v <= CLOSE)));
            }
            verdicts.add(new Verdict("hybrid: some lmbench rows close to native (ratio <= "
                    + fmt(CLOSE) + ")", gen, !close.isEmpty(), !closeEverywhere.isEmpty(),
                    close.isEmpty() ? "no row is close" : "close: " + String.join(", ", close)
                            + (closeEverywhere.equals(close) ? " (across the whole cost range)"
                                    : "; across the whole cost range: " + (closeEverywhere.isEmpty() ? "none"
                                            : String.join(", ", closeEverywhere)))));
            verdicts.add(new Verdict("software-only PV is not close on those rows", gen,
                    !close.isEmpty() && pvNotClose.equals(close), !close.isEmpty() && pvNotClose.equals(close),
                    close.isEmpty() ? "no hybrid row is close" : "PV above " + fmt(CLOSE) + " across the range on: "
                            + (pvNotClose.isEmpty() ? "none" : String.join(", ", pvNotClose))));
            // Claim 3: the kernel build as a share of a PV domU's performance.
            for (int i = lmbenchRows; i < rows.size(); i++) {
                Measured m = rows.get(i);
                double[] v = range(model, m, gen, cm -> buildPercent(model, m, gen, cm));
                buildVsPv.put(m.name() + "/" + gen, v);
                boolean hit = Math.abs(v[0] - SEED_BUILD_PERCENT) <= BUILD_TOLERANCE;
                boolean inRange = v[1] - BUILD_TOLERANCE <= SEED_BUILD_PERCENT
                        && SEED_BUILD_PERCENT <= v[2] + BUILD_TOLERANCE;
                verdicts.add(new Verdict(m.name() + ": hybrid at about " + fmt1(SEED_BUILD_PERCENT)
                        + " % of a PV domU's performance", gen, hit, inRange,
                        "predicted " + fmt1(v[0]) + " % [" + fmt1(v[1]) + " .. " + fmt1(v[2]) + "]: the hybrid is "
                                + (v[0] >= 100 ? "faster" : "slower") + " than PV at the midpoints"
                                + (v[1] < 100 && v[2] > 100 ? ", either way within the range" : "")
                                + breakEven(model, m, gen)));
                tornadoes.add(tornado(model, m, gen, m.name() + " hybrid/PV performance %",
                        cm -> buildPercent(model, m, gen, cm),
                        x -> Math.abs(x - SEED_BUILD_PERCENT) <= BUILD_TOLERANCE));
            }
        }
        return new Report(model, rows, predictions, buildVsPv, verdicts, tornadoes);
    }

    /**
     * The VM-exit round trip (others at their midpoints) at which the mix's hybrid/PV figure would be the seed's, found
     * by bisection (the figure falls as exits get dearer); empty if no cost up to a million cycles reaches it.
     */
    static String breakEven(CostModel model, Measured m, String gen) {
        double lo = 0;
        double hi = 1_000_000;
        if (buildPercent(model, m, gen, CostModel.Pick.set("vmexit", lo)) < SEED_BUILD_PERCENT
                || buildPercent(model, m, gen, CostModel.Pick.set("vmexit", hi)) > SEED_BUILD_PERCENT) {
            return "";
        }
        for (int i = 0; i < 60; i++) {
            double mid = (lo + hi) / 2;
            if (buildPercent(model, m, gen, CostModel.Pick.set("vmexit", mid)) > SEED_BUILD_PERCENT) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        CostModel.Range r = model.costs().get("vmexit").cycles().get(gen);
        return "; it would take a VM-exit round trip of " + Math.round(hi) + " cycles (the model's range: "
                + Math.round(r.min()) + "-" + Math.round(r.max()) + ") for the seed's " + fmt1(SEED_BUILD_PERCENT)
                + " %";
    }

    private static Prediction find(List<Prediction> ps, String w, Target t, String gen) {
        return ps.stream().filter(p -> p.workload().equals(w) && p.target() == t && p.generation().equals(gen))
                .findFirst().orElseThrow();
    }

    /** Relative time of {@code t} to native for row {@code r}. */
    static double ratio(CostModel model, Measured r, Target t, String gen, CostModel.Pick pick) {
        return model.price(r.events().get(t), gen, pick) / model.price(r.events().get(Target.NATIVE), gen, pick);
    }

    /** The hybrid's performance as a percentage of PV's: T(PV) / T(hybrid) × 100. */
    static double buildPercent(CostModel model, Measured r, String gen, CostModel.Pick pick) {
        return 100 * model.price(r.events().get(Target.PV), gen, pick)
                / model.price(r.events().get(Target.HYBRID), gen, pick);
    }

    /** The cost keys the events of {@code r} use, on any platform, sorted. */
    static Set<String> keys(Measured r) {
        Set<String> keys = new java.util.TreeSet<>();
        for (Events e : r.events().values()) {
            for (String event : e.counts().keySet()) {
                keys.addAll(CostModel.keysOf(event));
            }
        }
        return keys;
    }

    /** {mid, lo, hi} of {@code f} over midpoints, all-min, all-max and each cost alone at either end. */
    static double[] range(CostModel model, Measured r, String gen, java.util.function.ToDoubleFunction<CostModel.Pick> f) {
        double mid = f.applyAsDouble(CostModel.Pick.MID);
        double lo = Math.min(mid, Math.min(f.applyAsDouble(CostModel.Pick.MIN), f.applyAsDouble(CostModel.Pick.MAX)));
        double hi = Math.max(mid, Math.max(f.applyAsDouble(CostModel.Pick.MIN), f.applyAsDouble(CostModel.Pick.MAX)));
        for (String k : keys(r)) {
            for (boolean max : new boolean[] {false, true}) {
                double v = f.applyAsDouble(CostModel.Pick.only(k, max));
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        return new double[] {mid, lo, hi};
    }

    static Prediction predict(CostModel model, Measured r, Target t, String gen) {
        double[] v = range(model, r, gen, cm -> ratio(model, r, t, gen, cm));
        String dominant = "-";
        double share = 0;
        if (t != Target.NATIVE) {
            Map<String, Double> over = new LinkedHashMap<>();
            for (String k : keys(r)) {
                over.put(k, 0.0);
            }
            accumulate(model, r.events().get(t), gen, over, 1);
            accumulate(model, r.events().get(Target.NATIVE), gen, over, -1);
            double total = over.values().stream().mapToDouble(Double::doubleValue).filter(x -> x > 0).sum();
            Map.Entry<String, Double> top = over.entrySet().stream()
                    .max(Comparator.comparingDouble(Map.Entry<String, Double>::getValue)
                            .thenComparing(Map.Entry::getKey, Comparator.reverseOrder()))
                    .orElseThrow();
            if (top.getValue() > 0) {
                dominant = top.getKey();
                share = top.getValue() / total;
            }
        }
        return new Prediction(r.name(), t, gen, v[0], v[1], v[2], dominant, share);
    }

    private static void accumulate(CostModel model, Events e, String gen, Map<String, Double> by, int sign) {
        for (Map.Entry<String, Long> x : e.counts().entrySet()) {
            for (String k : CostModel.keysOf(x.getKey())) {
                by.merge(k, sign * x.getValue() * model.costs().get(k).cycles().get(gen).mid(), Double::sum);
            }
        }
    }

    static Tornado tornado(CostModel model, Measured r, String gen, String name,
            java.util.function.ToDoubleFunction<CostModel.Pick> f, java.util.function.DoublePredicate verdict) {
        double mid = f.applyAsDouble(CostModel.Pick.MID);
        boolean v = verdict.test(mid);
        List<Swing> swings = new ArrayList<>();
        for (String k : keys(r)) {
            double a = f.applyAsDouble(CostModel.Pick.only(k, false));
            double b = f.applyAsDouble(CostModel.Pick.only(k, true));
            if (Math.abs(a - b) > 1e-9) {
                swings.add(new Swing(k, a, b, flips(a, b, v, verdict)));
            }
        }
        swings.sort(Comparator.comparingDouble((Swing s) -> -Math.abs(s.atMax() - s.atMin()))
                .thenComparing(Swing::cost));
        return new Tornado(name, gen, mid, List.copyOf(swings.subList(0, Math.min(TORNADO_ROWS, swings.size()))));
    }

    /**
     * Whether some value between {@code a} and {@code b} gets a verdict other than {@code v}. One cost moved alone
     * moves a prediction continuously and monotonically (a ratio of two sums linear in that cost), so the values it
     * takes are exactly the interval between its ends; the interval is sampled at 1/200 steps and both ends.
     */
    static boolean flips(double a, double b, boolean v, java.util.function.DoublePredicate verdict) {
        for (int i = 0; i <= 200; i++) {
            if (verdict.test(a + (b - a) * i / 200.0) != v) {
                return true;
            }
        }
        return false;
    }

    // ---- text --------------------------------------------------------------------------------------------------------

    static String fmt(double x) {
        return String.format(Locale.ROOT, "%.2f", x);
    }

    static String fmt1(double x) {
        return String.format(Locale.ROOT, "%.1f", x);
    }

    /** The event families of the events table, in its column order. */
    public static final List<String> FAMILIES = List.of("vmexit:", "hypercall:", "pv:trap:", "cr3-switch",
            "tlb-flush:full", "tlb-flush:page", "tlb-miss", "walk-ref");

    private static final List<String> FAMILY_HEADS = List.of("exits", "hcalls", "PV traps", "CR3", "flush",
            "invlpg", "TLB miss", "walk refs");

    /** The report as text (deterministic: the same bytes every run). */
    public static String text(Report r) {
        StringBuilder b = new StringBuilder();
        String nl = System.lineSeparator();
        b.append("hybridv compare: the seed's performance claims as a cost model's prediction").append(nl);
        b.append("Events are counted from what the model executes; costs come from costs.json (estimates with")
                .append(nl).append("sources, docs/comparison.md). A cost model predicts; it does not measure.")
                .append(nl).append(nl);
        b.append("Events per iteration (lmbench-like rows) and per unit of each mix").append(nl);
        String fmt = "%-16s %-7s" + "%10s".repeat(FAMILIES.size()) + "%n";
        Object[] head = new Object[FAMILIES.size() + 2];
        head[0] = "workload";
        head[1] = "platform";
        for (int i = 0; i < FAMILY_HEADS.size(); i++) {
            head[i + 2] = FAMILY_HEADS.get(i);
        }
        b.append(String.format(Locale.ROOT, fmt, head));
        for (Measured m : r.rows()) {
            for (Target t : Target.values()) {
                Object[] line = new Object[FAMILIES.size() + 2];
                line[0] = t == Target.NATIVE ? m.name() : "";
                line[1] = t.label();
                for (int i = 0; i < FAMILIES.size(); i++) {
                    line[i + 2] = Long.toString(m.events().get(t).family(FAMILIES.get(i)));
                }
                b.append(String.format(Locale.ROOT, fmt, line));
            }
        }
        b.append(nl).append("Events by kind (hybrid and PV, lmbench rows):").append(nl);
        for (Measured m : r.rows().subList(0, Workload.lmbenchRows().size())) {
            for (Target t : List.of(Target.PV, Target.HYBRID)) {
                b.append(String.format(Locale.ROOT, "  %-15s %-7s %s%n", m.name(), t.label(), details(m.events()
                        .get(t))));
            }
        }
        for (CostModel.Generation g : r.model().generations()) {
            b.append(nl).append("Predicted time relative to native, ").append(g.name()).append(" (").append(g.years())
                    .append("): midpoint [range]").append(nl);
            if (!g.note().isEmpty()) {
                b.append(wrap("Note: " + g.note() + ".", 6)).append(nl);
            }
            String pf = "%-16s" + "%21s".repeat(Target.values().length - 1) + "%n";
            Object[] h = new Object[Target.values().length];
            h[0] = "workload";
            for (int i = 1; i < Target.values().length; i++) {
                h[i] = Target.values()[i].label();
            }
            b.append(String.format(Locale.ROOT, pf, h));
            for (Measured m : r.rows()) {
                Object[] line = new Object[Target.values().length];
                line[0] = m.name();
                for (int i = 1; i < Target.values().length; i++) {
                    Prediction p = find(r.predictions(), m.name(), Target.values()[i], g.id());
                    line[i] = fmt(p.mid()) + " [" + fmt(p.lo()) + "-" + fmt(p.hi()) + "]";
                }
                b.append(String.format(Locale.ROOT, pf, line));
            }
            b.append("Dominant cost of each prediction's overhead over native (share at the midpoints):").append(nl);
            for (Measured m : r.rows()) {
                StringBuilder l = new StringBuilder(String.format(Locale.ROOT, "  %-15s", m.name()));
                for (int i = 1; i < Target.values().length; i++) {
                    Prediction p = find(r.predictions(), m.name(), Target.values()[i], g.id());
                    l.append(String.format(Locale.ROOT, " %s: %s", Target.values()[i].label(), p.dominant()
                            .equals("-") ? "-" : p.dominant() + " " + Math.round(100 * p.dominantShare()) + "%"));
                    l.append(i + 1 < Target.values().length ? ";" : "");
                }
                b.append(wrap(l.toString(), 18)).append(nl);
            }
        }
        b.append(nl).append("The seed's claims").append(nl);
        for (Verdict v : r.verdicts()) {
            b.append(String.format(Locale.ROOT, "  [%s] %-9s %s%n", v.reproduced() ? (v.acrossRanges()
                    ? "reproduced" : "reproduced at midpoints") : (v.acrossRanges() ? "within range only"
                    : "not reproduced"), v.generation(), v.claim()));
            b.append(wrap("      " + v.why(), 6)).append(nl);
        }
        b.append(nl).append("Sensitivity: the costs that move each prediction most (that cost at its min .. max,")
                .append(nl).append("the others at their midpoints; * = the verdict changes within the range)")
                .append(nl);
        for (Tornado t : r.tornadoes()) {
            b.append(String.format(Locale.ROOT, "  %s, %s: %s%n", t.prediction(), t.generation(), fmt(t.mid())));
            for (Swing s : t.swings()) {
                b.append(String.format(Locale.ROOT, "      %-30s %8s .. %-8s%s%n", s.cost(), fmt(s.atMin()),
                        fmt(s.atMax()), s.flips() ? " *" : ""));
            }
        }
        return b.toString();
    }

    private static String details(Events e) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, Long> x : e.counts().entrySet()) {
            if (!x.getKey().startsWith("op:") && !x.getKey().startsWith("work:")) {
                parts.add(x.getKey() + "=" + x.getValue());
            }
        }
        return String.join(" ", parts);
    }

    private static String wrap(String s, int indent) {
        if (s.length() <= 118) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder();
        for (String word : s.split(" ")) {
            if (line.length() + word.length() + 1 > 118) {
                out.append(line.toString().stripTrailing()).append(System.lineSeparator());
                line = new StringBuilder(" ".repeat(indent));
            }
            line.append(word).append(' ');
        }
        return out.append(line.toString().stripTrailing()).toString();
    }

    /** The report as JSON (deterministic: fields in a fixed order, numbers rounded to 4 decimals). */
    public static String json(Report r) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("close", CLOSE);
        root.put("seedBuildPercent", SEED_BUILD_PERCENT);
        List<Object> rows = new ArrayList<>();
        for (Measured m : r.rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("workload", m.name());
            row.put("modelledOn", m.lmbench());
            Map<String, Object> ev = new LinkedHashMap<>();
            for (Target t : Target.values()) {
                ev.put(t.label(), m.events().get(t).counts());
            }
            row.put("events", ev);
            rows.add(row);
        }
        root.put("workloads", rows);
        List<Object> preds = new ArrayList<>();
        for (Prediction p : r.predictions()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("workload", p.workload());
            x.put("platform", p.target().label());
            x.put("generation", p.generation());
            x.put("relativeTime", round(p.mid()));
            x.put("min", round(p.lo()));
            x.put("max", round(p.hi()));
            x.put("dominantCost", p.dominant());
            x.put("dominantShare", round(p.dominantShare()));
            preds.add(x);
        }
        root.put("predictions", preds);
        List<Object> verdicts = new ArrayList<>();
        for (Verdict v : r.verdicts()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("claim", v.claim());
            x.put("generation", v.generation());
            x.put("reproduced", v.reproduced());
            x.put("acrossRanges", v.acrossRanges());
            x.put("why", v.why());
            verdicts.add(x);
        }
        root.put("verdicts", verdicts);
        List<Object> tornadoes = new ArrayList<>();
        for (Tornado t : r.tornadoes()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("prediction", t.prediction());
            x.put("generation", t.generation());
            x.put("midpoint", round(t.mid()));
            List<Object> sw = new ArrayList<>();
            for (Swing s : t.swings()) {
                Map<String, Object> y = new LinkedHashMap<>();
                y.put("cost", s.cost());
                y.put("atMin", round(s.atMin()));
                y.put("atMax", round(s.atMax()));
                y.put("verdictChanges", s.flips());
                sw.add(y);
            }
            x.put("swings", sw);
            tornadoes.add(x);
        }
        root.put("sensitivity", tornadoes);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(root) + System.lineSeparator();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report as JSON", e);
        }
    }

    static double round(double x) {
        return new java.math.BigDecimal(x).setScale(4, java.math.RoundingMode.HALF_EVEN).doubleValue();
    }

    /** The cost model as a Markdown table: event, what, [min, max] per generation, estimate, source. */
    public static String costTable(CostModel model) {
        StringBuilder b = new StringBuilder("| event | what | ");
        for (CostModel.Generation g : model.generations()) {
            b.append(g.id()).append(" | ");
        }
        b.append("estimate | source |\n|---|---|");
        b.append("---|".repeat(model.generations().size())).append("---|---|\n");
        for (CostModel.Cost c : model.costs().values()) {
            b.append("| `").append(c.event()).append("` | ").append(c.what()).append(" | ");
            for (CostModel.Generation g : model.generations()) {
                CostModel.Range r = c.cycles().get(g.id());
                b.append(String.format(Locale.ROOT, "%,.0f-%,.0f", r.min(), r.max())).append(" | ");
            }
            b.append(c.estimate() ? "yes" : "no").append(" | ").append(c.source()).append(" |\n");
        }
        return b.toString();
    }

    /** The labels of the platforms in report order. */
    public static List<String> labels() {
        Set<String> s = new LinkedHashSet<>();
        for (Target t : Target.values()) {
            s.add(t.label());
        }
        return List.copyOf(s);
    }
}
