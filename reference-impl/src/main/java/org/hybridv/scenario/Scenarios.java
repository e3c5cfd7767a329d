package org.hybridv.scenario;

import java.nio.file.Path;

/**
 * Files to verdicts: read, parse and replay scenario files with one registry. What the command line and the
 * regression test use.
 */
public final class Scenarios {
    private final ScenarioParser parser;
    private final Replayer replayer;

    public Scenarios(OperationRegistry registry) {
        this.parser = new ScenarioParser(registry);
        this.replayer = new Replayer(registry);
    }

    public ScenarioParser parser() {
        return parser;
    }

    /** Reads and parses {@code file}; an unreadable file is a {@link ParseResult.Rejected}. */
    public ParseResult parse(Path file) {
        String source = file.toString();
        byte[] bytes;
        try {
            bytes = ScenarioSources.read(file);
        } catch (ScenarioInputException e) {
            return new ParseResult.Rejected(ScenarioError.ofFile(source, e.getMessage(), e.getCause()));
        }
        return parser.parse(source, bytes);
    }

    /** Reads, parses and replays {@code file}. */
    public Replay replay(Path file) {
        ParseResult parsed = parse(file);
        if (parsed instanceof ParseResult.Rejected r) {
            return Replay.unusable(r.error());
        }
        return replayer.replay(file.toString(), ((ParseResult.Parsed) parsed).scenario());
    }

    /** Parses and replays {@code bytes} read from {@code source}. */
    public Replay replay(String source, byte[] bytes) {
        ParseResult parsed = parser.parse(source, bytes);
        if (parsed instanceof ParseResult.Rejected r) {
            return Replay.unusable(r.error());
        }
        return replayer.replay(source, ((ParseResult.Parsed) parsed).scenario());
    }
}
