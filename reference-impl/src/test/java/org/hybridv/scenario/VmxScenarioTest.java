package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.scenario.ScenarioText.FOUR_LEVELS;
import static org.hybridv.scenario.ScenarioText.error;
import static org.hybridv.scenario.ScenarioText.parsed;
import static org.hybridv.scenario.ScenarioText.replay;
import static org.hybridv.scenario.ScenarioText.scenario;

import org.hybridv.scenario.vmx.ExitPattern;
import org.hybridv.scenario.vmx.VmxStep;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.junit.jupiter.api.Test;

/**
 * The VMX layer's scenario ops: what is decoded, the one-line error for each kind of bad input (including a step in
 * the wrong VMX mode), and how steps run against the reference.
 */
class VmxScenarioTest {
    private static final String PTE = "{\"op\": \"pte\", \"table\": 4, \"index\": 0, \"entry\": {\"present\": true,"
            + " \"writable\": true, \"user\": true, \"frame\": 9}}";
    private static final String GUEST_CR3 = "{\"op\": \"vmcs\", \"guest\": {\"cr3\": {\"frame\": 1}}}";
    private static final String LAUNCH = "{\"op\": \"vmlaunch\"}";

    /** A scenario entering a guest whose page tables (frames 1–4) map 0x0 to frame 9, then running {@code steps}. */
    private static String inGuest(String... steps) {
        String[] all = new String[4 + steps.length];
        all[0] = FOUR_LEVELS;
        all[1] = PTE;
        all[2] = GUEST_CR3;
        all[3] = LAUNCH;
        System.arraycopy(steps, 0, all, 4, steps.length);
        return scenario(all);
    }

    // ------------------------------------------------------------------ decoding

    @Test
    void aVmExitExpectationDecodesIntoAnExitPattern() {
        Scenario s = parsed(scenario("{\"op\": \"guestAccess\", \"linear\": 0, \"kind\": \"write\", \"expect\":"
                + " {\"result\": \"vmExit\", \"reason\": \"EPT_VIOLATION\", \"qualification\": {\"write\": true,"
                + " \"translatedAccess\": true}, \"guestPhysical\": \"0x9000\", \"guestLinear\": 0}}"));
        VmxStep.GuestAccess step = (VmxStep.GuestAccess) s.steps().get(0).step();
        assertThat(step.instruction()).isInstanceOf(GuestInstruction.MemoryAccess.class);
        ExitPattern p = ((VmxStep.GuestExpect.VmExit) step.expect()).pattern();
        assertThat(p.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(p.qualification().ept()).isEqualTo(new VmxStep.EptQualification(null, true, null, null, null,
                null, null, true));
        assertThat(p.guestPhysical()).isEqualTo(0x9000L);
        assertThat(p.guestLinear()).isZero();
    }

    @Test
    void vmcsSetsOnlyTheNamedFields() {
        VmxStep.Vmcs v = (VmxStep.Vmcs) parsed(scenario("{\"op\": \"vmcs\", \"primary\": {\"hltExiting\": true},"
                + " \"pfecMask\": 4, \"ioBitmap\": {\"ports\": [\"0x60\"]}}")).steps().get(0).step();
        assertThat(v.primary()).isEqualTo(new VmxStep.PrimaryBits(true, null, null, null, null, null, null, null));
        assertThat(v.pfecMask()).isEqualTo(4);
        assertThat(v.exceptionBitmap()).isNull();
        assertThat(v.ioBitmap()).isEqualTo(new VmxStep.IoBitmapChange(null, java.util.List.of(0x60), null));
        assertThat(v.guest()).isNull();
    }

    @Test
    void aBadExitReasonNameIsRejectedWithTheKnownOnes() {
        assertThat(error(scenario("{\"op\": \"vmcall\", \"expect\": {\"result\": \"vmExit\", \"reason\":"
                + " \"VMCAL\"}}")).line()).isEqualTo("t.json:4:59: error: step 1 (vmcall): expect.reason: \"VMCAL\""
                + " is not one of CPUID, CR_ACCESS, EPT_MISCONFIG, EPT_VIOLATION, EXCEPTION_OR_NMI, HLT, INVLPG,"
                + " INVPCID, IO_INSTRUCTION, MSR_READ, MSR_WRITE, VMCALL (did you mean \"VMCALL\"?)");
        assertThat(error(scenario("{\"op\": \"vmlaunch\", \"expect\": {\"result\": \"entryFailure\", \"reason\":"
                + " \"EPT_VIOLATION\"}}")).line()).contains("step 1 (vmlaunch): expect.reason: \"EPT_VIOLATION\" is"
                        + " not one of INVALID_GUEST_STATE");
    }

    @Test
    void anUnknownQualificationFieldIsRejectedWithTheBitNames() {
        assertThat(error(scenario("{\"op\": \"guestAccess\", \"linear\": 0, \"kind\": \"read\", \"expect\":"
                + " {\"result\": \"vmExit\", \"reason\": \"EPT_VIOLATION\", \"qualification\": {\"red\": true}}}"))
                .line()).contains("step 1 (guestAccess): expect.qualification: unknown field \"red\" (did you mean"
                        + " \"read\"?); known fields: read, write, fetch, readable, writable, executable, linearValid,"
                        + " translatedAccess");
    }

    @Test
    void fieldsTheSdmLeavesUndefinedForAReasonAreRejected() {
        assertThat(error(scenario("{\"op\": \"io\", \"port\": 96, \"size\": 1, \"direction\": \"in\", \"expect\":"
                + " {\"result\": \"vmExit\", \"reason\": \"IO_INSTRUCTION\", \"guestPhysical\": 0}}")).line())
                .contains("step 1 (io): expect.guestPhysical: does not apply to reason IO_INSTRUCTION: the"
                        + " guest-physical address is reported by EPT violations and misconfigurations only");
        assertThat(error(scenario("{\"op\": \"cpuid\", \"leaf\": 0, \"expect\": {\"result\": \"vmExit\","
                + " \"qualification\": {\"read\": true}}}")).line())
                .contains("expect.qualification: needs \"reason\": EPT_VIOLATION: an object names the bits of an"
                        + " EPT-violation qualification");
        assertThat(error(scenario("{\"op\": \"hlt\", \"expect\": {\"result\": \"vmExit\", \"reason\": \"HLT\","
                + " \"interruption\": \"0x80000b0e\"}}")).line())
                .contains("expect.interruption: does not apply to reason HLT");
        assertThat(error(scenario("{\"op\": \"hlt\", \"expect\": {\"result\": \"retired\", \"cr2\": 0}}")).line())
                .contains("step 1 (hlt): expect: unknown field \"cr2\"; known fields: result, value");
        assertThat(error(scenario("{\"op\": \"hlt\", \"expect\": {\"result\": \"exit\"}}")).line())
                .contains("expect.result: \"exit\" is not one of delivered, retired, vmExit");
    }

    @Test
    void vmcsFieldsAreCheckedByName() {
        assertThat(error(scenario("{\"op\": \"vmcs\", \"primary\": {\"hltExitng\": true}}")).line())
                .contains("step 1 (vmcs): primary: unknown field \"hltExitng\" (did you mean \"hltExiting\"?)");
        assertThat(error(scenario("{\"op\": \"vmcs\"}")).line())
                .contains("step 1 (vmcs): vmcs step needs at least one of: pinBased, primary, secondary");
        assertThat(error(scenario("{\"op\": \"vmcs\", \"msrBitmap\": {\"read\": [\"0x40000000\"]}}")).line())
                .contains("msrBitmap.read[0]: 0x40000000 is not covered by the MSR bitmap");
        assertThat(error(scenario("{\"op\": \"vmcs\", \"cr3TargetValues\": [1, 2, 3, 4, 5, 6, 7, 8, 9]}")).line())
                .contains("cr3TargetValues: 9 values; at most 8 in a file");
        assertThat(error(scenario("{\"op\": \"vmcs\", \"vpid\": 65536}")).line())
                .contains("vpid: 65536 is outside 0..65535 (16 bits)");
        assertThat(error(scenario("{\"op\": \"vmcs\", \"eptp\": {\"raw\": 0, \"frame\": 20}}")).line())
                .contains("eptp.frame: \"raw\" gives every bit of the EPTP; it cannot be combined with \"frame\"");
        assertThat(error(scenario("{\"op\": \"vmcs\", \"host\": {\"cpl\": 3}}")).line())
                .contains("host: no \"cpl\" here: the host-state area has no CPL, RFLAGS or PKRU");
    }

    @Test
    void guestInstructionOperandsAreChecked() {
        assertThat(error(scenario("{\"op\": \"io\", \"port\": \"0x3f8\", \"size\": 1, \"direction\": \"out\","
                + " \"immediate\": true}")).line()).contains("port: 0x3f8 cannot be an immediate operand");
        assertThat(error(scenario("{\"op\": \"io\", \"port\": 96, \"size\": 1, \"direction\": \"in\", \"rep\":"
                + " true}")).line()).contains("rep: a REP prefix repeats a string instruction");
        assertThat(error(scenario("{\"op\": \"io\", \"port\": 96, \"size\": 1, \"direction\": \"in\", \"value\":"
                + " 1}")).line()).contains("value: only an OUT has a value");
        assertThat(error(scenario("{\"op\": \"io\", \"port\": 96, \"size\": 1, \"direction\": \"out\", \"value\":"
                + " 256}")).line()).contains("value: 0x100 does not fit in 8 bits");
        assertThat(error(scenario("{\"op\": \"io\", \"port\": 96, \"size\": 3, \"direction\": \"in\"}")).line())
                .contains("size: 3 is not an I/O access size");
        assertThat(error(scenario("{\"op\": \"guestMovToCr\", \"cr\": 2, \"value\": 0}")).line())
                .contains("cr: CR2 is not modelled: cr is 0, 3 or 4");
        assertThat(error(scenario("{\"op\": \"guestAccess\", \"linear\": 4, \"kind\": \"read\"}")).line())
                .contains("linear: 0x4 is not 8-byte aligned");
        assertThat(error(scenario("{\"op\": \"invvpid\", \"type\": \"singleContext\", \"vpid\": 1, \"linear\":"
                + " 0}")).line()).contains("linear: only the individualAddress type uses the descriptor's linear");
        assertThat(error(scenario("{\"op\": \"invvpid\", \"type\": \"individualAddress\", \"vpid\": 1}")).line())
                .contains("missing required field \"linear\" in invvpid step");
        assertThat(error(scenario("{\"op\": \"invept\", \"type\": \"singleContext\"}")).line())
                .contains("missing required field \"eptp\" in invept step");
        assertThat(error(scenario("{\"op\": \"ept\", \"table\": 1, \"index\": 0, \"entry\": {\"raw\": 7,"
                + " \"read\": true}}")).line()).contains("entry.read: \"raw\" gives every bit of the entry");
        assertThat(error(scenario("{\"op\": \"ept\", \"table\": 1, \"index\": 0, \"entry\": {\"memoryType\":"
                + " 8}}")).line()).contains("entry.memoryType: 8 is outside 0..7");
    }

    // ------------------------------------------------------------------ the VMX mode

    @Test
    void aGuestInstructionInRootOperationIsUnusableInput() {
        Replay r = replay(scenario("{\"op\": \"cpuid\", \"leaf\": 0}"));
        assertThat(r.verdict()).isEqualTo(Verdict.UNUSABLE);
        assertThat(r.error().line()).isEqualTo("t.json:4:1: error: step 1 (cpuid): cpuid is a guest instruction:"
                + " it runs only in VMX non-root operation; enter the guest with vmlaunch");
        Replay afterExit = replay(inGuest("{\"op\": \"vmcall\"}", "{\"op\": \"hlt\"}"));
        assertThat(afterExit.error().line()).contains("step 8 (hlt): hlt is a guest instruction: it runs only in"
                + " VMX non-root operation; enter the guest with vmresume");
    }

    @Test
    void theBareProcessorOpsAreRefusedInNonRootOperationNamingTheGuestOp() {
        assertThat(replay(inGuest("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\"}")).error().line())
                .isEqualTo("t.json:10:1: error: step 7 (access): access runs on the bare processor and is refused in"
                        + " VMX non-root operation: the guest's accesses are guestAccess steps");
        assertThat(replay(inGuest("{\"op\": \"invlpg\", \"linear\": 0}")).error().message())
                .endsWith("the guest's INVLPG is guestInvlpg");
        assertThat(replay(inGuest("{\"op\": \"movToCr3\", \"value\": \"0x1000\"}")).error().message())
                .endsWith("the guest's MOV to CR3 is guestMovToCr with \"cr\": 3");
        assertThat(replay(inGuest("{\"op\": \"cpu\", \"cpl\": 3}")).error().message())
                .contains("set the guest's registers with vmcs \"guest\" before the VM entry");
    }

    @Test
    void theHypervisorsOpsAreRefusedInNonRootOperation() {
        assertThat(replay(inGuest("{\"op\": \"vmcs\", \"vpid\": 1}")).error().line())
                .contains("step 7 (vmcs): vmcs writes the VMCS, which the hypervisor does in VMX root operation;"
                        + " the processor is in VMX non-root operation");
        assertThat(replay(inGuest("{\"op\": \"vmresume\"}")).error().message())
                .startsWith("VMRESUME enters a guest from VMX root operation").endsWith("e.g. with vmcall");
        assertThat(replay(inGuest("{\"op\": \"invept\", \"type\": \"allContext\"}")).error().message())
                .startsWith("INVEPT is executed by the hypervisor in VMX root operation");
    }

    @Test
    void aGuestStateTheReferenceCannotHoldIsUnusableInputWithItsMessage() {
        Replay r = replay(scenario("{\"op\": \"vmcs\", \"guest\": {\"cr0\": {\"pe\": false}}}"));
        assertThat(r.error().line()).isEqualTo("t.json:4:1: error: step 1 (vmcs): guest: CR0.PG = 1 with CR0.PE = 0"
                + " is not a reachable state (SDM 2.5)");
    }

    // ------------------------------------------------------------------ running

    @Test
    void aCplOverrideLastsOneAccessAlsoWhenItExits() {
        Replay r = replay(inGuest(
                "{\"op\": \"guestAccess\", \"linear\": \"0x1000\", \"kind\": \"read\", \"cpl\": 3, \"expect\":"
                        + " {\"result\": \"delivered\", \"vector\": 14, \"errorCode\": \"0x4\", \"cr2\": \"0x1000\"}}",
                "{\"op\": \"expectCpu\", \"cpl\": 0}",
                "{\"op\": \"vmcall\"}",
                "{\"op\": \"vmcs\", \"exceptionBitmap\": \"0x4000\"}",
                "{\"op\": \"vmresume\"}",
                "{\"op\": \"guestAccess\", \"linear\": \"0x1000\", \"kind\": \"read\", \"cpl\": 3, \"expect\":"
                        + " {\"result\": \"vmExit\", \"reason\": \"EXCEPTION_OR_NMI\", \"qualification\": \"0x1000\"}}",
                "{\"op\": \"expectVmcs\", \"guest\": {\"cpl\": 0}}"));
        assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.PASSED);
    }

    @Test
    void aWrongReasonIsReportedAloneAndTheOtherFieldsAreNotCompared() {
        Replay r = replay(inGuest("{\"op\": \"vmcall\", \"expect\": {\"result\": \"vmExit\", \"reason\": \"CPUID\","
                + " \"qualification\": 5}}"));
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(r.failedSteps().get(0).result().checks()).extracting(Check::toString).containsExactly(
                "result: expected vmExit, observed vmExit", "reason: expected CPUID (10), observed VMCALL (18)");
    }

    @Test
    void expectVmcsBeforeAnyExitFailsItsExitCheck() {
        Replay r = replay(scenario("{\"op\": \"expectVmcs\", \"mode\": \"root\", \"launched\": false, \"exit\":"
                + " {\"reason\": \"VMCALL\"}}"));
        assertThat(r.failedSteps().get(0).result().checks()).filteredOn(c -> !c.holds()).singleElement()
                .hasToString("exit: expected a VM exit, observed none yet");
    }

    @Test
    void expectTlbFindsAGuestTranslationUnderItsVpidOnly() {
        Replay r = replay(scenario(FOUR_LEVELS, PTE, "{\"op\": \"vmcs\", \"primary\": {\"activateSecondaryControls\":"
                        + " true}, \"secondary\": {\"enableVpid\": true}, \"vpid\": 3, \"guest\": {\"cr3\": {\"frame\":"
                        + " 1}}}", LAUNCH,
                "{\"op\": \"guestAccess\", \"linear\": \"0x8\", \"kind\": \"read\", \"expect\": {\"result\":"
                        + " \"retired\"}}",
                "{\"op\": \"expectTlb\", \"linear\": 0, \"vpid\": 3, \"cached\": true, \"physical\": \"0x9000\"}",
                "{\"op\": \"expectTlb\", \"linear\": 0, \"cached\": false}"));
        assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.PASSED);
    }
}
