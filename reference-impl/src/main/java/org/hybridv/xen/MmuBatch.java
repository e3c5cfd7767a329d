package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;

/**
 * The batched {@code mmu_update} (Xen rules MU-7, MU-8; Xen {@code do_mmu_update(ureqs, count, pdone, foreigndom)}):
 * {@code count} requests of 16 bytes each ({@code mmu_update_t}: {@code ptr} then {@code val}) at guest-linear
 * address {@code req}, read one by one through the calling vCPU's own translation (Xen {@code copy_from_guest}); each
 * is applied as the one-request form ({@link DirectPaging#mmuUpdate}: under the page lock of its page-table page, with
 * the type-count protocol) and its TLB obligations performed (IPI-1..IPI-3); the first refused request stops the
 * batch with its error, the requests before it stay applied, and {@code *pdone} receives the count done.
 *
 * <p>Register convention (the model's; {@link Hypercall}): the batched form is {@code mmu_update} with R10 (the fourth
 * argument, Xen's {@code foreigndom}) = {@link #DOMID_SELF}: {@code (req, count, pdone, DOMID_SELF)}. The one-request
 * by-value form {@code (ptr, val)} leaves R10 at 0 and is unchanged. A null {@code pdone} (0) is not written.
 *
 * <p>On one pCPU the batch runs to its end within its VMCALL step. On several pCPUs it runs one request per step: the
 * VMCALL applies the first, and the vCPU stays inside the hypercall ({@link HypercallInFlight#nextEntry}) while other
 * pCPUs step; each {@link #continueBatch} applies the next. Between two requests the batch can be preempted
 * ({@link #preempt}, Xen's {@code hypercall_preempt_check} then {@code hypercall_create_continuation}): it returns to
 * the guest with {@code *pdone} updated and the registers rewritten to re-issue the remaining requests
 * ({@link VcpuOutcome.HypercallPreempted#continuation}: {@code req} advanced past the requests done, {@code count}
 * their remainder with {@link #MMU_UPDATE_PREEMPTED}); re-executing the VMCALL with them does the rest, adding to the
 * count already in {@code *pdone}.
 */
public final class MmuBatch {
    private MmuBatch() {}

    /** Xen's {@code DOMID_SELF} ({@code xen.h}): {@code foreigndom} naming the caller's own domain. */
    public static final long DOMID_SELF = 0x7FF0;
    /** Xen's {@code MMU_UPDATE_PREEMPTED} ({@code xen.h}): the count flag of a re-issued continuation. */
    public static final long MMU_UPDATE_PREEMPTED = 1L << 31;
    /** The size of one {@code mmu_update_t}: {@code uint64_t ptr, val}. */
    public static final int REQUEST_BYTES = 16;

    /** Whether {@code call} is the batched form of {@code mmu_update} ({@code foreigndom} = DOMID_SELF). */
    public static boolean isBatch(Hypercall call) {
        return call.number() == Hypercalls.HYPERVISOR_MMU_UPDATE && call.arg(3) == DOMID_SELF;
    }

    /** The registers of {@code mmu_update(req, count, pdone, DOMID_SELF)}. */
    public static Hypercall batch(long req, long count, long pdone) {
        return Hypercall.of(Hypercalls.HYPERVISOR_MMU_UPDATE, req, count, pdone, DOMID_SELF);
    }

    /** The number of requests of a batched call: its count without {@link #MMU_UPDATE_PREEMPTED} (32 bits). */
    public static long count(Hypercall call) {
        return call.arg(1) & 0xFFFF_FFFFL & ~MMU_UPDATE_PREEMPTED;
    }

    /**
     * Xen rule MU-7, the VMCALL: a continuation the vCPU holds ({@link Vcpu#continuation}, MU-8) is consumed (its
     * VMCALL is being executed again); a continuation ({@code count} has {@link #MMU_UPDATE_PREEMPTED}) first reads the count
     * done so far from {@code *pdone} (a failed read counts 0, as Xen ignores it); then the requests are applied from
     * the first ({@link #run}).
     */
    static HvStep start(XenMachine m, VcpuId id, Hypercall call) {
        if (m.vcpu(id).continuation() != null) {
            m = m.withVcpu(m.vcpu(id).withContinuation(null)); // MU-8: the saved registers are executed again
        }
        long doneBefore = 0;
        long pdone = call.arg(2);
        if ((call.arg(1) & MMU_UPDATE_PREEMPTED) != 0 && pdone != 0) {
            doneBefore = readGuest(m, id, pdone).orElse(0);
        }
        return run(m, id, call, 0, doneBefore, List.of(), new TreeMap<>());
    }

    /**
     * MU-7: vCPU {@code id}'s batch in flight takes its next step on its pCPU: the next request is applied (or, once
     * the last was applied and its flush acknowledged, the batch returns). A vCPU with no batch to continue:
     * {@code NotModelled}, nothing changes.
     */
    public static HvStep continueBatch(XenMachine m, VcpuId id) {
        HypercallInFlight x = m.tlbFlush().inFlight(id).filter(h -> isBatch(h.call()) && h.canContinue())
                .orElse(null);
        if (x == null) {
            return new HvStep(new VcpuOutcome.NotModelled(null, id + " is inside no batched mmu_update it can"
                    + " continue"), m, 0);
        }
        HvStep s = run(m.withActive(m.vcpu(id).pcpu()), id, x.call(), x.nextEntry(), x.doneBefore(), x.effects(),
                x.flushed());
        return new HvStep(s.outcome(), s.machine(), 0);
    }

    /**
     * Xen rule MU-8 ({@code hypercall_preempt_check} between two requests, then
     * {@code hypercall_create_continuation(__HYPERVISOR_mmu_update, "hihi", ureqs, (count - i) | MMU_UPDATE_PREEMPTED,
     * pdone, foreigndom)}): vCPU {@code id}'s batch in flight, between two requests with requests left, returns to its
     * guest: {@code *pdone} receives the count done ({@code doneBefore + i}), the batch leaves the hypervisor, and the
     * outcome names the registers its VMCALL is re-executed with ({@link #continuation}). Its TLB obligations were
     * performed with each request. A vCPU with no batch it can preempt (none, one waiting for acknowledgements, or one
     * whose requests are all applied): {@code NotModelled}, nothing changes.
     */
    public static HvStep preempt(XenMachine m, VcpuId id) {
        HypercallInFlight x = m.tlbFlush().inFlight(id).filter(h -> isBatch(h.call()) && h.canContinue()
                && h.nextEntry() < count(h.call())).orElse(null);
        if (x == null) {
            return new HvStep(new VcpuOutcome.NotModelled(null, id + " is inside no batched mmu_update with"
                    + " requests left between two requests: nothing to preempt"), m, 0);
        }
        XenMachine after = m.withActive(m.vcpu(id).pcpu());
        int i = x.nextEntry();
        long done = x.doneBefore() + i;
        after = writeDone(after, id, x.call(), done);
        after = after.withTlbFlush(after.tlbFlush().withInFlight(id, null));
        Hypercall again = continuation(after, x.call(), i);
        // the registers are left in the vCPU's saved guest registers, its VMCALL to be executed again
        after = after.withVcpu(after.vcpu(id).withContinuation(again));
        return new HvStep(new VcpuOutcome.HypercallPreempted(x.call(), again, done, x.effects()), after, 0);
    }

    /**
     * MU-8: the registers a batch preempted before request {@code i} of {@code call} is re-issued with: {@code req}
     * advanced by {@code i} requests, {@code count - i} with {@link #MMU_UPDATE_PREEMPTED}, {@code pdone} and
     * {@code foreigndom} unchanged. Seeded fault {@link Fault#MMU_UPDATE_CONTINUATION_LOSES_ENTRY}: {@code req} is
     * advanced by one request too many and the count is one less: request {@code i} is never applied.
     */
    static Hypercall continuation(XenMachine m, Hypercall call, int i) {
        long skip = m.faults().breaks(Fault.MMU_UPDATE_CONTINUATION_LOSES_ENTRY) ? 1 : 0;
        long left = count(call) - i - skip;
        return Hypercall.of(Hypercalls.HYPERVISOR_MMU_UPDATE, call.arg(0) + (i + skip) * REQUEST_BYTES,
                left | MMU_UPDATE_PREEMPTED, call.arg(2), call.arg(3));
    }

    /**
     * The loop of {@code do_mmu_update} from request {@code i} (MU-7): each request is read through the vCPU's
     * translation (-EFAULT if it cannot be), applied ({@link DirectPaging#mmuUpdate}, atomic: the page lock of its
     * page-table page) and its obligations performed ({@link FlushIpis#stage}: a type change waits for its flush,
     * IPI-3; other pCPUs' flushes are sent and awaited, IPI-2). On one pCPU the loop goes to the end; on several it
     * stops after each request, the vCPU inside the hypercall. After the last request the batch returns 0 with
     * {@code *pdone} = the count done; a refused request returns its error with {@code *pdone} = the requests before it.
     */
    static HvStep run(XenMachine m, VcpuId id, Hypercall call, int i, long doneBefore, List<Effect> effects,
            SortedMap<Long, FrameInfo> flushed) {
        long count = count(call);
        List<Effect> done = new ArrayList<>(effects);
        SortedMap<Long, FrameInfo> retry = flushed;
        while (i < count) {
            long at = call.arg(0) + (long) i * REQUEST_BYTES;
            OptionalLong ptr = readGuest(m, id, at);
            OptionalLong val = readGuest(m, id, at + 8);
            if (ptr.isEmpty() || val.isEmpty()) {
                return stop(m, id, call, doneBefore + i, Errno.EFAULT, "MU-7", "request " + i + " at "
                        + Hex.of(at) + " cannot be read through " + id + "'s page tables (copy_from_guest)");
            }
            MmuResult r = DirectPaging.mmuUpdate(m.paging(), id, ptr.getAsLong(), val.getAsLong());
            if (r instanceof MmuResult.Refused x) {
                return stop(m, id, call, doneBefore + i, x.errno(), x.rule(), "request " + i + ": " + x.reason());
            }
            MmuResult.Success ok = (MmuResult.Success) r;
            FlushIpis.Stage st = FlushIpis.stage(m, id, call, ok, retry, i, done);
            if (st.waiting() != null) {
                // IPI-3: request i waits for its type change's flush and is applied again once it is acknowledged
                XenMachine w = st.waiting().machine();
                HypercallInFlight h = w.tlbFlush().inFlight(id).orElseThrow();
                w = w.withTlbFlush(w.tlbFlush().withInFlight(id, new HypercallInFlight(h.call(), h.awaiting(),
                        h.retry(), h.effects(), h.flushed(), h.nextEntry(), doneBefore)));
                return new HvStep(st.waiting().outcome(), w, st.waiting().vmExits());
            }
            done.addAll(ok.effects());
            retry = new TreeMap<>();
            SortedSet<Integer> awaiting = FlushIpis.awaitsFlushAcks(m) ? st.awaiting() : new TreeSet<>();
            m = st.machine();
            i++;
            if (!awaiting.isEmpty() || (m.pcpuCount() > 1 && i < count)) {
                XenMachine s = m.withTlbFlush(m.tlbFlush().withInFlight(id, new HypercallInFlight(call, awaiting,
                        false, done, new TreeMap<>(), i, doneBefore)));
                return new HvStep(new VcpuOutcome.InHypercall(id, call, awaiting), s);
            }
        }
        XenMachine after = writeDone(m, id, call, doneBefore + i);
        after = after.withTlbFlush(after.tlbFlush().withInFlight(id, null));
        return new HvStep(new VcpuOutcome.HypercallDone(call, done), after);
    }

    /** A refused request: the batch returns its error, {@code *pdone} = {@code done}; it leaves the hypervisor. */
    private static HvStep stop(XenMachine m, VcpuId id, Hypercall call, long done, Errno errno, String rule,
            String reason) {
        XenMachine after = writeDone(m, id, call, done);
        after = after.withTlbFlush(after.tlbFlush().withInFlight(id, null));
        return new HvStep(new VcpuOutcome.HypercallRefused(call, errno, rule, reason + "; " + done
                + " done"), after);
    }

    /** {@code *pdone = done} unless {@code pdone} is null (Xen ignores a failed {@code copy_to_guest} there). */
    static XenMachine writeDone(XenMachine m, VcpuId id, Hypercall call, long done) {
        long pdone = call.arg(2);
        return pdone == 0 ? m : writeGuest(m, id, pdone, done);
    }

    /**
     * Xen {@code copy_from_guest} of one 8-byte word at guest-linear {@code linear} of vCPU {@code id}: the vCPU's own
     * translation (its CR3, its paging controls, a supervisor read: Intel SDM Vol. 3A §4.5–§4.6), no TLB, to a frame of
     * its domain (direct mode: guest-physical = machine on its own frames). Empty when it faults or is misaligned.
     */
    static OptionalLong readGuest(XenMachine m, VcpuId id, long linear) {
        long word = guestWord(m, id, Access.read(linear));
        if (word < 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(m.paging().memory().read(word >>> 9, (int) (word & 511)));
    }

    /**
     * Xen {@code copy_to_guest} of one 8-byte word: as {@link #readGuest}, a supervisor write (CR0.WP is forced to 1,
     * MISC-1), to a frame not in use as a page table. Xen writes {@code *pdone} as an {@code unsigned int}; the model's
     * memory holds 8-byte words and the whole word is written. A write that cannot be made changes nothing.
     */
    static XenMachine writeGuest(XenMachine m, VcpuId id, long linear, long value) {
        long word = guestWord(m, id, Access.write(linear, value));
        if (word < 0) {
            return m;
        }
        FrameInfo f = m.paging().frame(word >>> 9);
        if (f.type().isPageTable() && f.typeCount() > 0) {
            return m;
        }
        return m.withPaging(m.paging().withMemory(m.paging().memory().write(word >>> 9, (int) (word & 511), value)));
    }

    /** The word (frame × 512 + index) access {@code a} of vCPU {@code id} reaches, or -1 (see {@link #readGuest}). */
    private static long guestWord(XenMachine m, VcpuId id, Access a) {
        if ((a.linear() & 7) != 0) {
            return -1;
        }
        CpuState cpu = m.vcpu(id).vmcs().guest().cpu();
        Translation t = PageWalk.translate(m.paging().memory(), cpu, a);
        if (!(t instanceof Translated tr)) {
            return -1;
        }
        long mfn = tr.physicalAddress() >>> 12;
        if (!m.paging().isFrame(mfn) || m.paging().frame(mfn).owner() != id.domain()) {
            return -1;
        }
        return (mfn << 9) | ((tr.physicalAddress() & 0xFFF) >>> 3);
    }
}
