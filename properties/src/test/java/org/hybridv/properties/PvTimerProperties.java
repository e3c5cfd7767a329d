package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * {@code VCPUOP_set_singleshot_timer} and {@code VCPUOP_stop_singleshot_timer} (rule TIME-2, docs/rules/xen.md), each
 * call judged by the rule restated here over raw state: the return value, d1 vCPU 0's timer deadline, and the
 * pending bit of its VIRQ_TIMER port (port 2) in the shared-info page's {@code evtchn_pending} words. A command the
 * model does not know is -ENOSYS; the timer of another vCPU is -EINVAL; with {@code VCPU_SSHOTTMR_future} a deadline
 * before now is -ETIME; a refusal changes nothing. Otherwise the call returns 0: stop disarms; set arms the deadline,
 * and a deadline already reached (now or before) fires at once — disarmed, the port pending — while a later one
 * leaves the port as it was. The calls come at machine times 3..8, with deadlines from three ticks before now to
 * three after (and far ahead), with and without the flag, on a disarmed or an armed timer.
 */
class PvTimerProperties {
    // Xen's public/errno.h: XEN_ENOSYS 38, XEN_EINVAL 22, XEN_ETIME 62 (returned negated)
    private static final int ENOSYS = 38;
    private static final int EINVAL = 22;
    private static final int ETIME = 62;
    private static final int SET = 10;
    private static final int STOP = 11;
    private static final long FUTURE = 1;
    private static final long NO_DEADLINE = -1;
    /** d1's port bound to VIRQ_TIMER for its vCPU 0 at bring-up ({@code PvInterfaceCases}). */
    private static final int TIMER_PORT = 2;
    /** {@code evtchn_pending} starts at byte 2048 of the shared-info page (2-level ABI): word 256. */
    private static final int PENDING_WORD = 256;

    record Call(long startTime, long armedFirst, long cmd, long vcpuid, long delta, long flags) {}

    @Provide
    Arbitrary<Call> calls() {
        Arbitrary<Long> cmd = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.just((long) SET)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just((long) STOP)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(0, 20)));
        Arbitrary<Long> delta = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(-3, 3)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(4, 1_000_000)));
        return Combinators.combine(Arbitraries.longs().between(3, 8), Arbitraries.longs().between(-1, 4), cmd,
                Arbitraries.frequency(net.jqwik.api.Tuple.of(6, 0L), net.jqwik.api.Tuple.of(1, 1L)), delta,
                Arbitraries.of(0L, FUTURE, FUTURE | 2, 2L)).as(Call::new);
    }

    private static boolean portPending(XenMachine m) {
        long si = m.pv().domain(1).sharedInfo();
        return (m.memory().read(si, PENDING_WORD + TIMER_PORT / 64) >>> (TIMER_PORT % 64) & 1) != 0;
    }

    private static long deadline(XenMachine m) {
        return m.pv().domain(1).vcpu(0).timerDeadline();
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyTimerCallDoesWhatTime2Says(@ForAll("calls") Call c) {
        XenMachine m = VirtualTime.advanceTime(PvInterfaceCases.machine(Faults.NONE), c.startTime());
        if (c.armedFirst() >= 0) {
            // an armed timer first (one tick ahead or more, so it does not fire now)
            m = Hypervisor.hypercall(m, HypervisorCases.K, Hypercall.of(24, SET, 0, m.pv().now() + 1
                    + c.armedFirst(), 0)).machine();
        }
        long now = m.pv().now();
        long requested = now + c.delta();
        XenMachine pre = m;
        boolean pendingBefore = portPending(pre);
        HvStep st = Hypervisor.hypercall(pre, HypervisorCases.K, Hypercall.of(24, c.cmd(), c.vcpuid(), requested,
                c.flags()));
        XenMachine post = st.machine();
        long rax = st.outcome() instanceof VcpuOutcome.HypercallDone d ? d.rax()
                : st.outcome() instanceof VcpuOutcome.HypercallRefused r ? r.rax() : Long.MIN_VALUE;

        int refused = c.cmd() != SET && c.cmd() != STOP ? ENOSYS : c.vcpuid() != 0 ? EINVAL
                : c.cmd() == SET && (c.flags() & FUTURE) != 0 && requested < now ? ETIME : 0;
        String label;
        if (refused != 0) {
            label = "refused " + refused;
            assertThat(rax).as("TIME-2 refuses %s with -%d", c, refused).isEqualTo(-refused);
            assertThat(post.pv()).as("a refusal changes no PV state").isEqualTo(pre.pv());
            assertThat(post.memory()).as("a refusal changes no memory").isEqualTo(pre.memory());
        } else if (c.cmd() == STOP) {
            label = "stop";
            assertThat(rax).isZero();
            assertThat(deadline(post)).as("stop disarms").isEqualTo(NO_DEADLINE);
            assertThat(portPending(post)).as("stop raises nothing").isEqualTo(pendingBefore);
        } else if (requested <= now) {
            label = "fires at once";
            assertThat(rax).isZero();
            assertThat(deadline(post)).as("a reached deadline fires at once and disarms").isEqualTo(NO_DEADLINE);
            assertThat(portPending(post)).as("VIRQ_TIMER's port pending after %s", c).isTrue();
        } else {
            label = "armed";
            assertThat(rax).isZero();
            assertThat(deadline(post)).as("armed for the deadline").isEqualTo(requested);
            assertThat(portPending(post)).as("nothing fires before the deadline").isEqualTo(pendingBefore);
        }
        assertThat(post.pv().now()).as("no call moves time").isEqualTo(now);
        Statistics.label("outcome").collect(label + (requested == now ? " (deadline = now)" : ""));
        Statistics.label("outcome").coverage(k -> {
            for (String s : new String[] {"refused 38", "refused 22", "refused 62", "stop", "fires at once",
                "fires at once (deadline = now)", "armed"}) {
                k.check(s).count(n -> n >= 20);
            }
        });
    }
}
