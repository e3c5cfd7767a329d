package org.hybridv.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.cli.RepoRoot;

/** docs/scenario.schema.json, loaded once, for checking documents against it. */
public final class ScenarioSchema {
    public static final Path FILE = RepoRoot.find().resolve("docs/scenario.schema.json");
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonSchema SCHEMA = load();

    private ScenarioSchema() {}

    private static JsonSchema load() {
        try {
            JsonNode node = MAPPER.readTree(FILE.toFile());
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The schema's complaints about {@code document}; empty when it is valid. */
    public static Set<String> problems(JsonNode document) {
        Set<String> out = new TreeSet<>();
        for (ValidationMessage m : SCHEMA.validate(document)) {
            out.add(m.getMessage());
        }
        return out;
    }

    public static JsonNode read(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
