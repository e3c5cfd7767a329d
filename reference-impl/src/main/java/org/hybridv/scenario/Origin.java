package org.hybridv.scenario;

/**
 * Where a scenario came from: the {@code origin} object.
 */
public sealed interface Origin permits Origin.Hand, Origin.Property {
    /** {@code {"kind": "hand"}}: written by a person (the default when {@code origin} is absent). */
    record Hand() implements Origin {}

    /**
     * {@code {"kind": "property", "property": "…", "seed": "…"}}: a shrunk counterexample written by a failing
     * property. Reserved in format v1; the property campaigns that write these come with a later issue.
     *
     * @param property the property's name
     * @param seed     the seed that reproduces the run, as text
     */
    record Property(String property, String seed) implements Origin {}

    Hand HAND = new Hand();

    /** The {@code kind} as written in the file. */
    default String kind() {
        return this instanceof Property ? "property" : "hand";
    }
}
