package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestState;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.Pcpu;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Each guest keeps its own CR2 and PKRU while other vCPUs run on its pCPU (Xen rule CTX-1), and WRPKRU/RDPKRU in the
 * guest do what the instruction reference says (Intel SDM Vol. 2D WRPKRU, Vol. 2B RDPKRU). The six vCPUs of the
 * hypervisor property's machine (a direct, a HAP and a shadow domain, two vCPUs each) share one pCPU or are spread
 * over two, each with CR4.PKE on or off; a run interleaves WRPKRU (EAX from the rights that matter, now and then a
 * non-zero ECX or EDX), RDPKRU, accesses that fault (a #PF delivered in the guest or injected by the hypervisor
 * writes the guest's CR2) and migrations between the pCPUs.
 *
 * <p>The property keeps, from the outcomes alone, what each guest's CR2 and PKRU must be: its PKRU is the EAX of its
 * last WRPKRU that retired, its CR2 the address of its last #PF. It judges each WRPKRU and RDPKRU by the SDM (#UD
 * while CR4.PKE = 0, then #GP(0) for a non-zero ECX or EDX, otherwise PKRU := EAX or EAX := PKRU, no VM exit), and
 * after every step, on every pCPU, the live CR2 and PKRU against those of the vCPU whose VMCS is current there. A
 * hypervisor that forgets to save or to load either register at a switch gives one guest another's values.
 */
class ContextSwitchProperties {
    /** One step: {@code vcpu} executes {@code insn}, or (insn null) is moved to pCPU {@code pcpu}. */
    record Op(VcpuId vcpu, GuestInstruction insn, int pcpu) {
        @Override
        public String toString() {
            return vcpu + " " + (insn == null ? "moved to pCPU " + pcpu : insn.toString());
        }
    }

    /** The machine (vCPUs placed, CR4.PKE per vCPU) and the ops. */
    record Run(int pcpus, List<Integer> placement, List<Boolean> pke, List<Op> ops) {
        XenMachine machine() {
            XenMachine m = HypervisorCases.initialMachine(Faults.NONE, pcpus);
            if (!placement.isEmpty()) {
                m = HypervisorCases.placed(m, placement);
            }
            for (int i = 0; i < HypervisorCases.VCPUS.size(); i++) {
                Vcpu v = m.vcpu(HypervisorCases.VCPUS.get(i));
                GuestState g = v.vmcs().guest();
                CpuState cpu = g.cpu().withCr4(g.cpu().cr4().withPke(pke.get(i)));
                m = m.withVcpu(v.withVmcs(v.vmcs().withGuest(new GuestState(cpu, g.rip()))));
            }
            return m;
        }
    }

    /** The EAX values WRPKRU writes: none, AD0, WD0, AD and WD of key 1, every key but 0 denied, all bits. */
    static final long[] PKRU_VALUES = {0, 1, 2, 0xC, 0xFFFF_FFFCL, 0xFFFF_FFFFL, 0x5555_5554L};

    @Provide
    Arbitrary<Run> runs() {
        return JqwikChoices.arbitrary(c -> {
            int pcpus = 1 + c.below(2);
            List<Integer> placement = new ArrayList<>();
            List<Boolean> pke = new ArrayList<>();
            for (int i = 0; i < HypervisorCases.VCPUS.size(); i++) {
                placement.add(pcpus == 1 ? 0 : c.below(pcpus));
                pke.add(c.flag(true, 20));
            }
            int n = 2 + c.below(14);
            List<Op> ops = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // mostly three vCPUs of different domains, so that the pCPU switches between them often
                VcpuId v = HypervisorCases.VCPUS.get(c.flag(true, 25) ? 2 * c.below(3) : c.below(6));
                GuestInstruction insn = switch (c.weighted(35, 30, 25, pcpus == 1 ? 0 : 10)) {
                    case 0 -> new GuestInstruction.Wrpkru(PKRU_VALUES[c.below(PKRU_VALUES.length)],
                            c.flag(false, 10) ? 1 : 0, c.flag(false, 10) ? 0x8000_0000L : 0);
                    case 1 -> new GuestInstruction.Rdpkru(c.flag(false, 10) ? 2 : 0);
                    case 2 -> new GuestInstruction.MemoryAccess(c.flag(true, 40)
                            ? Access.read(c.oneOf(0x4000L, 0x5000L, 0x6000L, 0x7000L, 0x9000L, 0xA000L, 0x40_0000L))
                            : Access.write(c.oneOf(0x5000L, 0x7000L, 0x9000L, 0x40_0000L), 1));
                    default -> null;
                };
                ops.add(new Op(v, insn, insn == null ? c.below(pcpus) : 0));
            }
            return new Run(pcpus, pcpus == 1 ? List.of() : placement, pke, ops);
        });
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void eachGuestKeepsItsOwnCr2AndPkruAsCtx1Says(@ForAll("runs") Run run) {
        XenMachine m = run.machine();
        Map<VcpuId, Long> pkru = new HashMap<>();
        Map<VcpuId, Long> cr2 = new HashMap<>();
        Map<VcpuId, Boolean> pke = new HashMap<>();
        for (int i = 0; i < HypervisorCases.VCPUS.size(); i++) {
            VcpuId v = HypervisorCases.VCPUS.get(i);
            // before any switch each vCPU's values are those of its saved state (the machine was built so)
            pkru.put(v, m.vcpu(v).vmcs().guest().cpu().pkru() & 0xFFFF_FFFFL);
            cr2.put(v, m.vcpu(v).vmcs().guest().cpu().cr2());
            pke.put(v, run.pke().get(i));
        }
        for (Op op : run.ops()) {
            if (op.insn() == null) {
                m = Hypervisor.schedule(m, op.vcpu(), op.pcpu());
                Statistics.label("step").collect("migration");
                liveRegistersAreTheCurrentGuests(m, pkru, cr2, op);
                continue;
            }
            VcpuId v = op.vcpu();
            int q = m.vcpu(v).pcpu();
            java.util.Optional<VcpuId> before = m.pcpu(q).current();
            boolean switched = before.isPresent() && !before.get().equals(v);
            boolean differs = switched && (!pkru.get(before.get()).equals(pkru.get(v))
                    || !cr2.get(before.get()).equals(cr2.get(v)));
            HvStep s = Hypervisor.run(m, v, op.insn());
            VcpuOutcome o = s.outcome();
            if (op.insn() instanceof GuestInstruction.Wrpkru w) {
                String expected = !pke.get(v) ? "#UD" : w.ecx() != 0 || w.edx() != 0 ? "#GP(0)" : "retired";
                Statistics.label("WRPKRU").collect(expected);
                assertException(op, o, expected);
                if (expected.equals("retired")) {
                    pkru.put(v, w.eax() & 0xFFFF_FFFFL);
                }
            } else if (op.insn() instanceof GuestInstruction.Rdpkru r) {
                String expected = !pke.get(v) ? "#UD" : r.ecx() != 0 ? "#GP(0)" : "retired";
                Statistics.label("RDPKRU").collect(expected + (expected.equals("retired") && differs
                        ? " after another guest with other values ran there" : ""));
                assertException(op, o, expected);
                if (expected.equals("retired")) {
                    assertThat(((VcpuOutcome.Retired) o).value()).as("%s: RDPKRU reads the guest's own PKRU (CTX-1)"
                            + " in %s", op, run).isEqualTo(pkru.get(v));
                }
            } else {
                Statistics.label("access").collect(o.getClass().getSimpleName());
            }
            if (o instanceof VcpuOutcome.Delivered d && d.vector() == 14) {
                cr2.put(v, d.cr2());
            } else if (o instanceof VcpuOutcome.Injected inj && inj.vector() == 14) {
                cr2.put(v, inj.cr2());
            }
            m = s.machine();
            liveRegistersAreTheCurrentGuests(m, pkru, cr2, op);
            Statistics.label("switch").collect(!switched ? "same vCPU" : differs ? "to a guest with other values"
                    : "to a guest with the same values");
        }
        Statistics.label("WRPKRU").coverage(cov -> {
            cov.check("#UD").count(k -> k >= 20);
            cov.check("#GP(0)").count(k -> k >= 20);
            cov.check("retired").count(k -> k >= 300);
        });
        Statistics.label("RDPKRU").coverage(cov -> {
            cov.check("#UD").count(k -> k >= 20);
            cov.check("#GP(0)").count(k -> k >= 20);
            cov.check("retired after another guest with other values ran there").count(k -> k >= 50);
        });
        Statistics.label("switch").coverage(cov -> cov.check("to a guest with other values").count(k -> k >= 200));
        Statistics.label("access").coverage(cov -> {
            cov.check("Delivered").count(k -> k >= 20);
            cov.check("Injected").count(k -> k >= 20);
        });
    }

    /**
     * The outcome of a WRPKRU or RDPKRU: neither exits on its own (SDM Vol. 3C §25.1 names no control for them), so
     * a #UD or #GP(0) is delivered in the guest or, when the hypervisor intercepts the vector, reflected into it
     * (vector 6 without an error code, vector 13 with error code 0); otherwise the instruction retires.
     */
    private static void assertException(Op op, VcpuOutcome o, String expected) {
        switch (expected) {
            case "#UD" -> assertThat(vector(o)).as("%s → %s", op, o).isEqualTo(6);
            case "#GP(0)" -> {
                assertThat(vector(o)).as("%s → %s", op, o).isEqualTo(13);
                assertThat(errorCode(o)).as("%s → %s", op, o).isZero();
            }
            default -> assertThat(o).as("%s", op).isInstanceOf(VcpuOutcome.Retired.class);
        }
    }

    private static int vector(VcpuOutcome o) {
        return o instanceof VcpuOutcome.Delivered d ? d.vector() : o instanceof VcpuOutcome.Injected i ? i.vector()
                : -1;
    }

    private static int errorCode(VcpuOutcome o) {
        return o instanceof VcpuOutcome.Delivered d ? d.errorCode() : ((VcpuOutcome.Injected) o).errorCode();
    }

    /** CTX-1 over the hardware: every pCPU's live CR2 and PKRU are those of the vCPU current there. */
    private static void liveRegistersAreTheCurrentGuests(XenMachine m, Map<VcpuId, Long> pkru, Map<VcpuId, Long> cr2,
            Op op) {
        for (int q = 0; q < m.pcpuCount(); q++) {
            Pcpu p = m.pcpu(q);
            if (p.current().isEmpty()) {
                continue;
            }
            VcpuId c = p.current().get();
            assertThat(p.cpu().pkru() & 0xFFFF_FFFFL).as("after %s: pCPU %d's PKRU is %s's (CTX-1)", op, q, c)
                    .isEqualTo(pkru.get(c));
            assertThat(p.cpu().cr2()).as("after %s: pCPU %d's CR2 is %s's (CTX-1)", op, q, c).isEqualTo(cr2.get(c));
        }
    }
}
