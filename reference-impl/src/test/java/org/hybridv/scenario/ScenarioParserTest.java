package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.scenario.ScenarioText.error;
import static org.hybridv.scenario.ScenarioText.parsed;
import static org.hybridv.scenario.ScenarioText.scenario;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hybridv.scenario.modules.Modules;
import org.hybridv.scenario.x86.X86Step;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.TlbPolicy;
import org.junit.jupiter.api.Test;

/** Decoding scenario files: what is accepted, and the one-line error for each kind of bad input. */
class ScenarioParserTest {

    @Test
    void theIssueExampleDecodesIntoRecords() {
        Scenario s = parsed(scenario(
                "{\"op\": \"pte\", \"table\": 4, \"index\": 0, \"entry\": {\"present\": true, \"user\": true,"
                        + " \"frame\": 9}}",
                "{\"op\": \"access\", \"linear\": \"0x0\", \"kind\": \"write\", \"expect\": {\"result\":"
                        + " \"pageFault\", \"errorCode\": \"0x7\", \"cr2\": 0}}"));
        assertThat(s.format()).isEqualTo("hybridv-scenario/1");
        assertThat(s.origin()).isEqualTo(Origin.HAND);
        assertThat(s.machine()).isEqualTo(new MachineSpec(16, 39, TlbPolicy.ADVERSARIAL));
        assertThat(s.steps()).hasSize(2);
        assertThat(s.steps().get(0).location()).isEqualTo(new SourceLocation(4, 1));
        X86Step.Pte pte = (X86Step.Pte) s.steps().get(0).step();
        assertThat(pte.entry().value().raw()).isEqualTo(0x9005L);
        X86Step.MemoryAccess access = (X86Step.MemoryAccess) s.steps().get(1).step();
        assertThat(access.kind().kind).isEqualTo(AccessKind.WRITE);
        assertThat(access.expect()).isEqualTo(new X86Step.AccessExpect.PageFault(7, 0L, null));
    }

    @Test
    void integersAndHexStringsAreTheSameNumber() {
        Scenario a = parsed(scenario("{\"op\": \"access\", \"linear\": 18446744073709551608, \"kind\": \"read\"}"));
        Scenario b = parsed(scenario("{\"op\": \"access\", \"linear\": \"0xffff_ffff_ffff_fff8\", \"kind\":"
                + " \"read\"}"));
        assertThat(a.steps().get(0).step()).isEqualTo(b.steps().get(0).step());
        assertThat(((X86Step.MemoryAccess) a.steps().get(0).step()).linear()).isEqualTo(-8L);
    }

    @Test
    void originFaultsAndViolatesAreDecoded() {
        String text = "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\", \"origin\": {\"kind\": \"property\","
                + " \"property\": \"isolation\", \"seed\": 42}, \"faults\": [\"pt-update-no-flush\"], \"violates\": \"I1\","
                + " \"machine\": {\"memoryFrames\": 1, \"maxPhysAddr\": 52, \"tlb\": \"none\"},"
                + " \"steps\": [{\"op\": \"invlpg\", \"linear\": 0}]}";
        Scenario s = parsed(text);
        assertThat(s.origin()).isEqualTo(new Origin.Property("isolation", "42"));
        assertThat(s.faults()).containsExactly("pt-update-no-flush");
        assertThat(s.machine().faults()).isEqualTo(org.hybridv.xen.Faults.of(org.hybridv.xen.Fault.PT_UPDATE_NO_FLUSH));
        assertThat(s.violates()).isEqualTo("I1");
        assertThat(s.machine().tlb()).isEqualTo(TlbPolicy.NONE);
    }

    @Test
    void anUnknownFaultIsALocatedErrorNamingTheKnownOnes() {
        String text = "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\",\n\"faults\": [\"superpage-accepted\","
                + " \"skip-tlb-flush\"],\n\"machine\": {\"memoryFrames\": 1, \"maxPhysAddr\": 52, \"tlb\": \"none\"},"
                + " \"steps\": [{\"op\": \"invlpg\", \"linear\": 0}]}";
        assertThat(error(text).line()).startsWith("t.json:2:")
                .contains(" error: faults[1]: unknown fault \"skip-tlb-flush\"; known faults: ")
                .contains("superpage-accepted", "xen-slot-update");
    }

    @Test
    void malformedJsonNamesLineColumnAndStep() {
        ScenarioError e = error(scenario("{\"op\": \"invlpg\", \"linear\": 0}", "{\"op\": \"invlpg\",, }"));
        assertThat(e.line()).startsWith("t.json:5:17: error: step 2: malformed JSON: Unexpected character (','");
    }

    @Test
    void emptyFileTrailingContentAndDuplicateFields() {
        assertThat(error("").line()).isEqualTo("t.json: error: the file is empty: expected a JSON object");
        assertThat(error("  \n").line()).contains("the file is empty");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}") + " {}").line())
                .isEqualTo("t.json:6:2: error: malformed JSON: unexpected '{' after the end of the top-level value");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0, \"linear\": 8}")).line())
                .contains("t.json:4:", "step 1", "Duplicate field 'linear'");
    }

    @Test
    void unknownFormatVersion() {
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}").replace("scenario/1", "scenario/2"))
                .line()).isEqualTo("t.json:1:12: error: unknown format \"hybridv-scenario/2\"; this hybridv reads"
                        + " \"hybridv-scenario/1\"");
    }

    @Test
    void unknownOpListsTheKnownOnes() {
        ScenarioError e = error(scenario("{\"op\": \"invlpg\", \"linear\": 0}", "{\"op\": \"ptee\"}"));
        assertThat(e.line()).isEqualTo("t.json:5:8: error: step 2: unknown op \"ptee\" (did you mean \"pte\"?);"
                + " known ops: access, advanceTime, blkBackEnd, blkConnect, blkRequest, blkRingInit, blkServe,"
                + " checkHybrid, checkInvariants, checkPv, continueHypercall, cpu,"
                + " cpuid, deliverIpi, domainPte, ept, eventChannelOp, evict, expectBlk, expectCpu, expectDomainEntry,"
                + " expectEntry, expectFrame, expectPcpu, expectPsc, expectPv, expectTlb, expectVmcs, grantAccess,"
                + " grantTableOp, guest, guestAccess, guestEvent, guestInvlpg, guestInvpcid, guestMovFromCr,"
                + " guestMovToCr, hlt, hypercall, invept, invlpg, invpcid, invvpid, io, kernel, mmuUpdateBatch,"
                + " mmuextMulti, movToCr3, preemptHypercall, pte, pvSetup, rdmsr, schedOp, schedule, vcpuOp,"
                + " vmcall, vmcs, vmlaunch, vmresume, wrmsr");
        assertThat(e.step()).isEqualTo(2);
        assertThat(e.op()).isNull();
    }

    @Test
    void unknownFieldAtEveryLevel() {
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0, \"lienar\": 8}")).line())
                .startsWith("t.json:4:31: error: step 1 (invlpg): unknown field \"lienar\" in invlpg step (did you"
                        + " mean \"linear\"?); known fields: op, linear, expect");
        assertThat(error(scenario("{\"op\": \"pte\", \"table\": 1, \"index\": 0, \"entry\": {\"fram\": 2}}"))
                .line()).contains("step 1 (pte): entry: unknown field \"fram\" (did you mean \"frame\"?)");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}").replace("\"maxPhysAddr\": 39",
                "\"maxPhysAddr\": 39, \"cores\": 2")).line())
                .isEqualTo("t.json:2:53: error: machine: unknown field \"cores\"; known fields: memoryFrames,"
                        + " maxPhysAddr, tlb, vmxCapabilities, hypervisor, kernel");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}").replace("\"title\": \"t\"",
                "\"title\": \"t\", \"author\": \"me\"")).line()).contains("unknown field \"author\" in a scenario");
    }

    @Test
    void missingRequiredFields() {
        assertThat(error(scenario("{\"op\": \"pte\", \"index\": 0, \"entry\": {}}")).line())
                .isEqualTo("t.json:4:1: error: step 1 (pte): missing required field \"table\" in pte step");
        assertThat(error(scenario("{\"linear\": 0}")).line())
                .startsWith("t.json:4:1: error: step 1: missing required field \"op\"; known ops: access");
        assertThat(error("{\"format\": \"hybridv-scenario/1\", \"title\": \"t\", \"steps\": []}").line())
                .isEqualTo("t.json:1:1: error: missing required field \"machine\" in a scenario");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": {}}")).line())
                .contains("step 1 (access): expect: missing required field \"result\" in expect");
    }

    @Test
    void valuesOutOfRange() {
        assertThat(error(scenario("{\"op\": \"pte\", \"table\": 16, \"index\": 0, \"entry\": {}}")).line())
                .isEqualTo("t.json:4:24: error: step 1 (pte): table: 16 is outside 0..15 (memoryFrames = 16:"
                        + " frames 0..15)");
        assertThat(error(scenario("{\"op\": \"pte\", \"table\": 1, \"index\": 512, \"entry\": {}}")).line())
                .contains("step 1 (pte): index: 512 is outside 0..511 (512 entries per paging structure)");
        assertThat(error(scenario("{\"op\": \"expectTlb\", \"linear\": \"0x800000000000\", \"cached\": true}"))
                .line()).contains("step 1 (expectTlb): linear: 0x800000000000 is not canonical");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": \"0x1_0000_0000_0000_0000\", \"kind\":"
                + " \"read\"}")).line()).contains("linear: 0x10000000000000000 sets bits beyond bit 63");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 18446744073709551616, \"kind\": \"read\"}"))
                .line()).contains("linear: 0x10000000000000000 sets bits beyond bit 63");
        assertThat(error(scenario("{\"op\": \"pte\", \"table\": 1, \"index\": 0, \"entry\": {\"frame\":"
                + " \"0x100_0000_0000\"}}")).line())
                .contains("entry.frame: 0x10000000000 does not fit in 40 bits (at most 0xffffffffff)");
        assertThat(error(scenario("{\"op\": \"cpu\", \"cr3\": {\"pcid\": 4096}}")).line())
                .contains("step 1 (cpu): cr3.pcid: 0x1000 does not fit in 12 bits");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 4, \"kind\": \"read\"}")).line())
                .contains("linear: 0x4 is not 8-byte aligned");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": -1}")).line())
                .contains("linear: must not be negative (found -1)");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}").replace("\"memoryFrames\": 16",
                "\"memoryFrames\": 0")).line()).contains("machine.memoryFrames: 0 is outside 1..1048576");
    }

    @Test
    void wrongTypesSayWhatWasFound() {
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 1.5}")).line())
                .contains("linear: expected an integer or a \"0x…\" hexadecimal string, found a number with a"
                        + " fraction or exponent (1.5)");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": \"12\"}")).line())
                .contains("found the string \"12\"");
        assertThat(error(scenario("{\"op\": \"pte\", \"table\": 1, \"index\": 0, \"entry\": {\"present\":"
                + " \"yes\"}}")).line()).contains("entry.present: expected true or false, found the string \"yes\"");
        assertThat(error(scenario("[1]")).line()).contains("step 1: expected a step object");
        assertThat(error("[]").line()).contains("expected a scenario as an object, found an array");
        assertThat(error(scenario("{\"op\": 7}")).line()).contains("step 1: op: expected a string, found the"
                + " integer 7");
    }

    @Test
    void limitsOnNestingAndNumberLength() {
        String deep = "[".repeat(200) + "]".repeat(200);
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": " + deep + "}")).line())
                .contains("step 1", "JSON nested deeper than 64 levels");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": " + "9".repeat(300) + "}")).line())
                .contains("step 1", "input exceeds a limit: Number value length (300) exceeds the maximum allowed"
                        + " (100)").doesNotContain("StreamReadConstraints");
    }

    @Test
    void randomBytesAreMalformedJson() {
        byte[] junk = {(byte) 0xbe, (byte) 0xef, 0x00, 0x7f, (byte) 0xff};
        ParseResult r = new ScenarioParser(Modules.standard()).parse("junk.json", junk);
        assertThat(((ParseResult.Rejected) r).error().line()).startsWith("junk.json").contains("malformed JSON");
    }

    @Test
    void nullIsNeverAValue() {
        // Jackson would read null as "absent" for an object, list or enum field; the format has no null (the schema
        // refuses it), so a file with one is refused at the null, in a step or at the top level
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": null}")).line())
                .isEqualTo("t.json:4:57: error: step 1 (access): expect: null is not a value in a scenario (leave the"
                        + " field out to mean absent)");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": null}")).line())
                .contains("step 1 (access): kind: null is not a value in a scenario");
        assertThat(error(scenario("{\"op\": \"vmcs\", \"msrBitmap\": {\"read\": [null]}}")).line())
                .contains("step 1 (vmcs): msrBitmap.read[0]: null is not a value");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}").replace("\"title\": \"t\"",
                "\"title\": \"t\", \"faults\": null")).line()).contains("error: faults: null is not a value");
    }

    @Test
    void rawCannotBeMixedWithNamedFields() {
        assertThat(error(scenario("{\"op\": \"pte\", \"table\": 1, \"index\": 0, \"entry\": {\"raw\": \"0x1\","
                + " \"user\": true}}")).line()).contains("entry.user: \"raw\" gives every bit of the entry");
    }

    @Test
    void valueOnlyForWritesAndImplicitNotForFetches() {
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"value\": 1}")).line())
                .contains("value: only a write has a value");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"fetch\","
                + " \"implicitSupervisor\": true}")).line()).contains("cannot be an implicit supervisor-mode access");
    }

    @Test
    void expectationFieldsDependOnTheResult() {
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": {\"result\":"
                + " \"ok\", \"errorCode\": 7}}")).line()).contains("expect: unknown field \"errorCode\"; known fields:"
                        + " result, physical, value, tlbHit");
        assertThat(error(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": {\"result\":"
                + " \"pagefault\"}}")).line()).contains("(did you mean \"pageFault\"?)");
        assertThat(error(scenario("{\"op\": \"cpu\", \"cpl\": 3, \"expect\": {\"result\": \"pageFault\"}}"))
                .line()).contains("expect.result: \"pageFault\" is not one of generalProtection, ok");
    }

    @Test
    void inspectionAndCpuStepsMustCheckOrSetSomething() {
        assertThat(error(scenario("{\"op\": \"cpu\"}")).line()).contains("cpu step needs at least one of: cr0");
        assertThat(error(scenario("{\"op\": \"cpu\", \"cr0\": {}}")).line()).contains("cr0: cr0 needs at least one"
                + " of: pe, wp, pg");
        assertThat(error(scenario("{\"op\": \"expectEntry\", \"table\": 1, \"index\": 0}")).line())
                .contains("expectEntry step needs at least one of: present");
        assertThat(error(scenario("{\"op\": \"expectTlb\", \"linear\": 0}")).line())
                .contains("expectTlb step needs at least one of: cached");
    }

    @Test
    void emptyStepsAndBlankTitle() {
        assertThat(error(scenario().replace("[\n\n]", "[]")).line()).contains("steps: a scenario needs at least one"
                + " step");
        assertThat(error(scenario("{\"op\": \"invlpg\", \"linear\": 0}").replace("\"title\": \"t\"",
                "\"title\": \" \"")).line()).contains("title: must not be empty");
    }

    @Test
    void errorsAreOneLineEvenWhenTheInputHasLineBreaks() {
        ScenarioError e = error(scenario("{\"op\": \"pt\\ne\"}"));
        assertThat(e.line()).doesNotContain("\n").contains("unknown op \"pt\\ne\"");
    }

    @Test
    void eachModuleRegistersItsOwnOpsOnce() {
        OperationRegistry registry = Modules.standard();
        assertThat(registry.names()).containsExactly("access", "advanceTime", "blkBackEnd", "blkConnect",
                "blkRequest", "blkRingInit", "blkServe", "checkHybrid", "checkInvariants",
                "checkPv", "continueHypercall", "cpu", "cpuid", "deliverIpi", "domainPte", "ept", "eventChannelOp",
                "evict", "expectBlk", "expectCpu", "expectDomainEntry", "expectEntry", "expectFrame", "expectPcpu", "expectPsc",
                "expectPv", "expectTlb", "expectVmcs", "grantAccess", "grantTableOp", "guest", "guestAccess",
                "guestEvent", "guestInvlpg", "guestInvpcid", "guestMovFromCr", "guestMovToCr", "hlt", "hypercall",
                "invept", "invlpg", "invpcid", "invvpid", "io", "kernel", "mmuUpdateBatch", "mmuextMulti",
                "movToCr3", "preemptHypercall", "pte", "pvSetup", "rdmsr", "schedOp", "schedule", "vcpuOp", "vmcall",
                "vmcs", "vmlaunch", "vmresume", "wrmsr");
        assertThatThrownBy(() -> OperationRegistry.builder().install(new org.hybridv.scenario.x86.X86Module())
                .install(new org.hybridv.scenario.x86.X86Module()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("installed twice");
        Operation extra = Operation.of(Hello.class, "say hello", "{\"op\": \"hello\"}",
                (s, step) -> new StepResult(s, Observation.of("ok", "hello " + step.name()), List.of()));
        OperationRegistry extended = OperationRegistry.builder().install(new org.hybridv.scenario.x86.X86Module())
                .operation(extra).build();
        Replay r = new Scenarios(extended).replay("t.json", scenario("{\"op\": \"hello\", \"name\": \"world\"}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(r.verdict()).isEqualTo(Verdict.PASSED);
        assertThat(r.steps().get(0).result().observed().text()).isEqualTo("hello world");
    }

    /** A step of a module defined outside the scenario package: what a later layer does. */
    @com.fasterxml.jackson.annotation.JsonTypeName("hello")
    record Hello(String name) implements Step {
        @Override
        public String describe() {
            return name;
        }
    }
}
