package org.hybridv.check;

import java.util.Map;
import org.hybridv.xen.EventChannel;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * The PV timer and idle (rules TIME-1 and TIME-3, docs/rules/xen.md) stated over one step's raw state — machine time,
 * each vCPU's single-shot deadline and blocked flag, each domain's ports, and the {@code evtchn_pending} bits and
 * {@code evtchn_upcall_pending} bytes of the shared-info pages — never by calling the code they check.
 * <ul>
 * <li>TIME-1 ({@code send_timer_event}): advancing time by t moves it by exactly t; a vCPU whose timer was armed
 * for a deadline now reached is disarmed (a timer fires once) and its port bound to {@code VIRQ_TIMER}, if it has
 * one, is pending; a timer whose deadline is still ahead stays armed and raises nothing.</li>
 * <li>TIME-3 ({@code SCHEDOP_block}, {@code vcpu_block_enable_events}; {@code hvm_hlt}): the vCPU is blocked afterwards
 * exactly when no upcall was pending for it; memory, time and the ports do not change.</li>
 * </ul>
 */
public final class TimeRules {
    private TimeRules() {}

    /** The {@code VIRQ_TIMER} number ({@code xen/include/public/xen.h}). */
    static final int VIRQ_TIMER = 0;
    /** {@code evtchn_pending} starts at byte 2048 of the shared-info page (2-level ABI): 64-bit word 256. */
    static final int PENDING_WORD = 256;
    /** {@code vcpu_info} is 64 bytes: 8 words each, {@code evtchn_upcall_pending} the first byte of its first. */
    static final int VCPU_INFO_WORDS = 8;
    private static final long NO_DEADLINE = -1;

    /** Whether {@code port} of domain {@code d} is pending in {@code m}'s shared-info page. */
    static boolean portPending(XenMachine m, int d, int port) {
        long si = m.pv().domain(d).sharedInfo();
        return si >= 0 && (m.memory().read(si, PENDING_WORD + port / 64) >>> (port % 64) & 1) != 0;
    }

    /** Whether {@code evtchn_upcall_pending} of vCPU {@code v} is set in its domain's shared-info page. */
    static boolean upcallPending(XenMachine m, VcpuId v) {
        long si = m.pv().domain(v.domain()).sharedInfo();
        return si >= 0 && v.vcpu() < 32 && (m.memory().read(si, v.vcpu() * VCPU_INFO_WORDS) & 0xFF) != 0;
    }

    /** The port of domain {@code d} bound to {@code VIRQ_TIMER} of its vCPU {@code vcpu}, or 0. */
    static int timerPort(XenMachine m, int d, int vcpu) {
        for (Map.Entry<Integer, EventChannel> e : m.pv().domain(d).ports().entrySet()) {
            if (e.getValue() instanceof EventChannel.Virq v && v.virq() == VIRQ_TIMER && v.notifyVcpu() == vcpu) {
                return e.getKey();
            }
        }
        return 0;
    }

    /** TIME-1 over advancing time by {@code ticks} from {@code pre} to {@code post}: what is wrong, or null. */
    public static String advance(XenMachine pre, XenMachine post, long ticks) {
        long now = pre.pv().now() + ticks;
        if (post.pv().now() != now) {
            return "time went from " + pre.pv().now() + " to " + post.pv().now() + " by " + ticks + " ticks (TIME-1)";
        }
        for (int d : pre.pv().domains().keySet()) {
            for (int i : pre.pv().domain(d).vcpus().keySet()) {
                long was = pre.pv().domain(d).vcpu(i).timerDeadline();
                long is = post.pv().domain(d).vcpu(i).timerDeadline();
                int port = timerPort(pre, d, i);
                boolean fires = was != NO_DEADLINE && was <= now;
                if (fires && is != NO_DEADLINE) {
                    return "d" + d + " vCPU " + i + "'s timer for " + was + " is still armed (for " + is + ") at "
                            + now + ": a reached timer fires once and is disarmed (TIME-1)";
                }
                if (!fires && is != was) {
                    return "d" + d + " vCPU " + i + "'s timer went from " + was + " to " + is + " at " + now
                            + ", before its deadline (TIME-1)";
                }
                if (port == 0) {
                    continue;
                }
                if (fires && !portPending(post, d, port)) {
                    return "d" + d + " vCPU " + i + "'s timer for " + was + " was reached at " + now + " but its"
                            + " VIRQ_TIMER port " + port + " is not pending (TIME-1)";
                }
                if (!fires && portPending(post, d, port) != portPending(pre, d, port)) {
                    return "d" + d + " vCPU " + i + "'s VIRQ_TIMER port " + port + " changed at " + now + " though its"
                            + " timer (" + was + ") was not reached (TIME-1)";
                }
            }
        }
        return null;
    }

    /**
     * TIME-3 over vCPU {@code v}'s block ({@code SCHEDOP_block} or HLT) from {@code pre} to {@code post}: what is wrong,
     * or null. The vCPU must be blocked exactly when no upcall was pending for it; memory, time and its domain's ports
     * do not change (the VM entry before a HLT may inject the upcall, EVT-9: that is judged elsewhere).
     */
    public static String block(XenMachine pre, XenMachine post, VcpuId v) {
        boolean pending = upcallPending(pre, v);
        if (post.vcpu(v).blocked() == pending) {
            return v + (pending ? " blocked although an upcall was pending for it (a lost wake-up, TIME-3)"
                    : " did not block although nothing was pending for it (TIME-3)");
        }
        if (!post.memory().equals(pre.memory()) || post.pv().now() != pre.pv().now()
                || !post.pv().domain(v.domain()).ports().equals(pre.pv().domain(v.domain()).ports())) {
            return v + "'s block changed memory, time or its domain's ports (TIME-3)";
        }
        return null;
    }
}
