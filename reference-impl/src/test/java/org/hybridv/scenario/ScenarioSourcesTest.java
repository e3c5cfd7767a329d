package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading is bounded whatever a path leads to: links are followed, only regular files are opened, the size limit is
 * checked on the bytes read, and a path that cannot be reached for lack of permission says so.
 */
class ScenarioSourcesTest {
    @TempDir
    Path dir;

    /** An endless stream of '0' that counts what was read from it. */
    private static final class Endless extends InputStream {
        long read;

        @Override
        public int read() {
            read++;
            return '0';
        }

        @Override
        public int read(byte[] b, int off, int len) {
            java.util.Arrays.fill(b, off, off + len, (byte) '0');
            read += len;
            return len;
        }
    }

    @Test
    void theLimitIsCheckedOnTheBytesReadAndReadingStopsJustPastIt() {
        Endless in = new Endless();
        assertThatThrownBy(() -> ScenarioSources.bounded(in, 1000))
                .isInstanceOf(ScenarioInputException.class)
                .hasMessage("the file is larger than 1000 bytes, the limit for a scenario file");
        assertThat(in.read).isEqualTo(1001);
    }

    @Test
    void aFileAtTheLimitIsReadWhole() throws IOException {
        byte[] bytes = new byte[100_000];
        java.util.Arrays.fill(bytes, (byte) 'x');
        Path p = Files.write(dir.resolve("big.json"), bytes);
        assertThat(ScenarioSources.read(p, a -> Files.readAttributes(a,
                java.nio.file.attribute.BasicFileAttributes.class), 100_000)).isEqualTo(bytes);
        assertThatThrownBy(() -> ScenarioSources.read(p, a -> Files.readAttributes(a,
                java.nio.file.attribute.BasicFileAttributes.class), 99_999))
                .hasMessage("the file is larger than 99999 bytes, the limit for a scenario file");
    }

    @Test
    void aLinkToADeviceIsRefusedWithoutReadingIt() throws IOException {
        Path zero = Path.of("/dev/zero");
        assertThat(Files.exists(zero)).as("needs /dev/zero").isTrue();
        Path link = Files.createSymbolicLink(dir.resolve("zero.json"), zero);
        assertThat(ScenarioSources.expand(List.of(link.toString())).files()).containsExactly(link);
        assertThatThrownBy(() -> ScenarioSources.read(link))
                .isInstanceOf(ScenarioInputException.class)
                .hasMessage("is not a regular file (a FIFO, device or socket); scenario files are regular files");
        Files.delete(link);
    }

    @Test
    void aFifoIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("pipe.json");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor() == 0 && Files.exists(fifo)).as("needs mkfifo").isTrue();
        // opening a FIFO for reading blocks until a writer comes: a read that opened it would never return
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThatThrownBy(() -> ScenarioSources.read(fifo))
                .hasMessage("is not a regular file (a FIFO, device or socket); scenario files are regular files"));
    }

    @Test
    void aPathThatCannotBeReachedForLackOfPermissionSaysSoNotThatItIsMissing() {
        Path inside = dir.resolve("locked/x.json");
        ScenarioSources.Expansion e = ScenarioSources.expand(List.of(inside.toString()), p -> {
            throw new AccessDeniedException(p.toString());
        });
        assertThat(e.files()).isEmpty();
        assertThat(e.errors()).singleElement().extracting(ScenarioError::line)
                .isEqualTo(inside + ": error: cannot access: permission denied");
        assertThat(ScenarioSources.expand(List.of(dir.resolve("missing.json").toString())).errors())
                .singleElement().extracting(ScenarioError::message).isEqualTo("no such file or folder");
    }
}
