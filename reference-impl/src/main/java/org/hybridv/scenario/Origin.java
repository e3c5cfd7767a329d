package org.hybridv.scenario;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;

/**
 * Where a scenario came from: the {@code origin} object.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({@JsonSubTypes.Type(Origin.Hand.class), @JsonSubTypes.Type(Origin.Property.class)})
public sealed interface Origin permits Origin.Hand, Origin.Property {
    /** {@code {"kind": "hand"}}: written by a person (the default when {@code origin} is absent). */
    @JsonTypeName("hand")
    record Hand() implements Origin {}

    /**
     * {@code {"kind": "property", "property": "…", "seed": "…"}}: a shrunk counterexample written by a failing
     * property.
     *
     * @param property the property's name
     * @param seed     the seed that reproduces the run, as text (the file may give it as an integer)
     */
    @JsonTypeName("property")
    record Property(String property, @JsonDeserialize(using = Seed.class) String seed) implements Origin {
        public Property {
            Bad.required(property, "property", "origin");
            Bad.required(seed, "seed", "origin");
        }
    }

    Hand HAND = new Hand();

    /** The {@code kind} as written in the file. */
    default String kind() {
        return this instanceof Property ? "property" : "hand";
    }

    /** A seed: a string, or an integer of any size kept as its decimal text. */
    final class Seed extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext c) throws IOException {
            JsonNode n = c.readTree(p);
            if (n.isIntegralNumber() || n.isTextual()) {
                return n.isTextual() ? n.textValue() : n.bigIntegerValue().toString();
            }
            throw Bad.at(null, "expected a string or an integer, found " + Values.describe(n));
        }
    }
}
