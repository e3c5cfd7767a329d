package org.hybridv.spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the models are: a directory ({@code spec/models} of a checkout), or the copy bundled in the spec jar
 * ({@code org/hybridv/spec/models/…}), extracted to a temporary directory because Alloy resolves {@code open}
 * against files.
 */
public final class ModelSources {
    /** The classpath folder the spec module's build copies {@code spec/models} to. */
    public static final String RESOURCE_ROOT = "org/hybridv/spec/models";

    private ModelSources() {}

    /** Every model below {@code root} ({@code *.als}), sorted by name. */
    public static List<ModelFile> in(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".als") && Files.isRegularFile(p))
                    .map(p -> ModelFile.of(root, p))
                    .sorted(Comparator.comparing(ModelFile::name))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The bundled models as a directory: the classpath folder itself when it is one (tests, IDE), otherwise a fresh
     * temporary copy of the jar's folder.
     */
    public static Path bundled() {
        URL url = ModelSources.class.getClassLoader().getResource(RESOURCE_ROOT + "/util/vocab.als");
        if (url == null) {
            throw new IllegalStateException("the Alloy models are not on the classpath (" + RESOURCE_ROOT + ")");
        }
        try {
            URI uri = url.toURI();
            if ("file".equals(uri.getScheme())) {
                return Path.of(uri).getParent().getParent();
            }
            return extract(uri);
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot read the bundled Alloy models at " + url, e);
        }
    }

    private static Path extract(URI uri) throws IOException {
        FileSystem fs;
        try {
            fs = FileSystems.newFileSystem(uri, Map.of());
        } catch (FileSystemAlreadyExistsException e) {
            fs = FileSystems.getFileSystem(uri);
        }
        Path src = fs.getPath(RESOURCE_ROOT);
        Path dst = Files.createTempDirectory("hybridv-models");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dst), "hybridv-models-cleanup"));
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path target = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return dst;
    }

    /** Removes the extracted copy when the JVM exits (best effort). */
    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort: a leftover temporary directory is harmless
        }
    }
}
