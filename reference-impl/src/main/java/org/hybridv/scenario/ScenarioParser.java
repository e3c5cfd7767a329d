package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hybridv.x86.TlbPolicy;

/**
 * Reads scenario files (format {@value Scenario#FORMAT}): JSON to {@link Scenario}, or a {@link ScenarioError}
 * naming the file, the step, the line and column, and what is wrong. The top-level fields are decoded here; each
 * step is decoded by the {@link Operation} its {@code op} names, looked up in the registry.
 *
 * <p>Checks made here and in the decoders are those of {@code docs/scenario.schema.json} plus the ones a schema
 * cannot state (a frame below {@code memoryFrames}, a value that fits a field's width, a canonical address).
 */
public final class ScenarioParser {
    static final List<String> ROOT_FIELDS = List.of("$schema", "format", "title", "description", "origin",
            "machine", "faults", "violates", "steps");
    static final List<String> MACHINE_FIELDS = List.of("memoryFrames", "maxPhysAddr", "tlb");
    static final Map<String, TlbPolicy> TLB_POLICIES = Map.of("none", TlbPolicy.NONE, "adversarial",
            TlbPolicy.ADVERSARIAL);

    private final OperationRegistry registry;

    public ScenarioParser(OperationRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("registry must not be null");
        }
        this.registry = registry;
    }

    public OperationRegistry registry() {
        return registry;
    }

    /**
     * Parses {@code bytes} read from {@code source} (the name used in error messages).
     */
    public ParseResult parse(String source, byte[] bytes) {
        int[] step = {0};
        String[] op = {null};
        try {
            return new ParseResult.Parsed(decode(JsonDocument.parse(bytes), step, op));
        } catch (ScenarioInputException e) {
            int n = e.step() != 0 ? e.step() : step[0];
            return new ParseResult.Rejected(new ScenarioError(source, n, e.step() != 0 ? null : op[0],
                    e.location(), e.getMessage(), e));
        }
    }

    private Scenario decode(JsonDocument document, int[] currentStep, String[] currentOp) {
        Fields root = Fields.of(document.root(), "a scenario", ROOT_FIELDS);
        root.optionalText("$schema");
        String format = root.text("format");
        if (!Scenario.FORMAT.equals(format)) {
            throw new ScenarioInputException("unknown format \"" + JsonValue.abbreviate(format)
                    + "\"; this hybridv reads \"" + Scenario.FORMAT + "\"", root.get("format").location());
        }
        String title = root.text("title");
        if (title.isBlank()) {
            throw root.error("title", "must not be empty");
        }
        String description = root.optionalText("description").orElse("");
        Origin origin = root.find("origin").map(ScenarioParser::origin).orElse(Origin.HAND);
        List<String> machineFields = new ArrayList<>(MACHINE_FIELDS);
        machineFields.addAll(registry.machineSections().keySet());
        Fields machineObject = root.object("machine", "machine", machineFields);
        MachineSpec machine = machine(machineObject);
        List<String> faults = new ArrayList<>();
        root.find("faults").ifPresent(v -> v.elements().forEach(f -> faults.add(f.asText())));
        org.hybridv.xen.Faults injected = faults(root);
        if (!injected.isEmpty()) {
            machine = new MachineSpec(machine.memoryFrames(), machine.maxPhysAddr(), machine.tlb(),
                    machine.sections(), injected);
        }
        java.util.Map<String, Object> sections = new java.util.LinkedHashMap<>();
        for (java.util.Map.Entry<String, OperationRegistry.MachineSection> e : registry.machineSections().entrySet()) {
            Optional<JsonValue> v = machineObject.find(e.getKey());
            if (v.isPresent()) {
                // A section sees the sections of the modules installed before it (the kernel section finds the
                // hypervisor's domain that runs the kernel).
                MachineSpec sofar = sections.isEmpty() ? machine : new MachineSpec(machine.memoryFrames(),
                        machine.maxPhysAddr(), machine.tlb(), sections);
                sections.put(e.getKey(), e.getValue().decode(v.get(), sofar));
            }
        }
        if (!sections.isEmpty()) {
            machine = new MachineSpec(machine.memoryFrames(), machine.maxPhysAddr(), machine.tlb(), sections,
                    machine.faults());
        }
        String violates = root.optionalText("violates").orElse(null);
        JsonValue stepsValue = root.get("steps");
        List<JsonValue> elements = stepsValue.elements();
        if (elements.isEmpty()) {
            throw stepsValue.error("a scenario needs at least one step");
        }
        DecodeContext context = new DecodeContext(machine);
        List<NumberedStep> steps = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            currentStep[0] = i + 1;
            currentOp[0] = null;
            JsonValue element = elements.get(i).asContextRoot();
            steps.add(new NumberedStep(i + 1, element.location(), step(element, context, currentOp)));
        }
        return new Scenario(format, title, description, origin, machine, faults, violates, steps);
    }

    private Step step(JsonValue element, DecodeContext context, String[] currentOp) {
        if (!element.node().isObject()) {
            throw element.error("expected a step object such as {\"op\": \"access\", …}, found "
                    + JsonValue.describe(element.node()));
        }
        JsonValue opValue = element.field("op");
        if (opValue == null) {
            throw element.error("missing required field \"op\"; known ops: " + String.join(", ", registry.names()));
        }
        String name = opValue.asText();
        Optional<Operation> operation = registry.operation(name);
        if (operation.isEmpty()) {
            throw new ScenarioInputException("unknown op \"" + JsonValue.abbreviate(name) + "\""
                    + Fields.suggestion(name, registry.names()) + "; known ops: " + String.join(", ", registry.names()),
                    opValue.location());
        }
        currentOp[0] = name;
        Step step;
        if (operation.get().type() != null) {
            step = Binder.bind(registry.mapper().readerFor(Step.class).withAttribute(Values.MACHINE,
                    context.machine()), element, name + " step");
            Binder.check(step, element, context.machine());
        } else {
            List<String> known = new ArrayList<>();
            known.add("op");
            known.addAll(operation.get().fields());
            step = operation.get().decoder().decode(Fields.of(element, name + " step", known), context);
        }
        if (step == null || !step.op().equals(name)) {
            throw new IllegalStateException("decoder bug: op " + name + " decoded to " + step);
        }
        return step;
    }

    /**
     * The top-level {@code faults}: an array of fault ids ({@link org.hybridv.xen.Fault#id()}); an unknown id is an
     * input error at that element, naming the known ids.
     */
    private static org.hybridv.xen.Faults faults(Fields root) {
        Optional<JsonValue> v = root.find("faults");
        if (v.isEmpty()) {
            return org.hybridv.xen.Faults.NONE;
        }
        List<String> ids = new ArrayList<>();
        for (JsonValue e : v.get().elements()) {
            if (!e.node().isTextual()) {
                throw e.error("a fault id is a string such as \"superpage-accepted\"; known faults: "
                        + org.hybridv.xen.Faults.knownIds());
            }
            try {
                org.hybridv.xen.Faults.parse(List.of(e.asText()));
            } catch (IllegalArgumentException x) {
                throw e.error("unknown fault \"" + JsonValue.abbreviate(e.asText()) + "\"; known faults: "
                        + org.hybridv.xen.Faults.knownIds());
            }
            ids.add(e.asText());
        }
        return org.hybridv.xen.Faults.parse(ids);
    }

    private static Origin origin(JsonValue value) {
        Fields kindOnly = Fields.of(value, "origin", List.of("kind", "property", "seed"));
        String kind = kindOnly.choice("kind", Map.of("hand", "hand", "property", "property"));
        if (kind.equals("hand")) {
            Fields hand = Fields.of(value, "origin (kind hand)", List.of("kind"));
            hand.text("kind");
            return Origin.HAND;
        }
        String property = kindOnly.text("property");
        JsonValue seedValue = kindOnly.get("seed");
        String seed = seedValue.node().isIntegralNumber() ? seedValue.node().bigIntegerValue().toString()
                : seedValue.asText();
        return new Origin.Property(property, seed);
    }

    private static MachineSpec machine(Fields m) {
        int frames = (int) m.integer("memoryFrames", 1, org.hybridv.x86.PhysicalMemory.MAX_FRAMES,
                "4-KByte frames of backed memory");
        int maxPhysAddr = (int) m.integer("maxPhysAddr", org.hybridv.x86.CpuState.MIN_MAXPHYADDR,
                org.hybridv.x86.CpuState.MAX_MAXPHYADDR, "MAXPHYADDR, the physical-address width in bits");
        TlbPolicy tlb = m.optionalChoice("tlb", TLB_POLICIES).orElse(TlbPolicy.ADVERSARIAL);
        return new MachineSpec(frames, maxPhysAddr, tlb);
    }
}
