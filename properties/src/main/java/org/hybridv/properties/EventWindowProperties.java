package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.EventDelivery;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.VcpuPv;
import org.hybridv.xen.XenMachine;

/**
 * The upcall's way into the guest (rule EVT-9, docs/rules/xen.md; Intel SDM Vol. 3C §24.6.2, §25.2, §26.3.1.5,
 * §26.6), each step of a random run judged over raw state — d1 vCPU 0's RFLAGS.IF, its "interrupt-window exiting"
 * control, its injection count, whether it runs, and the upcall-pending byte of its {@code vcpu_info} in the
 * shared-info page: CLI clears IF and nothing else, without an exit; STI sets IF, and exits (reason 7, one exit, the
 * control cleared, the vCPU back in root operation) exactly when IF was 0, the control set and the vCPU running;
 * a VM entry of a vCPU with upcall-pending and a callback vector injects (one more injection, IF cleared, the control
 * clear) when IF is 1 and otherwise sets the control, and does nothing without upcall-pending. The runs mix events
 * from d2, CLI, STI, guest accesses (which enter the vCPU when it is not running) and the guest's upcall handler.
 */
class EventWindowProperties {
    private static final VcpuId K = HypervisorCases.K;
    private static final String[] OPS = {"send from d2", "cli", "sti", "run", "handle upcall"};

    @Provide
    Arbitrary<List<Integer>> runs() {
        return Arbitraries.frequency(net.jqwik.api.Tuple.of(3, 0), net.jqwik.api.Tuple.of(3, 1),
                net.jqwik.api.Tuple.of(4, 2), net.jqwik.api.Tuple.of(4, 3), net.jqwik.api.Tuple.of(1, 4))
                .list().ofMinSize(1).ofMaxSize(14);
    }

    private static boolean upcallPending(XenMachine m) {
        long si = m.pv().domain(1).sharedInfo();
        return si >= 0 && (m.memory().read(si, 0) & 0xFF) != 0; // vcpu_info[0].evtchn_upcall_pending: byte 0
    }

    private static VcpuPv pv(XenMachine m) {
        return m.pv().domain(1).vcpu(0);
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void theUpcallReachesTheGuestAsEvt9Says(@ForAll("runs") List<Integer> run) {
        XenMachine m = PvInterfaceCases.machine(Faults.NONE);
        int vector = m.pv().domain(1).callbackVector();
        for (int op : run) {
            XenMachine pre = m;
            VcpuPv p = pv(pre);
            boolean running = pre.running(K);
            boolean pending = upcallPending(pre);
            String label = OPS[op];
            switch (op) {
                case 0 -> m = Hypervisor.hypercall(pre, HypervisorCases.H, PvInterfaceCases.evtchn(
                        EventChannels.EVTCHNOP_SEND, 1, 0)).machine();
                case 1, 2 -> {
                    boolean sti = op == 2;
                    HvStep st = EventDelivery.setInterruptFlag(pre, K, sti);
                    m = st.machine();
                    boolean exits = sti && !p.interruptFlag() && p.interruptWindowExiting() && running;
                    assertThat(pv(m).interruptFlag()).as("%s leaves IF %s", label, sti).isEqualTo(sti);
                    assertThat(pv(m).upcallsInjected()).as("%s injects nothing", label).isEqualTo(p.upcallsInjected());
                    if (exits) {
                        label = "sti, interrupt-window exit";
                        assertThat(st.outcome()).as("STI with the window control set exits")
                                .isInstanceOf(VcpuOutcome.Resumed.class);
                        assertThat(((VcpuOutcome.Resumed) st.outcome()).reason()).isEqualTo(
                                ExitReason.INTERRUPT_WINDOW);
                        assertThat(st.vmExits()).isEqualTo(1);
                        assertThat(pv(m).interruptWindowExiting()).as("the handler clears the control").isFalse();
                        assertThat(m.running(K)).as("the handler returns to root operation").isFalse();
                    } else {
                        assertThat(st.outcome()).as("%s retires without an exit (IF %s, window %s, running %s)",
                                label, p.interruptFlag(), p.interruptWindowExiting(), running)
                                .isInstanceOf(VcpuOutcome.Retired.class);
                        assertThat(st.vmExits()).isZero();
                        assertThat(pv(m).interruptWindowExiting()).isEqualTo(p.interruptWindowExiting());
                        assertThat(m.running(K)).isEqualTo(running);
                    }
                }
                case 3 -> {
                    boolean entry = !running && !pre.vcpu(K).blocked();
                    m = Hypervisor.run(pre, K, new GuestInstruction.MemoryAccess(Access.read(0x5000))).machine();
                    if (entry && pending && vector != 0) {
                        if (p.interruptFlag()) {
                            label = "entry injects";
                            assertThat(pv(m).upcallsInjected()).as("one injection").isEqualTo(p.upcallsInjected() + 1);
                            assertThat(pv(m).interruptFlag()).as("the interrupt gate clears IF").isFalse();
                            assertThat(pv(m).interruptWindowExiting()).isFalse();
                        } else {
                            label = "entry with IF 0 sets the window";
                            assertThat(pv(m).upcallsInjected()).as("nothing injected with IF 0")
                                    .isEqualTo(p.upcallsInjected());
                            assertThat(pv(m).interruptWindowExiting()).as("interrupt-window exiting set").isTrue();
                            assertThat(pv(m).interruptFlag()).isFalse();
                        }
                    } else {
                        label = entry ? "entry, nothing pending" : "run, no entry";
                        assertThat(pv(m).upcallsInjected()).as("nothing injected (entry %s, pending %s)", entry,
                                pending).isEqualTo(p.upcallsInjected());
                        assertThat(pv(m).interruptFlag()).isEqualTo(p.interruptFlag());
                        assertThat(pv(m).interruptWindowExiting()).isEqualTo(p.interruptWindowExiting());
                    }
                }
                default -> m = EventChannels.guestHandleUpcall(pre, K);
            }
            Statistics.label("step").collect(label);
        }
        Statistics.label("step").coverage(c -> {
            for (String s : new String[] {"sti, interrupt-window exit", "entry injects",
                "entry with IF 0 sets the window", "cli", "sti"}) {
                c.check(s).count(n -> n >= 20);
            }
        });
    }
}
