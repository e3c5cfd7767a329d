package org.hybridv.spec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One model of {@code spec/models}: its name (the path below the models directory without {@code .als}, e.g.
 * {@code xen/direct_paging}), its file, and the solver its header records ({@code -- solver: NAME}, chosen per model
 * by measurement, docs/spec.md) with the line it is on. A library ({@code util/vocab}, {@code xen/entry_rules})
 * declares no command: it is opened by the others and not run itself (Alloy would give it a default {@code run}).
 * A file that cannot be read as UTF-8 text carries the error ({@code unreadable}, with the line and column of the
 * first bad byte) and is never handed to Alloy.
 *
 * @param solverLine the line of the {@code -- solver:} comment, 0 when there is none
 */
public record ModelFile(String name, Path path, Optional<String> solver, int solverLine, boolean library,
        Optional<ModelError> unreadable) {
    private static final Pattern SOLVER = Pattern.compile("(?m)^--\\s*solver:\\s*(\\S+)\\s*$");
    /** A command at the start of a line: {@code run …}, {@code check …}, or {@code label: run …}. */
    private static final Pattern COMMAND = Pattern.compile("(?m)^\\s*(\\w+\\s*:\\s*)?(run|check)\\b");

    /** The model at {@code path}, named relative to {@code root}. */
    public static ModelFile of(Path root, Path path) {
        String rel = root.relativize(path).toString().replace('\\', '/');
        String name = rel.endsWith(".als") ? rel.substring(0, rel.length() - 4) : rel;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return unreadable(name, path, new ModelError(path.toString(), 1, 1, "cannot read: " + why));
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) {
            r = d.flush(out);
        }
        out.flip();
        String text = out.toString();
        if (r.isError()) {
            int line = 1 + (int) text.chars().filter(c -> c == '\n').count();
            int column = text.length() - text.lastIndexOf('\n');
            String bad = String.format(Locale.ROOT, "0x%02X", bytes[in.position()] & 0xFF);
            return unreadable(name, path, new ModelError(path.toString(), line, column,
                    "not UTF-8 text (byte " + bad + "); Alloy models are read as UTF-8"));
        }
        Matcher m = SOLVER.matcher(text);
        Optional<String> solver = Optional.empty();
        int solverLine = 0;
        if (m.find()) {
            solver = Optional.of(m.group(1));
            solverLine = 1 + (int) text.substring(0, m.start()).chars().filter(c -> c == '\n').count();
        }
        return new ModelFile(name, path, solver, solverLine, !COMMAND.matcher(text).find(), Optional.empty());
    }

    private static ModelFile unreadable(String name, Path path, ModelError e) {
        return new ModelFile(name, path, Optional.empty(), 0, false, Optional.of(e));
    }

    /** The models directory this model was found in (its path without the parts of its name). */
    public Path root() {
        Path r = path.getParent();
        for (int i = 0; i < name.chars().filter(c -> c == '/').count(); i++) {
            r = r.getParent();
        }
        return r;
    }
}
