package org.hybridv.scenario.xen;

import java.util.Map;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Hypercall;

/**
 * The steps of the hypervisor layer: one record per op, each made by {@link XenDecoders} and run by
 * {@link XenExecutors}. Expectations are kept as the expected renderings of the outcome's facts (decoded and
 * range-checked by type first), compared with the observed renderings one by one.
 */
public sealed interface XenStep extends Step permits XenStep.DomainPte, XenStep.ExpectDomainEntry,
        XenStep.HypercallStep, XenStep.GuestStep, XenStep.CheckInvariants, XenStep.ExpectFrame {

    /** {@code domainPte}: a store into machine memory by the domain builder, unchecked (no type, no TLB). */
    record DomainPte(long table, int index, Entry entry) implements XenStep {
        @Override
        public String op() {
            return "domainPte";
        }

        @Override
        public String describe() {
            return "frame " + Render.hex(table) + "[" + index + "] := " + Render.entry(entry);
        }
    }

    /** {@code expectDomainEntry}: the quadword at {@code table[index]} of machine memory equals {@code entry}. */
    record ExpectDomainEntry(long table, int index, Entry entry) implements XenStep {
        @Override
        public String op() {
            return "expectDomainEntry";
        }

        @Override
        public String describe() {
            return "frame " + Render.hex(table) + "[" + index + "]";
        }
    }

    /**
     * {@code hypercall}: vCPU {@code vcpu} of domain {@code domain} executes VMCALL with {@code call}'s registers.
     *
     * @param name   the hypercall's name as written ({@code mmu_update} …)
     * @param args   the arguments in words, for the trace
     * @param cpl    the guest CPL for this step only, or null
     * @param expect expected fact renderings by name ({@code result}, {@code errno}, {@code rule}); empty: none
     */
    record HypercallStep(int domain, int vcpu, String name, Hypercall call, String args, Integer cpl,
            Map<String, String> expect) implements XenStep {
        public HypercallStep {
            expect = Map.copyOf(expect);
        }

        @Override
        public String op() {
            return "hypercall";
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + (cpl == null ? "" : " at CPL " + cpl) + " " + name + " " + args;
        }
    }

    /**
     * {@code guest}: vCPU {@code vcpu} of domain {@code domain} executes one instruction; it retires, raises an
     * exception delivered to the guest, or exits to the hypervisor, which handles it.
     */
    record GuestStep(int domain, int vcpu, String insn, GuestInstruction instruction, Integer cpl, String text,
            Map<String, String> expect) implements XenStep {
        public GuestStep {
            expect = Map.copyOf(expect);
        }

        @Override
        public String op() {
            return "guest";
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + (cpl == null ? "" : " at CPL " + cpl) + " " + text;
        }
    }

    /** {@code checkInvariants}: I1 and I2 evaluated; {@code expect} maps I1/I2 to "holds" or "violated". */
    record CheckInvariants(Map<String, String> expect) implements XenStep {
        public CheckInvariants {
            expect = Map.copyOf(expect);
        }

        @Override
        public String op() {
            return "checkInvariants";
        }

        @Override
        public String describe() {
            return "I1 isolation, I2 page-table integrity, I6 TLB coherence, I7 exit correctness";
        }
    }

    /** {@code expectFrame}: the frame table's entry for {@code mfn}; {@code expect} as renderings by field. */
    record ExpectFrame(long mfn, Map<String, String> expect) implements XenStep {
        public ExpectFrame {
            expect = Map.copyOf(expect);
        }

        @Override
        public String op() {
            return "expectFrame";
        }

        @Override
        public String describe() {
            return "frame " + Render.hex(mfn);
        }
    }
}
