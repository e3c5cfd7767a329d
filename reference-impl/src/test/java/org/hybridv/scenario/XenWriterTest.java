package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.scenario.xen.XenWriter;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.junit.jupiter.api.Test;

/**
 * Every form of the {@code guest} and {@code hypercall} steps (docs/scenario-format.md, Hypervisor) written by
 * {@link XenWriter} reads back as the instruction or hypercall written — including the forms no generator produces yet
 * (MOV to CR4, every mmuext command, every update_va_mapping flag), so a writer that names one wrongly fails here.
 */
class XenWriterTest {
    private static List<NumberedStep> readBack(List<ObjectNode> steps) {
        List<String> text = new ArrayList<>();
        steps.forEach(s -> text.add(s.toString()));
        return ScenarioText.parsed(XenScenarioTest.xen(XenScenarioTest.D1, text.toArray(String[]::new))).steps();
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
        List<NumberedStep> read = readBack(insns.stream().map(i -> XenWriter.guest(1, 0, i)).toList());
        for (int i = 0; i < insns.size(); i++) {
            XenStep.GuestStep g = (XenStep.GuestStep) read.get(i).step();
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
        // the commands with an mfn, with a linear address, and without an argument (SDM-free: Xen's public mmuext)
        for (int cmd : List.of(Hypercalls.MMUEXT_PIN_L1_TABLE, Hypercalls.MMUEXT_PIN_L2_TABLE,
                Hypercalls.MMUEXT_PIN_L3_TABLE, Hypercalls.MMUEXT_PIN_L4_TABLE, Hypercalls.MMUEXT_UNPIN_TABLE,
                Hypercalls.MMUEXT_NEW_BASEPTR, Hypercalls.MMUEXT_MARK_SUPER, Hypercalls.MMUEXT_UNMARK_SUPER)) {
            calls.add(Hypercall.mmuextOp(cmd, 0x18));
        }
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_INVLPG_LOCAL, 0x1000));
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_INVLPG_ALL, 0x2000));
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0));
        calls.add(Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_ALL, 0));
        List<NumberedStep> read = readBack(calls.stream().map(h -> XenWriter.hypercall(1, 0, h)).toList());
        for (int i = 0; i < calls.size(); i++) {
            assertThat(((XenStep.HypercallStep) read.get(i).step()).call()).isEqualTo(calls.get(i));
        }
    }

    @Test
    void whatTheFormatCannotSayIsRefusedNotWrittenWrongly() {
        assertThatThrownBy(() -> XenWriter.guest(1, 0, new GuestInstruction.MovToCr(8, 0, 0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenWriter.guest(1, 0, new GuestInstruction.MovToCr(3, 0, 2)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenWriter.guest(1, 0, new GuestInstruction.Vmcall()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenWriter.hypercall(1, 0, Hypercall.of(29, 5)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XenWriter.hypercall(1, 0, Hypercall.updateVaMapping(0x1000, 0, 0x7)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
