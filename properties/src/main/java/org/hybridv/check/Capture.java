package org.hybridv.check;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import org.hybridv.xen.Faults;

/**
 * Writes a shrunk counterexample as a scenario (format v1) into {@code counterexamples/found/}: named
 * {@code <property>-<first 12 hex digits of the SHA-256 of its content>.json}, written to a temporary file in the same
 * directory and moved into place atomically, never overwriting an existing file (the same content has the same name,
 * so a counterexample found twice is written once). The hash covers what the scenario does — machine, faults,
 * violated invariant, steps — not where it came from, so two seeds that shrink to the same run share one file.
 */
public final class Capture {
    private Capture() {}

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The scenario layer's own mapper: what it writes for a step record is what the parser reads back. */
    private static final ObjectMapper STEPS = org.hybridv.scenario.modules.Modules.standard().mapper();

    /** A step record as the JSON object of a scenario's {@code steps} (serialized as the format has it). */
    public static ObjectNode step(org.hybridv.scenario.Step step) {
        return STEPS.valueToTree(step);
    }

    /** What {@link #write} did. */
    public record Written(Path file, boolean created) {}

    /** The scenario document of a failure, with origin, violates and faults. */
    public static <R> Optional<ObjectNode> document(SystemProperty<R> p, Campaign.Failure<R> failure, Faults faults,
            long campaignSeed) {
        ObjectNode body = p.scenario(failure.shrunk(), faults, failure.violation());
        if (body == null) {
            return Optional.empty();
        }
        Verdict.Violated v = failure.violation();
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        doc.put("format", "hybridv-scenario/1");
        doc.put("title", p.name() + " counterexample: " + v.invariant() + " (" + v.rule() + ")"
                + (faults.active().isEmpty() ? "" : " with " + String.join(", ", faults.ids())));
        doc.put("description", "Found and shrunk by the " + p.name() + " property (campaign seed " + campaignSeed
                + ", try " + failure.tryIndex() + "; " + p.length(failure.original()) + " operations shrunk to "
                + p.length(failure.shrunk()) + "). " + v + (v.invariant().equals(KernelContract.NAME)
                        ? ". The last step expects what the workload contract requires: the file fails there until"
                                + " the kernel is fixed." : ""));
        ObjectNode origin = doc.putObject("origin");
        origin.put("kind", "property");
        origin.put("property", p.name());
        origin.put("seed", Long.toString(failure.seedOfTry()));
        doc.set("machine", body.get("machine"));
        if (!faults.active().isEmpty()) {
            faults.ids().forEach(doc.putArray("faults")::add);
        }
        violates(v).ifPresent(i -> doc.put("violates", i));
        doc.set("steps", body.get("steps"));
        return Optional.of(doc);
    }

    /**
     * The {@code violates} of a counterexample of {@code v}: its invariant, or none for a workload-contract finding
     * (the contract is no invariant: its file is a regression whose last step expects what the contract requires,
     * and fails there until the kernel is fixed).
     */
    public static Optional<String> violates(Verdict.Violated v) {
        return v.invariant().equals(KernelContract.NAME) ? Optional.empty() : Optional.of(v.invariant());
    }

    /** The file name for {@code doc}: property and a hash of machine, faults, violates and steps. */
    public static String fileName(String property, ObjectNode doc) {
        ObjectNode content = JsonNodeFactory.instance.objectNode();
        for (String k : new String[] {"machine", "faults", "violates", "steps"}) {
            if (doc.has(k)) {
                content.set(k, doc.get(k));
            }
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(MAPPER.writeValueAsBytes(content));
            return property + "-" + HexFormat.of().formatHex(h).substring(0, 12) + ".json";
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("hashing a scenario failed", e);
        }
    }

    /** The bytes of {@code doc} as written: two-space indentation, one value per line, a final newline. */
    public static byte[] bytes(ObjectNode doc) {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                .withObjectIndenter(new DefaultIndenter("  ", "\n")).withArrayIndenter(new DefaultIndenter("  ", "\n"));
        try {
            return (MAPPER.writer(pp).writeValueAsString(doc) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("writing a scenario failed", e);
        }
    }

    /** Writes {@code doc} into {@code dir} unless a file of that name exists; atomic, with the umask's mode. */
    public static Written write(Path dir, String property, ObjectNode doc) throws IOException {
        Files.createDirectories(dir);
        Path target = dir.resolve(fileName(property, doc));
        if (Files.exists(target)) {
            return new Written(target, false);
        }
        return new Written(target, AtomicFiles.write(target, bytes(doc), false));
    }
}
