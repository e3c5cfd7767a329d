package org.hybridv.explore;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.hybridv.check.Verdict;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;

/**
 * The explorer's column of the kill matrix ({@code hybridv faults --explore}): each seeded fault injected alone into
 * the configuration meant for it ({@link #CONFIG_OF}), explored breadth-first to that configuration's depth bound;
 * found (the invariant and rule, at the depth of the shortest counterexample) or not (how the search ended).
 */
public final class ExploreMatrix {
    private ExploreMatrix() {}

    /**
     * The configuration (spec/configs/NAME.json) meant for each fault — the one place this mapping lives. A fault
     * absent here has no configuration (the command says so).
     */
    public static final Map<Fault, String> CONFIG_OF = configs();

    private static Map<Fault, String> configs() {
        Map<Fault, String> m = new LinkedHashMap<>();
        for (String id : List.of("superpage-accepted", "xen-slot-update", "unpin-leaks-type-ref",
                "writable-pagetable-mapping", "type-change-no-flush")) {
            m.put(Fault.byId(id), "direct-paging");
        }
        for (String id : List.of("foreign-frame-in-l1", "hypercall-from-user", "pv-mmu-from-translated",
                "hap-pfec-without-pf-bit")) {
            m.put(Fault.byId(id), "isolation");
        }
        for (String id : List.of("switch-mmu-from-user", "switch-mmu-top-level-only", "switch-mmu-no-flush",
                "pfec-supervisor-write-bypass", "writable-linear-accepted")) {
            m.put(Fault.byId(id), "hybrid-switch");
        }
        for (String id : List.of("fastpath-rw-change", "linear-chain-unbounded", "pt-update-no-flush")) {
            m.put(Fault.byId(id), "direct-mmu");
        }
        m.put(Fault.byId("shadow-more-permissive"), "shadow-mmu");
        m.put(Fault.byId("set-pte-trapped-not-hypercall"), "hybrid-direct");
        m.put(Fault.byId("vpid-shared-across-domains"), "new-vcpu");
        for (String id : List.of("migration-without-vpid-flush", "migration-without-vmclear", "flush-ipi-local-only",
                "dirty-mask-not-updated",
                "tlb-clock-reversed")) {
            m.put(Fault.byId(id), "smp-shootdown");
        }
        for (String id : List.of("validate-before-flush-ack", "ipi-ack-not-awaited",
                "partial-validation-type-not-held")) {
            m.put(Fault.byId(id), "smp-race");
        }
        m.put(Fault.byId("switch-mmu-sibling-not-flushed"), "hybrid-smp-switch");
        m.put(Fault.byId("grant-unmap-no-flush"), "pv-grant");
        m.put(Fault.byId("grant-readonly-mapped-writable"), "pv-grant");
        m.put(Fault.byId("evtchn-send-to-foreign-port"), "pv-evtchn");
        m.put(Fault.byId("blkback-data-mapping-leaked"), "pv-block");
        m.put(Fault.byId("detect-signature-prefix-match"), "detect");
        m.put(Fault.byId("x2apic-msr-passthrough"), "emulation");
        m.put(Fault.byId("io-port-range-not-intercepted"), "emulation");
        m.put(Fault.byId("mmu-update-continuation-loses-entry"), "mmu-batch");
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * One row: the fault, its configuration (empty: none), and the exploration (empty without a configuration).
     */
    public record Row(Fault fault, Optional<String> config, Optional<Exploration> exploration) {
        /** Whether the exploration found a violation. */
        public boolean found() {
            return exploration.map(x -> x.result().outcome() == Explorer.Outcome.VIOLATION).orElse(false);
        }

        /** The violation found, if any. */
        public Optional<Verdict.Violated> violation() {
            return exploration.flatMap(x -> x.result().finding()).map(Explorer.Finding::verdict)
                    .filter(Verdict.Violated.class::isInstance).map(Verdict.Violated.class::cast);
        }
    }

    /**
     * Explores each of {@code faults} in its configuration read from {@code configs} with {@code workers} threads,
     * showing each row to {@code rows} as it is done.
     *
     * @throws ExploreConfig.BadConfig if a configuration cannot be read
     */
    public static List<Row> run(List<Fault> faults, Path configs, int workers, Consumer<Row> rows)
            throws ExploreConfig.BadConfig, InterruptedException {
        List<Row> out = new ArrayList<>();
        for (Fault f : faults) {
            String name = CONFIG_OF.get(f);
            Row row;
            if (name == null) {
                row = new Row(f, Optional.empty(), Optional.empty());
            } else {
                Path file = configs.resolve(name + ".json");
                ExploreConfig c = ExploreConfig.read(file, file.toString());
                Faults fs = Faults.parse(List.of(f.id()));
                Explorer.Options o = new Explorer.Options(workers, c.depth(), c.maxStates(), c.deadlock());
                row = new Row(f, Optional.of(name), Optional.of(Exploration.run(c, fs, o, p -> { })));
            }
            rows.accept(row);
            out.add(row);
        }
        return out;
    }
}
