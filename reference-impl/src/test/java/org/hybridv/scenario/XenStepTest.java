package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.scenario.hybrid.HybridStep;
import org.hybridv.scenario.modules.Modules;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.junit.jupiter.api.Test;

/**
 * Every form of the {@code guest}, {@code hypercall} and {@code kernel} steps (docs/scenario-format.md, Hypervisor and
 * Hybrid kernel) made by the records' factories and written by the registry's mapper reads back as the instruction,
 * hypercall or kernel operation it was made from, and as the same record — including the forms no generator produces
 * yet (MOV to CR4, every mmuext command, every update_va_mapping flag), so a factory that names one wrongly fails here.
 */
class XenStepTest {
    private static final OperationRegistry REGISTRY = Modules.standard();

    private static String write(Step step) {
        try {
            return REGISTRY.mapper().writeValueAsString(step);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    /** The steps read back from {@code steps} written into a scenario on the machine of {@link XenScenarioTest}. */
    private static List<Step> readBack(List<? extends Step> steps) {
        List<Step> read = new ArrayList<>();
        ScenarioText.parsed(XenScenarioTest.xen(XenScenarioTest.D1, steps.stream().map(XenStepTest::write)
                .toArray(String[]::new))).steps().forEach(n -> read.add(n.step()));
        assertThat(read).isEqualTo(steps);
        return read;
    }

    @Test
    void everyGuestInstructionReadsBackAsWritten() {
        List<GuestInstruction> insns = List.of(new GuestInstruction.MovToCr(0, 0x80000011L, 0),
                new GuestInstruction.MovToCr(3, 0x18000, 0), new GuestInstruction.MovToCr(4, 0x20, 0),
                new GuestInstruction.MemoryAccess(Access.read(0x2028)),
                new GuestInstruction.MemoryAccess(Access.write(0x2028, 0x17003)),
                new GuestInstruction.MemoryAccess(new Access(0x1000, AccessKind.READ, true, 0)),
                new GuestInstruction.MemoryAccess(Access.fetch(0x3000)), new GuestInstruction.Invlpg(0x1000),
                new GuestInstruction.Cpuid(0x40000000L, 0), new GuestInstruction.Cpuid(7, 1),
                new GuestInstruction.Rdmsr(0x40000000L), new GuestInstruction.Wrmsr(0x40000000L, 0x15000),
                new GuestInstruction.Hlt());
        List<Step> read = readBack(insns.stream().map(i -> XenStep.Guest.of(1, 0, i)).toList());
        for (int i = 0; i < insns.size(); i++) {
            XenStep.Guest g = (XenStep.Guest) read.get(i);
            assertThat(g.instruction()).isEqualTo(insns.get(i));
            assertThat(List.of(g.domain(), g.vcpu())).isEqualTo(List.of(1, 0));
        }
    }

    @Test
    void everyHypercallFormReadsBackAsWritten() {
        List<Hypercall> calls = new ArrayList<>(List.of(Hypercall.mmuUpdate(0x13008, 0x17003), Hypercall.of(29),
                Hypercall.of(4096)));
        for (long flags : List.of(Hypercalls.UVMF_NONE, Hypercalls.UVMF_TLB_FLUSH, Hypercalls.UVMF_INVLPG,
                Hypercalls.UVMF_TLB_FLUSH | Hypercalls.UVMF_ALL, Hypercalls.UVMF_INVLPG | Hypercalls.UVMF_ALL)) {
            calls.add(Hypercall.updateVaMapping(0x1000, 0x15007, flags));
        }
        // the commands with an mfn, with a linear address, and without an argument (Xen's public mmuext)
        for (int cmd : List.of(Hypercalls.MMUEXT_PIN_L1_TABLE, Hypercalls.MMUEXT_PIN_L2_TABLE,
                Hypercalls.MMUEXT_PIN_L3_TABLE, Hypercalls.MMUEXT_PIN_L4_TABLE, Hypercalls.MMUEXT_UNPIN_TABLE,
                Hypercalls.MMUEXT_NEW_BASEPTR, Hypercalls.MMUEXT_MARK_SUPER, Hypercalls.MMUEXT_UNMARK_SUPER)) {
            calls.add(Hypercall.mmuextOp(cmd, 0x18));
        }
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_INVLPG_LOCAL, 0x1000));
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_INVLPG_ALL, 0x2000));
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0));
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_ALL, 0));
        List<Step> read = readBack(calls.stream().map(h -> XenStep.Hypercall.of(1, 0, h)).toList());
        for (int i = 0; i < calls.size(); i++) {
            assertThat(((XenStep.Hypercall) read.get(i)).hypercall()).isEqualTo(calls.get(i));
        }
    }

    @Test
    void theWrittenFormIsTheDocumentedOne() {
        assertThat(write(XenStep.Hypercall.of(1, 0, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, 24))))
                .isEqualTo("{\"op\":\"hypercall\",\"domain\":1,\"vcpu\":0,\"call\":\"mmuext_op\",\"cmd\":\"pinL4Table\","
                        + "\"mfn\":24}");
        assertThat(write(XenStep.Hypercall.of(1, 0, Hypercall.updateVaMapping(0x1000, 0x15007,
                Hypercalls.UVMF_INVLPG | Hypercalls.UVMF_ALL)))).isEqualTo("{\"op\":\"hypercall\",\"domain\":1,"
                        + "\"vcpu\":0,\"call\":\"update_va_mapping\",\"value\":{\"raw\":\"0x15007\"},\"va\":\"0x1000\","
                        + "\"flags\":\"invlpgAll\"}");
        assertThat(write(XenStep.Guest.of(1, 0, new GuestInstruction.MemoryAccess(Access.write(0x2028, 5)))))
                .isEqualTo("{\"op\":\"guest\",\"domain\":1,\"vcpu\":0,\"insn\":\"access\",\"linear\":\"0x2028\","
                        + "\"kind\":\"write\",\"value\":\"0x5\"}");
        assertThat(write(XenStep.CheckInvariants.of("I6", XenStep.InvariantState.VIOLATED)))
                .isEqualTo("{\"op\":\"checkInvariants\",\"expect\":{\"I6\":\"violated\"}}");
        assertThat(write(HybridStep.Kernel.of(new GuestOp.SwitchMmu(SwitchRoot.EXPLICIT, 0x30, true, false))))
                .isEqualTo("{\"op\":\"kernel\",\"do\":\"switchMmu\",\"root\":\"explicit\",\"mfn\":48,"
                        + "\"fromUser\":true}");
        assertThat(write(HybridStep.CheckHybrid.of("I5", XenStep.InvariantState.VIOLATED)))
                .isEqualTo("{\"op\":\"checkHybrid\",\"expect\":{\"I5\":\"violated\"}}");
    }

    @Test
    void everyKernelOperationReadsBackAsWritten() {
        List<GuestOp> ops = List.of(new GuestOp.Boot(BootStage.DIRECT), new GuestOp.NewProcess(),
                new GuestOp.SwitchTo(2), new GuestOp.Map(7, false), new GuestOp.Map(8, true), new GuestOp.Unmap(7),
                new GuestOp.UserAccess(0x400008, AccessKind.WRITE, 0x42),
                new GuestOp.UserAccess(0x400008, AccessKind.READ, 0),
                new GuestOp.KernelAccess(0x1000, AccessKind.FETCH, 0), new GuestOp.Syscall(), new GuestOp.Idle(),
                new GuestOp.SwitchMmu(SwitchRoot.KERNEL_BUILT, 0, false, false),
                new GuestOp.SwitchMmu(SwitchRoot.FOREIGN_FRAME, 0x21, false, true),
                new GuestOp.SwitchMmu(SwitchRoot.XEN_SLOT, 0, true, false));
        String machine = "\"machine\": {\"memoryFrames\": 1, \"maxPhysAddr\": 40, \"kernel\": {\"platform\":"
                + " \"shadow\"}}";
        List<HybridStep.Kernel> steps = ops.stream().map(HybridStep.Kernel::of).toList();
        String text = "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\", " + machine + ", \"steps\": ["
                + String.join(",\n", steps.stream().map(XenStepTest::write).toList()) + "]}";
        List<Step> read = ScenarioText.parsed(text).steps().stream().map(NumberedStep::step).toList();
        assertThat(read).isEqualTo(steps);
        for (int i = 0; i < ops.size(); i++) {
            assertThat(((HybridStep.Kernel) read.get(i)).operation()).isEqualTo(ops.get(i));
        }
    }

    @Test
    void whatTheFormatCannotSayIsRefusedNotWrittenWrongly() {
        assertThatThrownBy(() -> XenStep.Guest.of(1, 0, new GuestInstruction.MovToCr(8, 0, 0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenStep.Guest.of(1, 0, new GuestInstruction.MovToCr(3, 0, 2)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenStep.Guest.of(1, 0, new GuestInstruction.Vmcall()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenStep.Hypercall.of(1, 0, Hypercall.of(29, 5)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenStep.Hypercall.of(1, 0, Hypercall.updateVaMapping(0x1000, 0, 0x7)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
