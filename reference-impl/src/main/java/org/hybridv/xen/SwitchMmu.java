package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.Vmcs;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;

/**
 * SWITCH_MMU ({@link Hypercalls#HYPERVISOR_SWITCH_MMU}, this project's hypercall: the 2007 prototype's interface was
 * never published, docs/rules/hybrid.md): a shadow-mode domain moves to direct paging on the L4 {@code rootMfn}. The
 * contract is docs/rules/hybrid.md; each precondition is one function below, checked in the order PRE-1 (long mode,
 * hypercall page, mode), PRE-3, PRE-2, and a refusal is a {@link VcpuOutcome.HypercallRefused} with the machine
 * unchanged (no type, count, mode, CR3, VMCS, TLB or memory change). PRE-1's CPL clause is the generic check of
 * {@link Hypervisor#vmcall} (CPL &gt; 0 → -EPERM, rule XSA-76), which runs first.
 *
 * <p><b>Several vCPUs (PRE-3).</b> All vCPUs of the domain switch together, to the same root. Every other vCPU must
 * be in long mode with paging on: a vCPU still booting (paging off) would later turn paging on with a CR3 it loaded
 * for shadow mode, i.e. resume on tables it never loaded. An accepted switch is a protocol over the pCPUs, as Xen
 * changes a domain's paging under {@code domain_pause}: the siblings are paused ({@link #pauseSiblings}: one
 * running in non-root operation on another pCPU is taken out of it there, its registers saved in its VMCS), each
 * vCPU's VMCS gets the direct-mode controls and the root as CR3 ({@link #directVcpu}) with its own L4 type and
 * general reference on the root as its {@code guest_table} (MX-3), each vCPU's context is flushed on the pCPU it
 * runs on ({@link Effect.LoadBase}) and the domain's VPIDs on every pCPU of its dirty CPU mask
 * ({@link Effect.FlushDomain}, TLB-9); then the siblings are runnable again and their next entry (VMRESUME) loads
 * the root. The pause lasts the hypercall: no other step runs until it returns, so it needs no flag of its own.
 */
public final class SwitchMmu {
    private SwitchMmu() {}

    /**
     * SWITCH_MMU from vCPU {@code caller} (in root operation after its VMCALL exit, CPL 0 already checked).
     * Preconditions in order: {@link #longMode}, {@link #hypercallPage}, {@link #shadowMode}, {@link #othersReady},
     * {@link #rootOwned}, {@link #noXenSlots}, {@link #validates}. On acceptance, atomically: POST-1
     * ({@link #takeGuestTables}), POST-3 ({@link #directDomain}), the vCPUs' VMCS ({@link #directVcpu}), POST-2
     * ({@link #releaseShadows} and a flush of every VPID of the domain). Outcome {@code HypercallDone} with RAX 0 and
     * the effects performed: the type changes of the validation (TLB-1), {@link Effect.LoadBase} per vCPU (POST-1,
     * each vCPU's CR3 is now the root), {@link Effect.FlushDomain} (POST-2). Seeded fault
     * {@link Fault#SWITCH_MMU_NO_FLUSH}: neither the LoadBase nor the FlushDomain effects (no INVVPID; each vCPU's CR3
     * is set by {@link #directVcpu} alone). Seeded fault {@link Fault#SWITCH_MMU_SIBLING_NOT_FLUSHED}: the siblings
     * are paused and get the root as CR3, but the only flush is of the domain's VPIDs on the caller's pCPU
     * ({@link Effect.FlushLocal} per vCPU, performed where the caller runs): no LoadBase for a sibling, no
     * FlushDomain.
     */
    public static HvStep switchMmu(XenMachine pre, VcpuId caller, long rootMfn) {
        Hypercall call = Hypercall.switchMmu(rootMfn);
        Domain d = pre.domain(caller.domain());
        MmuResult.Refused no = longMode(pre.vcpu(caller));
        if (no == null) {
            no = hypercallPage(d);
        }
        if (no == null) {
            no = shadowMode(d);
        }
        if (no == null) {
            no = othersReady(pre, d, caller);
        }
        if (no == null) {
            no = rootOwned(pre.paging(), d, rootMfn);
        }
        if (no == null) {
            no = noXenSlots(pre.paging(), rootMfn);
        }
        MmuResult taken = no == null ? takeGuestTables(pre.paging(), d, rootMfn) : no;
        if (taken instanceof MmuResult.Refused x) {
            return Hypervisor.refused(pre, call, x.errno(), x.rule(), x.reason());
        }
        MmuResult.Success ok = (MmuResult.Success) taken;
        XenMachine m = pauseSiblings(pre, d, caller);
        d = m.domain(d.id());
        DirectPagingState s = releaseShadows(ok.state(), d);
        m = m.withPaging(s).withDomain(directDomain(s, d));
        List<Effect> effects = new ArrayList<>(ok.effects());
        boolean flush = !pre.faults().breaks(Fault.SWITCH_MMU_NO_FLUSH);
        boolean remote = !pre.faults().breaks(Fault.SWITCH_MMU_SIBLING_NOT_FLUSHED);
        for (Vcpu v : d.vcpus()) {
            m = m.withVcpu(directVcpu(v, rootMfn, pre.faults()));
            if (flush && (remote || v.id().equals(caller))) {
                effects.add(new Effect.LoadBase(v.id(), rootMfn, "POST-1"));
            }
        }
        if (flush && remote) {
            effects.add(new Effect.FlushDomain(d.id(), "POST-2"));
        } else if (flush) {
            for (Vcpu v : d.vcpus()) {
                effects.add(new Effect.FlushLocal(v.id(), "POST-2")); // on the caller's pCPU only: the fault
            }
        }
        m = TlbDiscipline.apply(m, effects);
        return new HvStep(new VcpuOutcome.HypercallDone(call, effects, 0), m);
    }

    // ---- preconditions ------------------------------------------------------------------------------------------

    /**
     * PRE-1 (LONG): the caller's guest CR0.PG = 1 and EFER.LMA = 1 (IA-32e mode, SDM 9.8.5): the root is an L4 only
     * for a guest in IA-32e mode. Otherwise -EINVAL (the argument cannot be interpreted), rule "PRE-1".
     */
    static MmuResult.Refused longMode(Vcpu caller) {
        CpuState g = caller.vmcs().guest().cpu();
        if (g.cr0().pg() && g.ia32eMode()) {
            return null;
        }
        return new MmuResult.Refused(Errno.EINVAL, "PRE-1", caller.id() + " is not in long mode (CR0.PG = "
                + (g.cr0().pg() ? 1 : 0) + ", EFER.LMA = " + (g.ia32eMode() ? 1 : 0) + ")");
    }

    /**
     * PRE-1 (BOOT-3): the domain installed the hypercall page first.
     * Otherwise -EPERM (the guest has not done the handshake that entitles it to the PV interface), rule "PRE-1".
     */
    static MmuResult.Refused hypercallPage(Domain d) {
        return d.hypercallPageInstalled() ? null : new MmuResult.Refused(Errno.EPERM, "PRE-1", "d" + d.id()
                + " has not installed the hypercall page (WRMSR 0x40000000)");
    }

    /**
     * PRE-1 ({@code mmu_mode = SHADOW}; "a repeated SWITCH_MMU is rejected"): DIRECT means already switched → -EBUSY;
     * HAP has no shadow to leave and keeps its EPT → -EOPNOTSUPP. Rule "PRE-1".
     */
    static MmuResult.Refused shadowMode(Domain d) {
        if (d.mode() == MmuMode.SHADOW) {
            return null;
        }
        if (d.mode() == MmuMode.DIRECT) {
            return new MmuResult.Refused(Errno.EBUSY, "PRE-1", "d" + d.id() + " already switched to direct mode"
                    + " (SWITCH_MMU happens once)");
        }
        return new MmuResult.Refused(Errno.EOPNOTSUPP, "PRE-1", "d" + d.id() + " is in HAP mode: SWITCH_MMU leaves"
                + " shadow mode only");
    }

    /**
     * PRE-3 (switch together): every other vCPU of the domain is in long mode with paging on (CR0.PG = 1, EFER.LMA =
     * 1), since it will resume on the root. Otherwise -EBUSY, rule "PRE-3".
     */
    static MmuResult.Refused othersReady(XenMachine m, Domain d, VcpuId caller) {
        for (Vcpu v : d.vcpus()) {
            CpuState g = m.guestCpu(v.id()); // a sibling running on another pCPU: its live registers
            if (!v.id().equals(caller) && !(g.cr0().pg() && g.ia32eMode())) {
                return new MmuResult.Refused(Errno.EBUSY, "PRE-3", v.id() + " runs with paging off (CR0 = "
                        + Hex.of(g.cr0().bits()) + "): it cannot resume on the new root");
            }
        }
        return null;
    }

    /**
     * PRE-3 (the pause; Xen {@code domain_pause} → {@code vcpu_sleep_sync} on each other vCPU): every other vCPU of
     * domain {@code d} running in non-root operation on its pCPU is taken out of it there — the pause's IPI makes it
     * exit (an external-interrupt exit) and its registers are saved in its VMCS guest-state area (Intel SDM Vol. 3C
     * §27.3) — so that the switch can change its CR3 and controls: a VMCS field written while the vCPU runs would not
     * reach its live registers. Its VMCS stays current on that pCPU; the active pCPU is the caller's again after.
     */
    static XenMachine pauseSiblings(XenMachine m, Domain d, VcpuId caller) {
        int active = m.active();
        for (Vcpu v : d.vcpus()) {
            if (!v.id().equals(caller) && m.running(v.id())) {
                XenMachine there = m.withActive(v.pcpu());
                org.hybridv.vmx.VmxProcessor out = org.hybridv.vmx.VmExits.exit(there.processor(),
                        org.hybridv.vmx.ExitInformation.of(org.hybridv.vmx.ExitReason.EXTERNAL_INTERRUPT, 0));
                m = there.withCurrent(v.id(), out).withActive(active);
            }
        }
        return m;
    }

    /**
     * PRE-2 (ownership; OWN-1, as L1-2 refuses a foreign frame): the root is RAM owned by the domain, -EINVAL rule
     * "OWN-1" otherwise. The reason starts with "PRE-2: ".
     */
    static MmuResult.Refused rootOwned(DirectPagingState s, Domain d, long root) {
        if (s.isFrame(root) && s.frame(root).owner() == d.id()) {
            return null;
        }
        return new MmuResult.Refused(Errno.EINVAL, "OWN-1", "PRE-2: root " + Hex.of(root) + " is "
                + (s.isFrame(root) ? "owned by " + FrameInfo.ownerName(s.frame(root).owner()) : "not RAM")
                + ", not a frame of d" + d.id());
    }

    /**
     * PRE-2 (SLOT-1): no present entry in L4 slots 256–271. Promotion would clear them (PRO-2), which changes the
     * guest's translations: the switch must preserve them, so such a root is refused, -EINVAL rule "SLOT-1".
     */
    static MmuResult.Refused noXenSlots(DirectPagingState s, long root) {
        for (int i = EntryRules.FIRST_XEN_SLOT; i <= EntryRules.LAST_XEN_SLOT; i++) {
            Entry e = s.entry(root, i);
            if (e.present()) {
                return new MmuResult.Refused(Errno.EINVAL, "SLOT-1", "PRE-2: L4 " + Hex.of(root) + "[" + i + "] = "
                        + e + " is a Xen slot (256–271); promotion would clear it and change the guest's view");
            }
        }
        return null;
    }

    /**
     * PRE-2 (validation) and POST-1: one {@code get_page_and_type(root, L4, d)} per vCPU ({@link #validates} for the
     * first, which promotes recursively under TYP-2..4, LN-1..5, L1-1..5, LIN-1..5, SP-1), each vCPU's
     * {@code guest_table} set to the root. A refusal keeps its errno and underlying rule, reason prefixed "PRE-2: ".
     */
    static MmuResult takeGuestTables(DirectPagingState s, Domain d, long root) {
        MmuResult r = MmuResult.ok(s);
        for (Vcpu v : d.vcpus()) {
            r = r.then(t -> validates(t, d, root)).map(t -> t.withGuestTable(v.id(), root));
            if (r instanceof MmuResult.Refused) {
                return r;
            }
        }
        return r;
    }

    /**
     * PRE-2: {@code get_page_and_type(root, PGT_l4_page_table, d)} (Xen mm.c), refusals as "PRE-2: …". Seeded fault
     * {@link Fault#SWITCH_MMU_TOP_LEVEL_ONLY}: the first time, only the root's own entries are checked (flags, Xen
     * slots, owner of the frame they name) and the root becomes a validated L4 with one type and general reference;
     * nothing below it is promoted or referenced.
     */
    static MmuResult validates(DirectPagingState s, Domain d, long root) {
        if (s.faults().breaks(Fault.SWITCH_MMU_TOP_LEVEL_ONLY) && s.isFrame(root) && s.frame(root).typeCount() == 0) {
            for (int i = 0; i < org.hybridv.x86.PhysicalMemory.WORDS_PER_FRAME; i++) {
                Entry e = s.entry(root, i);
                if (e.present() && (!EntryRules.isGuestL4Slot(i) || EntryRules.lnDisallowedFlags(e) != 0
                        || !s.isFrame(e.frame()) || s.frame(e.frame()).owner() != d.id())) {
                    return new MmuResult.Refused(Errno.EINVAL, "LN-1", "PRE-2: L4 " + Hex.of(root) + "[" + i
                            + "] = " + e + " is not a valid L4 entry of d" + d.id());
                }
            }
            FrameInfo f = s.frame(root);
            return MmuResult.ok(s.withFrame(root, f.withType(PageType.L4).withTypeCount(1).withCount(f.count() + 1)
                    .withValidated(true)));
        }
        MmuResult r = PageTypes.getPageAndType(s, root, PageType.L4, d.id());
        if (r instanceof MmuResult.Refused x) {
            return new MmuResult.Refused(x.errno(), x.rule(), "PRE-2: " + x.reason());
        }
        return r;
    }

    // ---- effects ------------------------------------------------------------------------------------------------

    /**
     * POST-2 (SH-5, Xen {@code shadow_teardown}): every shadow table of the domain's vCPUs — the roots included —
     * zeroed and returned to the free pool (they were {@code dom_xen} frames taken with {@code reserveForXen}).
     */
    static DirectPagingState releaseShadows(DirectPagingState s, Domain d) {
        DirectPagingState t = s;
        for (Vcpu v : d.vcpus()) {
            if (!v.shadow().active()) {
                continue;
            }
            for (long f : v.shadow().tables()) {
                t = ShadowPaging.zero(t, f).withFrame(f, FrameInfo.UNUSED);
            }
            t = ShadowPaging.zero(t, v.shadow().root()).withFrame(v.shadow().root(), FrameInfo.UNUSED);
        }
        return t;
    }

    /**
     * POST-3 (identity chosen) and POST-1 ("translate off"): the domain in direct mode, its p2m the identity on the
     * frames the frame table says it owns; its vCPUs as they were (the caller replaces them one by one).
     */
    static Domain directDomain(DirectPagingState s, Domain d) {
        SortedMap<Long, Long> p2m = new TreeMap<>();
        for (long f = 0; f < s.frames().size(); f++) {
            if (s.frame(f).owner() == d.id()) {
                p2m.put(f, f);
            }
        }
        return new Domain(d.id(), MmuMode.DIRECT, p2m, d.vcpus(), 0, d.hypercallPageInstalled(), d.identity(),
                d.devices());
    }

    /**
     * The vCPU after the switch: controls {@link VmcsSetup#direct} with the guest's own CR0 (the hardware CR0 with WP
     * from the read shadow, which holds what the guest set: the hardware WP was forced in shadow mode), the hardware
     * CR0 with WP forced (MISC-1), CR3 = the root with PCID 0 (what the guest sees: CR3-store exiting is off in direct
     * mode), no shadow state.
     */
    static Vcpu directVcpu(Vcpu v, long root, Faults faults) {
        Vmcs vmcs = v.vmcs();
        CpuState hw = vmcs.guest().cpu();
        boolean wp = ((vmcs.controls().cr0ReadShadow() >>> Cr0.WP_BIT) & 1) != 0;
        ExecutionControls c = VmcsSetup.direct(v.vpid(), hw.cr0().withWp(wp), faults);
        CpuState g = VmcsSetup.forceWp(hw).withCr3(Cr3.ofFrame(root));
        return v.withVmcs(vmcs.withControls(c).withGuest(new GuestState(g, vmcs.guest().rip())))
                .withShadow(ShadowState.NONE);
    }
}
