package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of unusable input gets exit code 2 and one line on stderr naming the file, the step and line:column
 * where known, and what is wrong; never a stack trace (unless --debug).
 */
class BadInputTest {
    @TempDir
    Path dir;

    private static final String HEADER = "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\",\n"
            + " \"machine\": {\"memoryFrames\": 16, \"maxPhysAddr\": 39},\n"
            + " \"steps\": [\n";
    private static final String GOOD_STEP = "{\"op\": \"invlpg\", \"linear\": 0}";

    private Path file(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    private Path steps(String name, String... steps) throws IOException {
        return file(name, HEADER + String.join(",\n", steps) + "\n]}\n");
    }

    /** Runs replay and validate on {@code p}; both must reject it with exactly {@code expectedLine}. */
    private static void rejected(Path p, String expectedLine) {
        for (String command : List.of("replay", "validate")) {
            Cli.Result r = Cli.run(command, p.toString());
            assertThat(r.exit()).as(r.all()).isEqualTo(2);
            assertThat(r.err().lines().toList()).as(r.all()).containsExactly(expectedLine);
            assertNoStackTrace(r);
        }
    }

    static void assertNoStackTrace(Cli.Result r) {
        assertThat(r.out() + r.err()).as(r.all()).doesNotContain("\tat ", "Exception", "at org.hybridv");
    }

    @Test
    void malformedJson() throws IOException {
        Path p = steps("malformed.json", GOOD_STEP, "{\"op\": \"invlpg\",, }");
        rejected(p, p + ":5:17: error: step 2: malformed JSON: Unexpected character (',' (code 44)): was expecting"
                + " double-quote to start field name");
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = file("truncated.json", HEADER + GOOD_STEP + ",\n{\"op\": \"inv");
        rejected(p, p + ":5:12: error: step 2: malformed JSON: Unexpected end-of-input inside a string");
    }

    @Test
    void unknownFormatVersion() throws IOException {
        Path p = file("format.json", (HEADER + GOOD_STEP + "]}").replace("scenario/1", "scenario/9"));
        rejected(p, p + ":1:12: error: unknown format \"hybridv-scenario/9\"; this hybridv reads"
                + " \"hybridv-scenario/1\"");
    }

    @Test
    void startApOfTheBootProcessorIsRefusedAtItsField() throws IOException {
        Path p = file("ap.json", "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\",\n"
                + " \"machine\": {\"memoryFrames\": 1, \"maxPhysAddr\": 40, \"kernel\": {\"platform\": \"shadow\","
                + " \"cpus\": 2}},\n \"steps\": [\n{\"op\": \"kernel\", \"do\": \"startAp\", \"cpu\": 0}]}");
        rejected(p, p + ":4:42: error: step 1 (kernel): cpu: CPU 0 is the boot processor: startAp brings up an application"
                + " processor, 1..1");
    }

    @Test
    void unknownOpListsTheKnownOps() throws IOException {
        Path p = steps("op.json", GOOD_STEP, "{\"op\": \"reboot\"}");
        rejected(p, p + ":5:8: error: step 2: unknown op \"reboot\";"
                + " known ops: access, advanceTime, blkBackEnd, blkConnect, blkRequest, blkRingInit, blkServe,"
                + " checkHybrid, checkInvariants, checkPv, continueHypercall, cpu,"
                + " cpuid, deliverIpi, domainPte, ept, eventChannelOp, evict, expectBlk, expectCpu, expectDomainEntry,"
                + " expectEntry, expectFrame, expectPcpu, expectPsc, expectPv, expectTlb, expectVmcs, grantAccess,"
                + " grantTableOp, guest, guestAccess, guestEvent, guestInvlpg, guestInvpcid, guestMovFromCr,"
                + " guestMovToCr, hlt, hypercall, invept, invlpg, invpcid, invvpid, io, kernel, mmuUpdateBatch,"
                + " mmuextMulti, movToCr3, preemptHypercall, pte, pvSetup, rdmsr, schedOp, schedule, vcpuOp,"
                + " vmcall, vmcs, vmlaunch, vmresume, wrmsr");
    }

    @Test
    void unknownField() throws IOException {
        Path p = steps("field.json", "{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"cpl\": 3,"
                + " \"privilege\": 0}");
        rejected(p, p + ":4:57: error: step 1 (access): unknown field \"privilege\" in access step; known fields: op,"
                + " linear, kind, value, cpl, implicitSupervisor, expect");
    }

    @Test
    void missingRequiredField() throws IOException {
        Path p = steps("missing.json", GOOD_STEP, GOOD_STEP, "{\"op\": \"access\", \"linear\": 0}");
        rejected(p, p + ":6:1: error: step 3 (access): missing required field \"kind\" in access step");
    }

    @Test
    void frameBeyondMemory() throws IOException {
        Path p = steps("frame.json", "{\"op\": \"pte\", \"table\": 16, \"index\": 0, \"entry\": {\"present\": true}}");
        rejected(p, p + ":4:24: error: step 1 (pte): table: 16 is outside 0..15 (memoryFrames = 16: frames 0..15)");
    }

    @Test
    void indexAbove511() throws IOException {
        Path p = steps("index.json", "{\"op\": \"expectEntry\", \"table\": 1, \"index\": 512, \"present\": false}");
        rejected(p, p + ":4:44: error: step 1 (expectEntry): index: 512 is outside 0..511 (512 entries per paging"
                + " structure)");
    }

    @Test
    void nonCanonicalWhereCanonicalIsRequired() throws IOException {
        Path p = steps("canonical.json", "{\"op\": \"expectTlb\", \"linear\": \"0x0000_8000_0000_0000\", \"cached\":"
                + " false}");
        rejected(p, p + ":4:31: error: step 1 (expectTlb): linear: 0x800000000000 is not canonical (bits 63:47 must"
                + " be all 0 or all 1; a TLB only holds canonical addresses)");
    }

    @Test
    void bitsBeyond64() throws IOException {
        Path p = steps("wide.json", "{\"op\": \"access\", \"linear\": \"0x1_0000_0000_0000_0008\", \"kind\": \"read\"}");
        rejected(p, p + ":4:28: error: step 1 (access): linear: 0x10000000000000008 sets bits beyond bit 63 (values"
                + " are at most 64 bits)");
    }

    @Test
    void bitsAboveAFieldsWidth() throws IOException {
        Path p = steps("pkru.json", "{\"op\": \"cpu\", \"pkru\": \"0x1_0000_0000\"}");
        rejected(p, p + ":4:23: error: step 1 (cpu): pkru: 0x100000000 does not fit in 32 bits (at most 0xffffffff)");
    }

    @Test
    void wrongType() throws IOException {
        Path p = steps("type.json", "{\"op\": \"cpu\", \"cpl\": \"three\"}");
        rejected(p, p + ":4:22: error: step 1 (cpu): cpl: expected an integer or a \"0x…\" hexadecimal string, found"
                + " the string \"three\"");
    }

    @Test
    void randomBytes() throws IOException {
        Path p = dir.resolve("random.json");
        Files.write(p, new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d});
        for (String command : List.of("replay", "validate")) {
            Cli.Result r = Cli.run(command, p.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err().lines().toList()).singleElement().asString().startsWith(p + ":")
                    .contains(": error: malformed JSON");
            assertNoStackTrace(r);
        }
    }

    @Test
    void emptyFile() throws IOException {
        Path p = file("empty.json", "");
        rejected(p, p + ": error: the file is empty: expected a JSON object");
    }

    @Test
    void pathThatDoesNotExist() {
        String missing = dir.resolve("nope.json").toString();
        for (String command : List.of("replay", "validate")) {
            Cli.Result r = Cli.run(command, missing);
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err().lines().toList()).containsExactly(missing + ": error: no such file or folder");
            assertNoStackTrace(r);
        }
    }

    @Test
    void emptyFolder() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Files.writeString(empty.resolve("notes.txt"), "not a scenario");
        for (String command : List.of("replay", "validate")) {
            Cli.Result r = Cli.run(command, empty.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err().lines().toList()).containsExactly(empty + ": error: the folder contains no *.json"
                    + " scenario files");
        }
    }

    @Test
    void unreadableFileDanglingLink() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("links"));
        Path link = Files.createSymbolicLink(folder.resolve("gone.json"), dir.resolve("does-not-exist.json"));
        rejected(link, link + ": error: cannot read the file: no such file (a dangling link?)");
        Cli.Result r = Cli.run("replay", folder.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("gone.json: error: cannot read the file");
    }

    @Test
    void aLinkToADeviceIsRefusedWithoutReadingIt() throws IOException {
        Path zero = Path.of("/dev/zero");
        assertThat(Files.exists(zero)).as("needs /dev/zero").isTrue();
        Path link = Files.createSymbolicLink(dir.resolve("zero.json"), zero);
        try {
            rejected(link, link + ": error: is not a regular file (a FIFO, device or socket); scenario files are"
                    + " regular files");
        } finally {
            Files.delete(link);
        }
    }

    @Test
    void aFifoIsRefusedAndNothingHangs() throws Exception {
        Path fifo = dir.resolve("pipe.json");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor() == 0).as("needs mkfifo").isTrue();
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
            rejected(fifo, fifo + ": error: is not a regular file (a FIFO, device or socket); scenario files are"
                    + " regular files");
            Cli.Result r = Cli.run("replay", dir.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("pipe.json: error: is not a regular file");
        });
    }

    @Test
    void aFolderNamedLikeAFileIsSkippedWhenWalking() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("tree"));
        Files.createDirectory(folder.resolve("inner.json"));
        Cli.Result r = Cli.run("validate", folder.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("the folder contains no *.json scenario files");
    }

    @Test
    void aStepTheReferenceCannotRun() throws IOException {
        Path p = steps("nolme.json", GOOD_STEP, "{\"op\": \"cpu\", \"cr0\": {\"pe\": true, \"pg\": true}}");
        Cli.Result r = Cli.run("replay", p.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().lines().toList()).containsExactly(p + ":5:1: error: step 2 (cpu): the reference cannot"
                + " run this step: MOV to CR0 sets PG with EFER.LME = 0: 32-bit and PAE paging are out of scope (only"
                + " IA-32e paging is modelled)");
        assertThat(Cli.run("validate", p.toString()).exit()).as("valid as a file; unusable only when run").isZero();
    }

    @Test
    void debugShowsTheStackTraceAndOtherwiseNever() throws IOException {
        Path p = steps("debug.json", "{\"op\": \"invlpg\",, }");
        Cli.Result quiet = Cli.run("replay", p.toString());
        assertNoStackTrace(quiet);
        for (String[] args : List.of(new String[] {"--debug", "replay", p.toString()},
                new String[] {"replay", "--debug", p.toString()})) {
            Cli.Result debug = Cli.run(args);
            assertThat(debug.exit()).isEqualTo(2);
            assertThat(debug.err()).contains("error: step 1: malformed JSON", "JsonParseException", "\tat ");
        }
    }

    @Test
    void badCommandLineArguments() {
        Cli.Result none = Cli.run();
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Usage: hybridv");
        Cli.Result noPath = Cli.run("replay");
        assertThat(noPath.exit()).isEqualTo(2);
        assertThat(noPath.err()).startsWith("hybridv: Missing required parameter: 'PATH'")
                .contains("Try 'hybridv replay --help'");
        Cli.Result option = Cli.run("replay", "--colour", "x.json");
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.err()).contains("Unknown option: '--colour'");
        Cli.Result command = Cli.run("replya", "x.json");
        assertThat(command.exit()).isEqualTo(2);
        assertThat(command.err()).contains("Unmatched argument");
    }

    /** The kernel section's {@code cpuid} (BOOT-2, BOOT-7): a short signature, KVM outside HAP. */
    @Test
    void badCpuidIdentityOfTheKernelSection() throws IOException {
        String head = "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\",\n"
                + " \"machine\": {\"memoryFrames\": 1, \"maxPhysAddr\": 40, \"kernel\": {\"platform\": \"shadow\", ";
        String tail = "}},\n \"steps\": [{\"op\": \"kernel\", \"do\": \"boot\", \"to\": \"DIRECT\"}]}\n";
        Path sig = file("cpuid-signature.json", head + "\"cpuid\": {\"signature\": \"XenVMMXenVM\"}" + tail);
        rejected(sig, sig + ":2:108: error: machine.kernel.cpuid.signature: a signature is twelve characters with"
                + " code points 0..255, not \"XenVMMXenVM\"");
        Path kvm = file("cpuid-kvm-shadow.json", head + "\"cpuid\": {\"hypervisor\": \"kvm\"}" + tail);
        rejected(kvm, kvm + ":2:94: error: machine.kernel.cpuid: a KVM hypervisor runs its guests in HAP mode only"
                + " (platform hap)");
    }
}
