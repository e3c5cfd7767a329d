package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.LinkedHashMap;
import com.fasterxml.jackson.databind.JsonNode;
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
    static final List<String> MACHINE_FIELDS = Binder.fieldsOf(Machine.class);

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

    /** The top level of a scenario file as Jackson binds it; {@code machine} and {@code steps} are read after. */
    record File(@com.fasterxml.jackson.annotation.JsonProperty("$schema") String schema, String format, String title,
            String description, Origin origin, com.fasterxml.jackson.databind.node.ObjectNode machine,
            List<String> faults, String violates, com.fasterxml.jackson.databind.node.ArrayNode steps) {
        File {
            Bad.required(format, "format", "a scenario");
            Bad.required(title, "title", "a scenario");
            Bad.required(machine, "machine", "a scenario");
            Bad.required(steps, "steps", "a scenario");
            if (title.isBlank()) {
                throw Bad.at("title", "must not be empty");
            }
            for (int i = 0; faults != null && i < faults.size(); i++) {
                try {
                    org.hybridv.xen.Faults.parse(List.of(faults.get(i)));
                } catch (IllegalArgumentException unknown) {
                    throw Bad.at("faults/" + i, "unknown fault \"" + Values.quote(faults.get(i)) + "\"; known faults: "
                            + org.hybridv.xen.Faults.knownIds());
                }
            }
            if (steps.isEmpty()) {
                throw Bad.at("steps", "a scenario needs at least one step");
            }
        }
    }

    /** The base fields of {@code machine}; the sections the modules declare are read by their own decoders. */
    record Machine(@Values.Dec(min = 1, max = org.hybridv.x86.PhysicalMemory.MAX_FRAMES,
            why = "4-KByte frames of backed memory") Integer memoryFrames,
            @Values.Dec(min = org.hybridv.x86.CpuState.MIN_MAXPHYADDR, max = org.hybridv.x86.CpuState.MAX_MAXPHYADDR,
                    why = "MAXPHYADDR, the physical-address width in bits") Integer maxPhysAddr, Tlb tlb) {
        Machine {
            Bad.required(memoryFrames, "memoryFrames", "machine");
            Bad.required(maxPhysAddr, "maxPhysAddr", "machine");
        }
    }

    /** The TLB policies as a scenario names them. */
    enum Tlb {
        @com.fasterxml.jackson.annotation.JsonProperty("adversarial") ADVERSARIAL,
        @com.fasterxml.jackson.annotation.JsonProperty("none") NONE
    }

    private Scenario decode(JsonDocument document, int[] currentStep, String[] currentOp) {
        JsonValue root = document.root();
        if (!root.node().isObject()) {
            throw root.error("expected a scenario as an object, found " + Values.describe(root.node()));
        }
        JsonNode format = root.node().get("format");
        if (format != null && format.isTextual() && !Scenario.FORMAT.equals(format.textValue())) {
            throw root.errorAt(List.of(), "unknown format \"" + Values.quote(format.textValue())
                    + "\"; this hybridv reads \"" + Scenario.FORMAT + "\"", List.of("format"), false);
        }
        File file = Binder.bind(root, File.class, null, "a scenario");
        JsonValue machineValue = root.field("machine");
        List<String> known = new ArrayList<>(Binder.fieldsOf(Machine.class));
        known.addAll(registry.machineSections().keySet());
        for (var names = file.machine().fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!known.contains(name)) {
                throw machineValue.errorAt(List.of(), "unknown field \"" + Values.quote(name) + "\""
                        + Binder.suggestion(name, known) + "; known fields: " + String.join(", ", known),
                        List.of(name), true);
            }
        }
        Machine base = Binder.bind(ScenarioJson.binding().readerFor(Machine.class).without(
                com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES), machineValue,
                "machine");
        org.hybridv.xen.Faults injected = file.faults() == null ? org.hybridv.xen.Faults.NONE
                : org.hybridv.xen.Faults.parse(file.faults());
        MachineSpec machine = new MachineSpec(base.memoryFrames(), base.maxPhysAddr(),
                base.tlb() == Tlb.NONE ? TlbPolicy.NONE : TlbPolicy.ADVERSARIAL, Map.of(), injected);
        Map<String, Object> sections = new LinkedHashMap<>();
        for (Map.Entry<String, OperationRegistry.MachineSection> e : registry.machineSections().entrySet()) {
            JsonValue v = machineValue.field(e.getKey());
            if (v != null) {
                // A section sees the sections of the modules installed before it (the kernel section finds the
                // hypervisor's domain that runs the kernel).
                MachineSpec sofar = new MachineSpec(machine.memoryFrames(), machine.maxPhysAddr(), machine.tlb(),
                        sections, injected);
                sections.put(e.getKey(), e.getValue().decode(v, sofar));
            }
        }
        machine = new MachineSpec(machine.memoryFrames(), machine.maxPhysAddr(), machine.tlb(), sections, injected);
        List<JsonValue> elements = root.field("steps").elements();
        List<NumberedStep> steps = new ArrayList<>(elements.size());
        for (int i = 0; i < elements.size(); i++) {
            currentStep[0] = i + 1;
            currentOp[0] = null;
            JsonValue element = elements.get(i).asContextRoot();
            steps.add(new NumberedStep(i + 1, element.location(), step(element, machine, currentOp)));
        }
        return new Scenario(file.format(), file.title(), file.description() == null ? "" : file.description(),
                file.origin() == null ? Origin.HAND : file.origin(), machine,
                file.faults() == null ? List.of() : file.faults(), file.violates(), steps);
    }

    private Step step(JsonValue element, MachineSpec machine, String[] currentOp) {
        if (!element.node().isObject()) {
            throw element.error("expected a step object such as {\"op\": \"access\", …}, found "
                    + Values.describe(element.node()));
        }
        JsonValue opValue = element.field("op");
        if (opValue == null) {
            throw element.error("missing required field \"op\"; known ops: " + String.join(", ", registry.names()));
        }
        if (!opValue.node().isTextual()) {
            throw opValue.error("expected a string, found " + Values.describe(opValue.node()));
        }
        String name = opValue.node().textValue();
        Optional<Operation> operation = registry.operation(name);
        if (operation.isEmpty()) {
            throw new ScenarioInputException("unknown op \"" + Values.quote(name) + "\""
                    + Binder.suggestion(name, registry.names()) + "; known ops: " + String.join(", ", registry.names()),
                    opValue.location());
        }
        currentOp[0] = name;
        Step step = Binder.bind(registry.mapper().readerFor(Step.class).withAttribute(Values.MACHINE, machine),
                element, name + " step");
        Binder.check(step, element, machine);
        return step;
    }
}
