package org.hybridv.scenario.xen;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Map;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Hex;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;

/**
 * Writes the hypervisor layer's vCPU steps: the inverse of {@link XenDecoders#guest} and {@link XenDecoders#hypercall},
 * with the decoder's own name tables ({@link XenDecoders#MMUEXT}, {@link XenDecoders#UVMF}), so a name exists once and
 * what is written is what is read: for every instruction and hypercall this writes, the decoded step's
 * {@link XenStep.GuestStep#instruction()} or {@link XenStep.HypercallStep#call()} equals it, except that the
 * arguments an mmuext command does not take are not written (the hypervisor never reads them) and read back as 0.
 */
public final class XenWriter {
    private XenWriter() {}

    /** A {@code guest} step: vCPU {@code vcpu} of domain {@code domain} executes {@code insn} (not VMCALL). */
    public static ObjectNode guest(int domain, int vcpu, GuestInstruction insn) {
        ObjectNode s = vcpuStep("guest", domain, vcpu);
        if (insn instanceof GuestInstruction.MemoryAccess a) {
            Access x = a.access();
            s.put("insn", "access").put("linear", Hex.of(x.linear())).put("kind",
                    x.kind().name().toLowerCase(Locale.ROOT));
            if (x.isWrite()) {
                s.put("value", Hex.of(x.value()));
            }
            if (x.implicitSupervisor()) {
                s.put("implicitSupervisor", true);
            }
        } else if (insn instanceof GuestInstruction.MovToCr m && m.register() == 0
                && XenDecoders.MOV_TO_CR.containsValue(m.cr())) {
            s.put("insn", "movToCr" + m.cr()).put("value", Hex.of(m.value()));
        } else if (insn instanceof GuestInstruction.Invlpg i) {
            s.put("insn", "invlpg").put("linear", Hex.of(i.linear()));
        } else if (insn instanceof GuestInstruction.Cpuid c) {
            s.put("insn", "cpuid").put("leaf", Hex.of(c.leaf()));
            if (c.subleaf() != 0) {
                s.put("subleaf", Hex.of(c.subleaf()));
            }
        } else if (insn instanceof GuestInstruction.Rdmsr r) {
            s.put("insn", "rdmsr").put("msr", Hex.of(r.msr()));
        } else if (insn instanceof GuestInstruction.Wrmsr w) {
            s.put("insn", "wrmsr").put("msr", Hex.of(w.msr())).put("value", Hex.of(w.value()));
        } else if (insn instanceof GuestInstruction.Hlt) {
            s.put("insn", "hlt");
        } else {
            throw new IllegalArgumentException("a guest step has no form for " + insn + " (VMCALL is a hypercall"
                    + " step; MOV to CR uses register 0)");
        }
        return s;
    }

    /** A {@code hypercall} step: vCPU {@code vcpu} of domain {@code domain} executes VMCALL with {@code h}. */
    public static ObjectNode hypercall(int domain, int vcpu, Hypercall h) {
        ObjectNode s = vcpuStep("hypercall", domain, vcpu);
        long nr = h.number();
        String cmd = nr == Hypercalls.HYPERVISOR_MMUEXT_OP ? name(XenDecoders.MMUEXT, (int) h.arg(0)) : null;
        String flags = nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING ? name(XenDecoders.UVMF, h.arg(2)) : null;
        if (nr == Hypercalls.HYPERVISOR_MMU_UPDATE) {
            s.put("call", "mmu_update").put("ptr", Hex.of(h.arg(0))).putObject("value").put("raw", Hex.of(h.arg(1)));
        } else if (flags != null) {
            s.put("call", "update_va_mapping").put("va", Hex.of(h.arg(0)));
            s.putObject("value").put("raw", Hex.of(h.arg(1)));
            s.put("flags", flags);
        } else if (cmd != null) {
            s.put("call", "mmuext_op").put("cmd", cmd);
            String arg = XenDecoders.mmuextArgument((int) h.arg(0));
            if (arg != null) {
                s.put(arg, Hex.of(h.arg(1)));
            }
        } else if (h.args().stream().allMatch(a -> a == 0)) {
            s.put("call", "other").put("number", nr);
        } else {
            throw new IllegalArgumentException("a hypercall step has no form for " + h);
        }
        return s;
    }

    /** A {@code checkInvariants} step expecting {@code invariant} (I1, I2, I6, I7) to be {@code word}. */
    public static ObjectNode checkInvariants(String invariant, String word) {
        ObjectNode s = JsonNodeFactory.instance.objectNode().put("op", "checkInvariants");
        s.putObject("expect").put(invariant, word);
        return s;
    }

    private static ObjectNode vcpuStep(String op, int domain, int vcpu) {
        return JsonNodeFactory.instance.objectNode().put("op", op).put("domain", domain).put("vcpu", vcpu);
    }

    private static <V> String name(Map<String, V> table, V value) {
        return table.entrySet().stream().filter(e -> e.getValue().equals(value)).map(Map.Entry::getKey).findFirst()
                .orElse(null);
    }
}
