package org.hybridv.xen;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.EptPermissions;
import org.hybridv.ept.Eptp;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.Vmcs;
import org.hybridv.x86.Checks;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Hex;

/**
 * The domain builder's operations ({@code post = f(pre, call)}): create a domain from free frames and a p2m, build
 * its EPT (HAP), and set up vCPUs with the VMCS each MMU mode needs ({@link VmcsSetup}).
 */
public final class Domains {
    private Domains() {}

    /**
     * Creates domain {@code id} in {@code mode} owning {@code frames} with {@code p2m}. Refused (-EINVAL) if the id
     * is taken; if a frame is not free (OWN-1: a frame has one owner, and a hypervisor frame is never given away); if
     * the p2m maps a guest frame to a machine frame outside {@code frames} (HAP-2 for HAP and shadow; in direct mode
     * the p2m must be the identity on the domain's frames, SWITCH_MMU POST-3). In HAP mode the EPT is built from the
     * p2m in hypervisor frames ({@link #buildEpt}).
     */
    public static HvResult create(XenMachine m, int id, MmuMode mode, long[] frames, Map<Long, Long> p2m) {
        Checks.inRange("domain", id, 0, FrameInfo.MAX_DOMAIN);
        Checks.notNull("mode", mode);
        if (m.domains().containsKey(id)) {
            return new HvResult.Refused(Errno.EINVAL, "OWN-1", "domain d" + id + " exists");
        }
        DirectPagingState s = m.paging();
        java.util.Set<Long> own = new java.util.TreeSet<>();
        for (long f : frames) {
            if (!s.isFrame(f) || !s.frame(f).equals(FrameInfo.UNUSED) || !own.add(f)) {
                return new HvResult.Refused(Errno.EINVAL, "OWN-1", "frame " + Hex.of(f) + " is not free: "
                        + (s.isFrame(f) ? s.frame(f) : "not RAM"));
            }
        }
        for (Map.Entry<Long, Long> e : p2m.entrySet()) {
            if (!own.contains(e.getValue())) {
                return new HvResult.Refused(Errno.EINVAL, "HAP-2", "p2m maps gfn " + Hex.of(e.getKey()) + " to "
                        + Hex.of(e.getValue()) + ", not a frame of d" + id);
            }
            if (mode == MmuMode.DIRECT && !e.getKey().equals(e.getValue())) {
                return new HvResult.Refused(Errno.EINVAL, "POST-3", "direct mode: gfn " + Hex.of(e.getKey())
                        + " must map to itself, not " + Hex.of(e.getValue()));
            }
        }
        s = s.assign(id, frames);
        XenMachine after = m.withPaging(s);
        long eptp = 0;
        if (mode == MmuMode.HAP) {
            EptBuild b = buildEpt(after, p2m);
            if (b == null) {
                return new HvResult.Refused(Errno.ENOMEM, "HAP-1", "no free frame left for d" + id + "'s EPT");
            }
            after = b.machine();
            eptp = b.eptp().raw();
        }
        return new HvResult.Done(after.withDomain(new Domain(id, mode, new TreeMap<>(p2m), List.of(), eptp, false)));
    }

    /** An EPT built into hypervisor frames, and the machine with those frames taken. */
    public record EptBuild(XenMachine machine, Eptp eptp) {}

    /**
     * HAP-1: builds the 4-level EPT for {@code p2m}: every gfn g of the p2m gets a 4-KByte leaf mapping p2m(g) RWX,
     * write-back ({@code ept_p2m_type_to_flags} for {@code p2m_ram_rw}); nothing else is present. Tables are taken
     * from free frames, lowest first, and owned by the hypervisor ({@link FrameInfo#XEN}): no guest may reach them.
     *
     * @return null if the machine has too few free frames
     */
    public static EptBuild buildEpt(XenMachine m, Map<Long, Long> p2m) {
        DirectPagingState s = m.paging();
        long[] next = {0};
        long pml4 = allocate(s, next);
        if (pml4 < 0) {
            return null;
        }
        s = s.reserveForXen(pml4);
        for (Map.Entry<Long, Long> e : new TreeMap<>(p2m).entrySet()) {
            long gpa = e.getKey() << 12;
            long table = pml4;
            for (int shift = 39; shift >= 21; shift -= 9) {
                int index = (int) ((gpa >>> shift) & 511);
                EptEntry entry = new EptEntry(s.memory().read(table, index));
                if (!entry.present()) {
                    long t = allocate(s, next);
                    if (t < 0) {
                        return null;
                    }
                    s = s.reserveForXen(t);
                    s = s.withMemory(s.memory().write(table, index, EptEntry.table(t).raw()));
                    entry = EptEntry.table(t);
                }
                table = entry.frame();
            }
            int index = (int) ((gpa >>> 12) & 511);
            s = s.withMemory(s.memory().write(table, index, EptEntry.pte(e.getValue(), EptPermissions.ALL).raw()));
        }
        return new EptBuild(m.withPaging(s), Eptp.ofFrame(pml4, false));
    }

    private static long allocate(DirectPagingState s, long[] next) {
        for (long f = next[0]; f < s.frames().size(); f++) {
            if (s.frame(f).equals(FrameInfo.UNUSED)) {
                next[0] = f + 1;
                return f;
            }
        }
        return -1;
    }

    /**
     * Adds the next vCPU of domain {@code d} with VPID {@code vpid} (non-zero, distinct from every other vCPU's) and
     * initial guest state {@code guest}, with the controls of the domain's mode ({@link VmcsSetup}). In direct mode
     * the guest state gets CR0.WP = 1 (MISC-1; the read shadow keeps the guest's value) and its CR3 must name an L4 of
     * the domain that validates: it becomes the vCPU's {@code guest_table} as {@code MMUEXT_NEW_BASEPTR} would take it
     * (MX-3; a refusal is returned as is). In shadow mode (SH-1) a free frame becomes the hypervisor-owned shadow root
     * the hardware CR3 points at; the guest's CR3 is kept in {@link ShadowState#guestCr3()}; CR0.WP is forced as in
     * direct mode (−ENOMEM if no frame is free). The host state is the processor's current host CPU state.
     * Seeded fault {@link Fault#VPID_SHARED_ACROSS_DOMAINS}: a VPID used by another domain's vCPU is accepted (only
     * one used within the domain is refused).
     */
    public static HvResult addVcpu(XenMachine m, int d, int vpid, CpuState guest) {
        Domain dom = m.domain(d);
        Checks.notNull("guest state", guest);
        boolean taken = m.domainOfVpid(vpid) >= 0;
        if (m.faults().breaks(Fault.VPID_SHARED_ACROSS_DOMAINS)) {
            taken = dom.vcpus().stream().anyMatch(v -> v.vpid() == vpid);
        }
        if (vpid <= 0 || vpid > 0xFFFF || taken) {
            return new HvResult.Refused(Errno.EINVAL, "VPID", "VPID " + vpid + " is 0 or taken (CTL-5:"
                    + " one VPID per vCPU, never the host's 0)");
        }
        VcpuId id = new VcpuId(d, dom.vcpus().size());
        ExecutionControls c;
        CpuState g = guest;
        XenMachine after = m;
        ShadowState shadow = ShadowState.NONE;
        switch (dom.mode()) {
            case SHADOW -> {
                long root = allocate(m.paging(), new long[] {0});
                if (root < 0) {
                    return new HvResult.Refused(Errno.ENOMEM, "SH-1", "no free frame for " + id + "'s shadow root");
                }
                c = VmcsSetup.shadow(vpid, guest.cr0(), m.faults());
                g = VmcsSetup.forceWp(guest).withCr3(org.hybridv.x86.Cr3.ofFrame(root));
                after = m.withPaging(m.paging().reserveForXen(root));
                shadow = new ShadowState(guest.cr3().bits(), root, List.of());
            }
            case HAP -> c = VmcsSetup.hap(vpid, dom.eptp(), m.faults());
            default -> {
                c = VmcsSetup.direct(vpid, guest.cr0(), m.faults());
                g = VmcsSetup.forceWp(guest);
                if (guest.cr0().pg()) {
                    MmuResult r = DirectPaging.newBaseptr(m.paging(), id, guest.cr3().pml4Frame());
                    if (r instanceof MmuResult.Refused x) {
                        return new HvResult.Refused(x.errno(), x.rule(), x.reason());
                    }
                    after = m.withPaging(((MmuResult.Success) r).state());
                }
            }
        }
        Vmcs vmcs = new Vmcs(c, new GuestState(g, 0), m.processor().vmcs().host(), null);
        return new HvResult.Done(after.withDomain(after.domain(d).withVcpu(new Vcpu(id, vmcs, false, false, shadow))));
    }

    /** Frames {@code from..to} inclusive, for building domains in tests and scenarios. */
    public static long[] range(long from, long to) {
        long[] r = new long[(int) (to - from + 1)];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    /** The identity p2m on {@code frames} (direct mode). */
    public static SortedMap<Long, Long> identity(long[] frames) {
        SortedMap<Long, Long> p = new TreeMap<>();
        for (long f : frames) {
            p.put(f, f);
        }
        return p;
    }
}
