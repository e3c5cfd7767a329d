package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FlushIpis;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuBatch;
import org.hybridv.xen.PreemptibleValidation;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * The batched {@code mmu_update} and its preemption (rules MU-7, MU-8, docs/rules/xen.md), judged step by step over
 * what the guest can see: the registers its VMCALL is re-executed with (the vCPU's saved continuation), its
 * {@code *pdone} word, RAX when the batch returns, and d1's table slots the requests target. The rules are restated
 * here: requests in list order, each read through the kernel's own translation just before it is applied; on two
 * pCPUs one request per step; the first refused or unreadable request stops the batch with {@code *pdone} = the
 * requests before it (plus the count a continuation started from); a preemption happens only between two requests
 * with requests left and no flush outstanding, writes the count done to {@code *pdone} and leaves the registers
 * {@code (req + 16·done, (count − done) | MMU_UPDATE_PREEMPTED, pdone, DOMID_SELF)} in the vCPU; re-executing them
 * consumes them. How many requests are applied is read off the tables (request j maps L1 slot {@code 9 + j}; or the
 * first is an L2 update, which owes U's pCPU a flush that must be acknowledged before the batch goes on or is
 * preempted, IPI-2), never from the code under check.
 *
 * <p>The machine is {@link HypervisorCases}' (d1's kernel K on pCPU 0, U on pCPU 1 when there are two); the list
 * sits in d1's frame 0x22 (VA 0x7000, supervisor RW), at the start of the page or at its end, where VA 0x8000 has
 * been unmapped first so that the list runs off its mapping after {@code readable} requests (copy_from_guest fails:
 * -EFAULT). {@code *pdone} is null, VA 0x7800, or the unmapped VA 0x9000 (not written).
 */
class MmuBatchProperties {
    private static final VcpuId K = HypervisorCases.K;
    private static final VcpuId U = HypervisorCases.U;
    private static final long L1 = 0x13;
    private static final long L2 = 0x12;
    private static final long FOREIGN = 0x30; // d2's frame: refused for d1
    private static final long PDONE_MAPPED = 0x7800;
    private static final long PDONE_UNMAPPED = 0x9000;
    private static final long PREEMPTED = 1L << 31;
    private static final long DOMID_SELF = 0x7FF0;
    private static final int EFAULT = 14;

    /** The machines on one and on two pCPUs (U on pCPU 1), built once (immutable). */
    private static final XenMachine[] MACHINES = {HypervisorCases.initialMachine(Faults.NONE, 1),
        Hypervisor.schedule(HypervisorCases.initialMachine(Faults.NONE, 2), U, 1)};

    /** One request: slot {@code slot} of table {@code table} gets {@code entry}. */
    record Request(long table, int slot, long entry) {
        long ptr() {
            return (table << 12) | ((long) slot << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE;
        }

        boolean valid() {
            return (entry >>> 12 & 0xFF) != FOREIGN;
        }
    }

    @Provide
    Arbitrary<List<Integer>> frames() {
        // 0..4: frames 0x23..0x27 of d1; 5: d2's frame (refused, MU-1/L1-2)
        return Arbitraries.frequency(net.jqwik.api.Tuple.of(9, 0), net.jqwik.api.Tuple.of(9, 1),
                net.jqwik.api.Tuple.of(9, 2), net.jqwik.api.Tuple.of(9, 3), net.jqwik.api.Tuple.of(9, 4),
                net.jqwik.api.Tuple.of(5, 5)).list().ofSize(4);
    }

    @Provide
    Arbitrary<List<Integer>> schedules() {
        // 0 continue K, 1 preempt K, 2 re-issue K's continuation, 3 U reads 0x5000, 4/5 deliver IPIs on pCPU 0/1
        return Arbitraries.frequency(net.jqwik.api.Tuple.of(3, 0), net.jqwik.api.Tuple.of(3, 1),
                net.jqwik.api.Tuple.of(2, 2), net.jqwik.api.Tuple.of(1, 3), net.jqwik.api.Tuple.of(1, 4),
                net.jqwik.api.Tuple.of(2, 5)).list().ofMinSize(0).ofMaxSize(10);
    }

    @Provide
    Arbitrary<Integer> readable() {
        // 4: the whole list readable; 0..3: the list runs off its mapping after that many requests
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, Arbitraries.just(4)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0, 3)));
    }

    @Property(seed = Budget.SEED, tries = 400)
    void everyBatchStepDoesWhatMu7AndMu8Say(@ForAll @IntRange(min = 1, max = 2) int pcpus,
            @ForAll @IntRange(min = 1, max = 4) int n, @ForAll("frames") List<Integer> frames,
            @ForAll boolean l2Update, @ForAll("readable") int readableIfCut,
            @ForAll @IntRange(min = 0, max = 2) int pdoneKind, @ForAll boolean flagged,
            @ForAll @IntRange(min = 0, max = 6) int prior, @ForAll("schedules") List<Integer> schedule) {
        XenMachine m = MACHINES[pcpus - 1];
        // U runs d1 on its pCPU (caching 0x5000)
        m = Hypervisor.run(m, U, new org.hybridv.vmx.GuestInstruction.MemoryAccess(Access.read(0x5000)),
                Hypercall.of(0)).machine();
        boolean cut = readableIfCut < n; // the list runs off its mapping after readableIfCut requests
        long req;
        if (cut) {
            // unmap VA 0x8000 (L1 slot 8) with a one-request mmu_update, then put the list at the end of 0x7000
            m = Hypervisor.hypercall(m, K, Hypercall.of(Hypercalls.HYPERVISOR_MMU_UPDATE, (L1 << 12) | (8 << 3), 0))
                    .machine();
            req = 0x8000 - 16L * readableIfCut;
        } else {
            req = 0x7000;
        }
        List<Request> requests = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            long frame = frames.get(j) == 5 ? FOREIGN : 0x23 + frames.get(j);
            // an L2 update (slot 1 of L2 0x12 → the L1 0x13) owes every pCPU running d1 a flush (IPI-2)
            requests.add(j == 0 && l2Update ? new Request(L2, 1, Entry.table(L1, true, true).raw())
                    : new Request(L1, 9 + j, Entry.table(frame, true, true).raw()));
        }
        int readable = cut ? readableIfCut : n;
        for (int j = 0; j < readable; j++) {
            m = guestWrite(m, req + 16L * j, requests.get(j).ptr());
            m = guestWrite(m, req + 16L * j + 8, requests.get(j).entry());
        }
        long pdone = pdoneKind == 0 ? 0 : pdoneKind == 1 ? PDONE_MAPPED : PDONE_UNMAPPED;
        m = guestWrite(m, PDONE_MAPPED, prior);
        long base = flagged && pdoneKind == 1 ? prior : 0; // what *pdone counts from (MU-8: a continuation reads it)
        int stopsAt = 0; // the first request that is refused or cannot be read
        while (stopsAt < n && stopsAt < readable && requests.get(stopsAt).valid()) {
            stopsAt++;
        }
        long[] before = slots(m, requests);

        Hypercall first = Hypercall.of(Hypercalls.HYPERVISOR_MMU_UPDATE, req, n | (flagged ? PREEMPTED : 0), pdone,
                DOMID_SELF);
        HvStep s = Hypervisor.hypercall(m, K, first);
        VcpuOutcome last = s.outcome();
        Judge j = new Judge(requests, before, req, n, pdone, base);
        j.afterIssue(m, s.machine(), pcpus);
        m = s.machine();
        Hypercall continuation = null;
        String label = "";
        for (int step = 0; step < schedule.size() + 4 * n + 8; step++) {
            // the drawn schedule, then the batch driven to its end: IPIs delivered, continued, re-issued
            int t = step - schedule.size();
            int op = t < 0 ? schedule.get(step) : continuation != null ? 2 : t % 3 == 0 ? 5 : t % 3 == 1 ? 4 : 0;
            if (m.tlbFlush().inFlight(K).isEmpty() && continuation == null) {
                break;
            }
            XenMachine pre = m;
            if (op == 0) {
                HvStep c = PreemptibleValidation.continueHypercall(m, K);
                j.afterStep(pre, c.machine(), pcpus);
                m = c.machine();
                last = c.outcome();
            } else if (op == 1) {
                HvStep p = MmuBatch.preempt(m, K);
                int appliedNow = j.applied(m);
                Statistics.label("preempt tried").collect(m.tlbFlush().inFlight(K).map(h -> !h.awaiting().isEmpty()
                        ? "a flush outstanding" : appliedNow < n ? "between two requests" : "all applied")
                        .orElse("no batch in flight"));
                Statistics.label("preempt tried").coverage(k -> {
                    k.check("a flush outstanding").count(c -> c >= 10);
                    k.check("between two requests").count(c -> c >= 10);
                    k.check("all applied").count(c -> c >= 1);
                });
                boolean mayPreempt = m.tlbFlush().inFlight(K).map(h -> h.awaiting().isEmpty()).orElse(false)
                        && j.applied(m) < n;
                if (p.outcome() instanceof VcpuOutcome.HypercallPreempted x) {
                    assertThat(mayPreempt).as("MU-8: preempted only between two requests with requests left and no"
                            + " flush outstanding (%d of %d applied)", j.applied(m), n).isTrue();
                    j.afterPreempt(pre, p.machine(), x.continuation());
                    continuation = x.continuation();
                    label += "P";
                } else {
                    assertThat(mayPreempt).as("MU-8: a batch between two requests with requests left is preemptible")
                            .isFalse();
                    assertThat(p.machine()).as("a refused preemption changes nothing").isEqualTo(pre);
                }
                m = p.machine();
            } else if (op == 2) {
                if (continuation != null) {
                    HvStep r = Hypervisor.hypercall(m, K, continuation);
                    assertThat(r.machine().vcpu(K).continuation()).as("MU-8: the re-executed VMCALL consumes the"
                            + " saved registers").isNull();
                    j.afterIssue(pre, r.machine(), pcpus);
                    m = r.machine();
                    last = r.outcome();
                    continuation = null;
                }
            } else if (op == 3) {
                m = Hypervisor.run(m, U, new org.hybridv.vmx.GuestInstruction.MemoryAccess(Access.read(0x5000)),
                        Hypercall.of(0)).machine();
                label += "u";
            } else {
                FlushIpis.Delivery d = FlushIpis.deliverIpi(m, op == 4 ? 0 : pcpus - 1);
                m = d.machine();
                for (FlushIpis.Completion c : d.completed()) {
                    if (c.vcpu().equals(K)) {
                        last = c.outcome();
                    }
                }
            }
        }
        assertThat(m.tlbFlush().inFlight(K)).as("the batch has returned").isEmpty();
        assertThat(continuation).as("the continuation was re-issued").isNull();

        // MU-7 when the batch has returned: RAX, the tables, *pdone
        long rax = last instanceof VcpuOutcome.HypercallDone d ? d.rax()
                : last instanceof VcpuOutcome.HypercallRefused r ? r.rax() : Long.MIN_VALUE;
        if (stopsAt == n) {
            assertThat(rax).as("MU-7: every request applied, the batch returns 0 (%s)", last).isZero();
        } else if (stopsAt == readable) {
            assertThat(rax).as("MU-7: request %d cannot be read: -EFAULT (%s)", stopsAt, last).isEqualTo(-EFAULT);
        } else {
            assertThat(rax).as("MU-7: request %d is refused (%s)", stopsAt, last).isNegative().isNotEqualTo(-EFAULT);
        }
        assertThat(j.applied(m)).as("MU-7: the requests before the first refused one applied").isEqualTo(stopsAt);
        long[] after = slots(m, requests);
        for (int k = 0; k < n; k++) {
            assertThat(after[k]).as("request %d's slot", k).isEqualTo(k < stopsAt ? requests.get(k).entry()
                    : before[k]);
        }
        assertThat(guestRead(m, PDONE_MAPPED)).as("MU-7/MU-8: *pdone after the batch").isEqualTo(
                pdoneKind == 1 ? base + stopsAt : prior);
        assertThat(m.vcpu(K).continuation()).isNull();
        Statistics.label("outcome").collect((stopsAt == n ? "all" : stopsAt == readable ? "efault" : "refused")
                + (label.contains("P") ? ", preempted" : ""));
        Statistics.label("outcome").coverage(k -> {
            k.check("all").count(c -> c >= 10);
            k.check("all, preempted").count(c -> c >= 5);
            k.check("refused, preempted").count(c -> c >= 1);
            k.check("efault, preempted").count(c -> c >= 1);
        });
    }

    /** The judgement of each step, from the rules restated over the slots and {@code *pdone}. */
    record Judge(List<Request> requests, long[] before, long req, int n, long pdone, long base) {
        /** How many leading requests' slots hold their new entries (the slots start different from them). */
        int applied(XenMachine m) {
            long[] now = slots(m, requests);
            int a = 0;
            while (a < n && now[a] == requests.get(a).entry() && now[a] != before[a]) {
                a++;
            }
            return a;
        }

        /** A VMCALL (first issue or re-issue): on one pCPU the batch returns in its step; on two, one request. */
        void afterIssue(XenMachine pre, XenMachine post, int pcpus) {
            if (pcpus == 1) {
                assertThat(post.tlbFlush().inFlight(K)).as("MU-7: on one pCPU the batch runs to its end").isEmpty();
            } else {
                afterStep(pre, post, pcpus);
            }
        }

        /** On two pCPUs a step applies at most one request (MU-7: the batch is not atomic). */
        void afterStep(XenMachine pre, XenMachine post, int pcpus) {
            int a = applied(pre);
            int b = applied(post);
            assertThat(b).as("MU-7: one request per step on several pCPUs").isBetween(a, a + 1);
            if (pre.tlbFlush().inFlight(K).map(h -> !h.awaiting().isEmpty()).orElse(false)) {
                assertThat(b).as("IPI-2: no request applied while the batch awaits its flush acknowledgements")
                        .isEqualTo(a);
            }
            if (b == n) {
                assertThat(post.tlbFlush().inFlight(K).map(h -> !h.awaiting().isEmpty()).orElse(true))
                        .as("MU-7: after its last request (and that request's flush) the batch returns").isTrue();
            }
        }

        /** MU-8: the registers left in the vCPU, {@code *pdone}, the batch out of the hypervisor. */
        void afterPreempt(XenMachine pre, XenMachine post, Hypercall continuation) {
            int a = applied(post);
            // the registers of the call in flight: the original (a applied so far) or a continuation
            Hypercall expected = Hypercall.of(Hypercalls.HYPERVISOR_MMU_UPDATE, req + 16L * a,
                    (n - a) | PREEMPTED, pdone, DOMID_SELF);
            assertThat(continuation).as("MU-8: the continuation after %d of %d requests", a, n).isEqualTo(expected);
            assertThat(post.vcpu(K).continuation()).as("MU-8: the registers are left in the vCPU").isEqualTo(expected);
            assertThat(post.tlbFlush().inFlight(K)).as("MU-8: the batch leaves the hypervisor").isEmpty();
            if (pdone == PDONE_MAPPED) {
                assertThat(guestRead(post, PDONE_MAPPED)).as("MU-8: *pdone = the count done").isEqualTo(base + a);
            }
            assertThat(slots(post, requests)).as("a preemption applies nothing").isEqualTo(slots(pre, requests));
        }
    }

    static long[] slots(XenMachine m, List<Request> requests) {
        long[] v = new long[requests.size()];
        for (int k = 0; k < v.length; k++) {
            v[k] = m.paging().memory().read(requests.get(k).table(), requests.get(k).slot());
        }
        return v;
    }

    /** The kernel's word at {@code linear} through its own translation (Intel SDM Vol. 3A §4.5). */
    static long guestRead(XenMachine m, long linear) {
        Translation t = PageWalk.translate(m.paging().memory(), m.guestCpu(K), Access.read(linear));
        return m.paging().memory().readPhysical(((Translated) t).physicalAddress());
    }

    /** The kernel stores {@code value} at {@code linear} (a data page of its own: a plain store). */
    static XenMachine guestWrite(XenMachine m, long linear, long value) {
        Translation t = PageWalk.translate(m.paging().memory(), m.guestCpu(K), Access.write(linear, value));
        long pa = ((Translated) t).physicalAddress();
        return m.withPaging(m.paging().withMemory(m.paging().memory().write(pa >>> 12, (int) ((pa & 0xFFF) >>> 3),
                value)));
    }
}
