package org.hybridv.scenario;

import com.fasterxml.jackson.core.ErrorReportConfiguration;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one Jackson configuration used for scenario files and reports. Strict on input:
 * <ul>
 * <li>duplicate field names are an error ({@link StreamReadFeature#STRICT_DUPLICATE_DETECTION});</li>
 * <li>anything after the top-level value is an error ({@link DeserializationFeature#FAIL_ON_TRAILING_TOKENS};
 * {@link JsonDocument} checks the same when it walks the tokens itself);</li>
 * <li>unknown properties are an error ({@link DeserializationFeature#FAIL_ON_UNKNOWN_PROPERTIES}; {@link Binder}
 * names the known ones);</li>
 * <li>no polymorphic typing: default typing stays off, and no type ever comes from a class name in the input;</li>
 * <li>no comments, single quotes, NaN or trailing commas (Jackson's defaults: plain JSON);</li>
 * <li>limits: nesting depth, number length and string length are bounded ({@link #MAX_NESTING});</li>
 * <li>Jackson's error messages quote at most {@value InputText#QUOTE_LIMIT} characters of an offending token.</li>
 * </ul>
 */
public final class ScenarioJson {
    /** Jackson's own nesting limit; {@link JsonDocument} stops at a lower depth with a clearer message. */
    static final int MAX_NESTING = 100;
    /** Longest number literal accepted (a 64-bit value needs at most 20 digits). */
    static final int MAX_NUMBER_LENGTH = 100;
    /** Longest string accepted (titles and descriptions are prose, not data). */
    static final int MAX_STRING_LENGTH = 1 << 20;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .errorReportConfiguration(ErrorReportConfiguration.builder()
                    .maxErrorTokenLength(InputText.QUOTE_LIMIT)
                    .maxRawContentLength(InputText.QUOTE_LIMIT)
                    .build())
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_NESTING)
                    .maxNumberLength(MAX_NUMBER_LENGTH)
                    .maxStringLength(MAX_STRING_LENGTH)
                    .build())
            .build();

    private static final ObjectMapper MAPPER = JsonMapper.builder(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .deactivateDefaultTyping()
            .build();

    /**
     * The mapper scenario records are bound with: {@link #mapper()} plus the scalar rules of {@link Values} (numbers,
     * booleans and strings without coercion), enum numbers refused, absent values not written.
     */
    private static final ObjectMapper BINDING = MAPPER.copy()
            .registerModule(Values.module())
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);

    private ScenarioJson() {}

    /** The binding mapper (a copy for each registry, which registers its step records as subtypes). */
    static ObjectMapper binding() {
        return BINDING;
    }

    /** The shared mapper (thread-safe once configured): for reports and any record binding. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    static JsonFactory factory() {
        return FACTORY;
    }
}
