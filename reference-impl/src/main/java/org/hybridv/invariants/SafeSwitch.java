package org.hybridv.invariants;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.LongUnaryOperator;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domain;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * I5 Safe SWITCH_MMU (the contract PRE-1..3, POST-1..3, INV-1 of docs/rules/hybrid.md), over every SWITCH_MMU
 * hypercall of a kernel operation:
 * <ol>
 * <li><b>I5-refused</b> — a refused switch changes nothing: frame table (types, counts, flags), base pointers,
 * memory, every domain's mode, p2m and hypercall-page flag, every vCPU's controls, registers and shadow state, the
 * TLB;</li>
 * <li><b>I5-post</b> — an accepted switch leaves the domain in direct mode with every vCPU on the new root under the
 * direct-mode controls (PFEC filter, CR3-load exiting, EPT off), and I1, I2 and I6 true;</li>
 * <li><b>I5-view</b> — an accepted switch preserves the guest's view: every linear address the caller's tables
 * mapped before (through shadow paging and the p2m) translates afterwards to the same machine frame with the same
 * user/supervisor, no-execute and write permissions — except that frames in use as page tables are read-only — and
 * no other linear address is mapped. "In use as page tables" is judged at the end of the kernel operation that
 * issued the switch: the kernel pins its other roots (the kernel's own, the other processes') right after it. Not
 * checked for a root the kernel passed explicitly ({@code SwitchRoot.EXPLICIT}): that is a choice of new tables, not a
 * copy of its view.</li>
 * </ol>
 */
public final class SafeSwitch {
    private SafeSwitch() {}

    public static InvariantResult check(KernelStep step) {
        for (Executed e : step.trace()) {
            if (!e.isHypercall(Hypercalls.HYPERVISOR_SWITCH_MMU) || !(e.pre() instanceof XenPlatform before)) {
                continue;
            }
            XenPlatform after = (XenPlatform) e.platform();
            boolean accepted = e.observed() instanceof Observed.Value v && v.value() == 0;
            XenMachine end = ((XenPlatform) step.post().platform()).machine();
            // An explicit root is the kernel's own choice of tables, not a copy of its view: I5-view does not apply.
            boolean view = !(step.op() instanceof GuestOp.SwitchMmu s && s.root() == SwitchRoot.EXPLICIT);
            InvariantResult r = accepted ? accepted(before.machine(), after.machine(), before.vcpu(), e.regs().arg(0),
                    view ? end : null) : unchanged(before.machine(), after.machine());
            if (!r.holds()) {
                return r;
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * I5-refused: nothing of {@code pre} changed in {@code post} but the VM exit itself (exit information, processor
     * mode, and the guest's CR2 written into the guest-state area, SDM Vol. 3C §27.3.1).
     */
    public static InvariantResult unchanged(XenMachine pre, XenMachine post) {
        String what = null;
        if (!pre.frames().equals(post.frames())) {
            what = "the frame table";
        } else if (!pre.guestTables().equals(post.guestTables())) {
            what = "the base pointers";
        } else if (!pre.memory().equals(post.memory())) {
            what = "memory";
        } else if (!pre.pcpus().stream().map(org.hybridv.xen.Pcpu::tlb).toList()
                .equals(post.pcpus().stream().map(org.hybridv.xen.Pcpu::tlb).toList())) {
            what = "the TLB"; // of any pCPU
        }
        for (Domain d : pre.domains().values()) {
            Domain n = post.domain(d.id());
            if (what == null && (d.mode() != n.mode() || !d.p2m().equals(n.p2m())
                    || d.hypercallPageInstalled() != n.hypercallPageInstalled())) {
                what = "d" + d.id() + "'s mode, p2m or hypercall page";
            }
            for (Vcpu v : d.vcpus()) {
                Vcpu w = post.vcpu(v.id());
                if (what == null && (!v.vmcs().controls().equals(w.vmcs().controls())
                        || !pre.guestCpu(v.id()).withCr2(0).equals(post.guestCpu(v.id()).withCr2(0))
                        || v.vmcs().guest().rip() != w.vmcs().guest().rip() || !v.shadow().equals(w.shadow()))) {
                    what = v.id() + "'s controls, registers (CR0, CR3, CR4, EFER, CPL, RIP) or shadow state";
                }
            }
        }
        return what == null ? InvariantResult.HOLDS
                : new InvariantResult.Violated("I5-refused", "a refused SWITCH_MMU changed " + what);
    }

    /**
     * POST-1 / the direct-mode controls, stated from the rules rather than compared with {@code VmcsSetup}: #PF
     * filter bit 14 set with PFEC_MASK = P|W|U, PFEC_MATCH = P|W (only supervisor writes to present pages exit, PTW-1;
     * user faults and reads reach the guest); CR0.WP host-owned (guest/host mask bit 16) and forced to 1 in the
     * hardware guest CR0 (MISC-1); CR3-load exiting with no CR3-target values (MX-3: every base-pointer change is
     * validated); EPT off and VPID on with the vCPU's own VPID. Null if they hold.
     */
    static String directControls(XenMachine m, Vcpu v) {
        ExecutionControls c = v.vmcs().controls();
        int p = 1;
        int w = 2;
        int u = 4;
        if ((c.exceptionBitmap() & (1 << 14)) == 0 || c.pfecMask() != (p | w | u) || c.pfecMatch() != (p | w)) {
            return "the #PF filter is bitmap " + Hex.of(c.exceptionBitmap()) + " mask " + Hex.of(c.pfecMask())
                    + " match " + Hex.of(c.pfecMatch()) + ", not bit 14 with MASK P|W|U, MATCH P|W";
        }
        long wp = 1L << org.hybridv.x86.Cr0.WP_BIT;
        if ((c.cr0GuestHostMask() & wp) == 0 || !m.guestCpu(v.id()).cr0().wp()) {
            return "CR0.WP is not host-owned and forced to 1 (mask " + Hex.of(c.cr0GuestHostMask()) + ", CR0.WP "
                    + m.guestCpu(v.id()).cr0().wp() + ")";
        }
        if (!c.primary().cr3LoadExiting() || !c.cr3TargetValues().isEmpty()) {
            return "MOV to CR3 does not always exit (CR3-load exiting " + c.primary().cr3LoadExiting()
                    + ", targets " + c.cr3TargetValues() + ")";
        }
        if (c.eptEnabled() || !c.vpidEnabled() || c.vpid() != v.vpid()) {
            return "EPT " + c.eptEnabled() + ", VPID " + c.vpidEnabled() + " " + c.vpid() + " (want EPT off, VPID "
                    + v.vpid() + ")";
        }
        return null;
    }

    /**
     * I5-post and I5-view over one accepted SWITCH_MMU of vCPU {@code caller} to machine frame {@code root}: {@code pre}
     * and {@code post} around the hypercall, {@code end} the state at the end of the kernel operation that issued it
     * (null: I5-view is not judged).
     */
    public static InvariantResult accepted(XenMachine pre, XenMachine post, VcpuId caller, long root, XenMachine end) {
        Domain d = post.domain(caller.domain());
        if (d.mode() != MmuMode.DIRECT) {
            return new InvariantResult.Violated("I5-post", "SWITCH_MMU accepted but d" + d.id() + " is in "
                    + d.mode() + " mode");
        }
        for (Vcpu v : d.vcpus()) {
            long cr3 = post.guestCpu(v.id()).cr3().pml4Frame();
            String bad = cr3 != root ? "CR3 frame " + Hex.of(cr3) + " is not the root " + Hex.of(root)
                    : directControls(post, v);
            if (bad != null) {
                return new InvariantResult.Violated("I5-post", v.id() + " after SWITCH_MMU: " + bad);
            }
        }
        org.hybridv.xen.FrameInfo r0 = post.frames().get(root);
        if (r0.owner() != d.id() || r0.type() != org.hybridv.xen.PageType.L4 || r0.typeCount() == 0) {
            return new InvariantResult.Violated("I5-post", "after SWITCH_MMU the root " + Hex.of(root) + " is "
                    + r0 + ": POST-1 wants a frame of d" + d.id() + " in use as a validated L4");
        }
        for (InvariantResult r : new InvariantResult[] {Isolation.check(post), TranslationIntegrity.check(post),
            TlbCoherence.check(post)}) {
            if (!r.holds()) {
                return new InvariantResult.Violated("I5-post", "after SWITCH_MMU: " + r);
            }
        }
        if (end == null) {
            return InvariantResult.HOLDS;
        }
        Domain old = pre.domain(caller.domain());
        long guestRoot = pre.vcpu(caller).shadow().guestCr3() >>> 12;
        LongUnaryOperator p2m = gfn -> old.machineFrame(gfn);
        SortedMap<Long, Leaf> before = leaves(pre.memory(), p2m.applyAsLong(guestRoot), p2m);
        SortedMap<Long, Leaf> after = leaves(post.memory(), root, f -> f);
        if (!before.keySet().equals(after.keySet())) {
            return new InvariantResult.Violated("I5-view", "mapped linear addresses differ: " + diff(before, after));
        }
        for (Map.Entry<Long, Leaf> e : before.entrySet()) {
            Leaf b = e.getValue();
            Leaf a = after.get(e.getKey());
            boolean pageTable = end.frames().get(a.frame()).type().isPageTable();
            boolean writeOk = pageTable ? !a.writable() : a.writable() == b.writable();
            if (a.frame() != b.frame() || a.user() != b.user() || a.noExecute() != b.noExecute() || !writeOk) {
                return new InvariantResult.Violated("I5-view", "linear " + Hex.of(e.getKey()) + " was " + b
                        + " through shadow + p2m, is " + a + " after SWITCH_MMU"
                        + (pageTable ? " (a page-table frame: must be read-only)" : ""));
            }
        }
        return InvariantResult.HOLDS;
    }

    private static String diff(SortedMap<Long, Leaf> before, SortedMap<Long, Leaf> after) {
        TreeMap<Long, Leaf> lost = new TreeMap<>(before);
        lost.keySet().removeAll(after.keySet());
        TreeMap<Long, Leaf> gained = new TreeMap<>(after);
        gained.keySet().removeAll(before.keySet());
        return (lost.isEmpty() ? "" : "lost " + Hex.of(lost.firstKey()) + " (" + lost.size() + " pages) ")
                + (gained.isEmpty() ? "" : "gained " + Hex.of(gained.firstKey()) + " (" + gained.size() + " pages)");
    }

    /** A 4-KByte translation: machine frame and the rights combined over the walk (SDM Vol. 3A §4.6.1). */
    public record Leaf(long frame, boolean writable, boolean user, boolean noExecute) {
        @Override
        public String toString() {
            return "frame " + Hex.of(frame) + (writable ? " RW" : " RO") + (user ? " user" : " supervisor")
                    + (noExecute ? " NX" : "");
        }
    }

    /**
     * Every 4-KByte translation of the tables rooted at machine frame {@code l4}, with table and leaf frames
     * translated by {@code toMachine} (the p2m for a shadow-mode guest's tables, the identity for direct paging); a
     * large page counts as its 4-KByte pieces. Entries whose frame is not the domain's RAM are skipped.
     */
    public static SortedMap<Long, Leaf> leaves(PhysicalMemory mem, long l4, LongUnaryOperator toMachine) {
        SortedMap<Long, Leaf> out = new TreeMap<>();
        walk(mem, l4, 4, 0, true, true, false, toMachine, out);
        return out;
    }

    private static void walk(PhysicalMemory mem, long table, int level, long base, boolean w, boolean u, boolean nx,
            LongUnaryOperator toMachine, SortedMap<Long, Leaf> out) {
        if (table < 0 || table >= mem.frameCount()) {
            return;
        }
        int shift = 12 + 9 * (level - 1);
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            Entry e = new Entry(mem.read(table, i));
            if (!e.present()) {
                continue;
            }
            long linear = base | ((long) i << shift);
            if (level == 4 && i >= 256) {
                linear |= 0xFFFF_0000_0000_0000L;
            }
            boolean w2 = w && e.writable();
            boolean u2 = u && e.user();
            boolean nx2 = nx || e.noExecute();
            long frame = toMachine.applyAsLong(e.frame());
            if (level == 1 || (e.pageSize() && level <= 3)) {
                long pages = 1L << (9 * (level - 1));
                for (long p = 0; p < pages && frame >= 0; p++) {
                    out.put(linear + (p << 12), new Leaf(frame + p, w2, u2, nx2));
                }
            } else if (frame >= 0) {
                walk(mem, frame, level - 1, linear, w2, u2, nx2, toMachine, out);
            }
        }
    }
}
