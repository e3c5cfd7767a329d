package org.hybridv.xen;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.x86.Access;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.EntryReader;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.ProtectionKeys;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.Walk;

/**
 * Shadow paging for translated (HVM) guests (Xen {@code xen/arch/x86/mm/shadow/multi.c}), kept simple: the shadow of
 * a vCPU is one 4-level tree in hypervisor-owned frames rooted at {@link ShadowState#root()} (what the hardware CR3
 * holds), filled one 4-KByte leaf at a time on #PF exits, and dropped wholesale when it may have become stale; it is
 * rebuilt on demand. Intermediate shadow entries are P|RW|US: the leaf carries the rights of the whole guest walk
 * (SH-2, "the effective rights are the AND over the whole guest walk").
 *
 * <p>The guest's tables are guest-physical: every entry read goes through the domain's p2m ({@link P2mReader}).
 */
public final class ShadowPaging {
    private ShadowPaging() {}

    /**
     * A guest page walk's entry reader: guest-physical entry addresses translated by the p2m (Xen
     * {@code guest_walk_tables} maps each table with {@code get_page_from_gfn}); a gfn the p2m does not map as RAM
     * refuses the read.
     */
    public static final class P2mReader implements EntryReader {
        private final PhysicalMemory memory;
        private final Domain domain;
        private boolean refused;

        public P2mReader(PhysicalMemory memory, Domain domain) {
            this.memory = memory;
            this.domain = domain;
        }

        @Override
        public long read(long gpa) {
            long mfn = domain.machineFrame(gpa >>> 12);
            refused = mfn < 0 || mfn >= memory.frameCount();
            return refused ? 0 : memory.read(mfn, (int) ((gpa & 0xFFF) >>> 3));
        }

        @Override
        public boolean refused() {
            return refused;
        }
    }

    /**
     * The CPU state the guest believes it runs with: the hardware guest state with the guest's own CR3 (kept by the
     * hypervisor, CR3-load exiting) and the guest's CR0.WP (the read shadow: the hardware WP is forced to 1).
     */
    public static CpuState guestCpu(Vcpu v) {
        CpuState hw = v.vmcs().guest().cpu();
        boolean wp = ((v.vmcs().controls().cr0ReadShadow() >>> Cr0.WP_BIT) & 1) != 0;
        return hw.withCr3(Cr3.ofBits(v.shadow().guestCr3())).withCr0(hw.cr0().withWp(wp));
    }

    /** The guest's walk of {@code linear} through its own tables and the p2m. */
    public static Walk guestWalk(XenMachine m, Vcpu v, long linear) {
        return PageWalk.walk(new P2mReader(m.memory(), m.domain(v.id().domain())), guestCpu(v), linear);
    }

    /**
     * SH-1, SH-2 (Xen {@code _sh_propagate}, {@code validate_gl1e}): the shadow L1 entry for a guest walk with
     * effective {@code rights} whose 4-KByte page is machine frame {@code mfn} (p2m of the guest frame). Flags = the
     * guest walk's RW and US (ANDed over the walk), NX (ORed), A set (the guest A bit was set by the fill, so P may be
     * set); RW removed unless the guest leaf is dirty (set by a write fill) and unless {@code mfn} is one of the
     * domain's guest page tables (SH-4 write trapping, {@code sh_mfn_is_a_page_table}); D set only with RW. The
     * protection key is copied.
     */
    public static Entry propagate(Rights rights, boolean guestDirty, long mfn, boolean pageTable) {
        return propagate(Faults.NONE, rights, guestDirty, mfn, pageTable);
    }

    /**
     * {@link #propagate(Rights, boolean, long, boolean)} as the hypervisor with {@code faults} computes it. Seeded
     * fault {@link Fault#SHADOW_MORE_PERMISSIVE}: RW is granted for a dirty guest leaf whatever the RW of the guest
     * walk (the walk's rights are not ANDed in for RW).
     */
    public static Entry propagate(Faults faults, Rights rights, boolean guestDirty, long mfn, boolean pageTable) {
        boolean walkRw = rights.writable() || faults.breaks(Fault.SHADOW_MORE_PERMISSIVE);
        boolean rw = walkRw && guestDirty && !pageTable;
        Entry e = Entry.table(mfn, rw, rights.user()).withAccessed(true).withDirty(rw)
                .withProtectionKey(rights.protectionKey());
        return rights.executeDisable() ? e.withNoExecute(true) : e;
    }

    /**
     * SH-4 (Xen {@code sh_mfn_is_a_page_table}): the machine frames reachable as guest page tables (L4 … L1) from
     * the CR3 of any of the domain's shadow-mode vCPUs, through the p2m. A frame may be a table at several levels at
     * once (an L4 entry may point at the guest's own L2, say); its entries are then read at each of those levels, so it
     * is explored once per level it is reached at, not once: the tables below its higher-level use are page tables
     * too (the visited set is of (frame, level) pairs).
     */
    public static Set<Long> guestPageTables(XenMachine m, Domain d) {
        Set<Long> out = new TreeSet<>();
        Set<Long> visited = new HashSet<>();
        for (Vcpu v : d.vcpus()) {
            if (v.shadow().active()) {
                collect(m.memory(), d, d.machineFrame(Cr3.ofBits(v.shadow().guestCr3()).pml4Base() >>> 12), 4, out,
                        visited);
            }
        }
        return out;
    }

    private static void collect(PhysicalMemory mem, Domain d, long mfn, int level, Set<Long> out, Set<Long> visited) {
        if (mfn < 0 || mfn >= mem.frameCount() || !visited.add(mfn * 8 + level)) {
            return;
        }
        out.add(mfn);
        if (level == 1) {
            return;
        }
        // only the non-zero words: a zero entry is not present
        for (int i = mem.nextNonZero(mfn, 0); i < PhysicalMemory.WORDS_PER_FRAME; i = mem.nextNonZero(mfn, i + 1)) {
            Entry e = new Entry(mem.read(mfn, i));
            if (e.present() && !(level <= 3 && e.pageSize())) {
                collect(mem, d, d.machineFrame(e.frame()), level - 1, out, visited);
            }
        }
    }

    /**
     * SH-1..SH-4 (Xen {@code sh_page_fault}): a #PF exit of shadow-mode vCPU {@code id} at {@code linear} for
     * {@code access}. The guest's own walk decides:
     * <ul>
     * <li>it faults → the #PF is reflected with exactly the guest walk's error code and CR2 = {@code linear} (SH-3);
     * a guest table whose gfn is not RAM counts as not present (Xen {@code guest_walk_tables});</li>
     * <li>it maps a guest frame the p2m does not map → {@code GuestError} (Xen takes the MMIO path; no device is
     * modelled), nothing changed, nothing shadowed (SH-1);</li>
     * <li>it permits a write to one of the guest's page tables → the write is emulated into guest memory (8 bytes,
     * aligned), guest A/D set, and all the domain's shadows dropped ({@link #dropAll}, SH-4);</li>
     * <li>it permits a supervisor write that the hardware, whose WP is forced to 1, would refuse — to a read-only page,
     * or to a user page whose protection key has WD set (guest CR0.WP = 0; {@link #refusedUnderForcedWp}) → the write
     * is emulated, the shadow stays as it was (SH-2; Xen {@code sh_page_fault}'s {@code emulate_wp} case);</li>
     * <li>otherwise guest A (and D for a write) are set as the processor would, the shadow leaf is filled
     * ({@link #propagate}) and the address invalidated for the VPID: {@code ShadowFilled}, and the access re-runs.</li>
     * </ul>
     */
    static HvStep pageFault(XenMachine m, VcpuId id, long linear, Access access) {
        Vcpu v = m.vcpu(id);
        Domain d = m.domain(id.domain());
        CpuState g = guestCpu(v);
        Walk w = PageWalk.walk(new P2mReader(m.memory(), d), g, linear);
        if (w.end() == Walk.End.READ_REFUSED) {
            int ec = ErrorCode.of(false, false, false, access, g).bits();
            return Hypervisor.inject(m, ExitReason.EXCEPTION_OR_NMI, PageFault.VECTOR, ec, true, linear, "SH-3",
                    "guest walk of " + Hex.of(linear) + " reaches a table whose gfn is not RAM: not present");
        }
        Translation t = PageWalk.decide(w, g, access);
        if (t instanceof PageFault pf) {
            return Hypervisor.inject(m, ExitReason.EXCEPTION_OR_NMI, PageFault.VECTOR, pf.errorCode().bits(), true,
                    linear, "SH-3", "the guest walk faults: " + pf.errorCode());
        }
        if (!(t instanceof Translated tr)) {
            throw new AssertionError("a canonical walk ends mapped or in #PF: " + t);
        }
        long gpa = tr.physicalAddress();
        long mfn = d.machineFrame(gpa >>> 12);
        if (mfn < 0) {
            return new HvStep(new VcpuOutcome.GuestError(ExitReason.EXCEPTION_OR_NMI, gpa, "SH-1", "guest "
                    + Hex.of(linear) + " maps guest-physical " + Hex.of(gpa) + ", not in d" + d.id()
                    + "'s p2m: nothing is shadowed (Xen takes the MMIO path; no device here)"), m);
        }
        XenMachine after = setAccessedDirty(m, d, w, access.isWrite());
        boolean pageTable = guestPageTables(after, d).contains(mfn);
        if (access.isWrite() && (pageTable || refusedUnderForcedWp(g, w.rights(), access))) {
            PhysicalMemory mem = after.memory().write(mfn, (int) ((gpa & 0xFFF) >>> 3), access.value());
            after = after.withPaging(after.paging().withMemory(mem));
            if (pageTable) {
                after = dropAll(after, d.id());
            }
            return new HvStep(new VcpuOutcome.Emulated(linear, access.value(), List.of(), pageTable ? "SH-4"
                    : "SH-2"), after);
        }
        boolean dirty = access.isWrite() || w.leaf().entry().dirty();
        Entry sl1e = propagate(m.faults(), w.rights(), dirty, mfn, pageTable);
        XenMachine filled = install(after, id, linear, sl1e);
        if (filled == null) {
            return new HvStep(new VcpuOutcome.GuestError(ExitReason.EXCEPTION_OR_NMI, gpa, "SH-1",
                    "no free frame for a shadow table"), m);
        }
        filled = TlbDiscipline.invvpid(filled, InvvpidType.INDIVIDUAL_ADDRESS, v.vpid(), linear);
        return new HvStep(new VcpuOutcome.ShadowFilled(linear, sl1e, "SH-2"), filled);
    }

    /**
     * Whether a write the guest's own walk permits would be refused by the hardware, which runs the guest with CR0.WP
     * forced to 1 (MISC-1): a supervisor write with the guest's CR0.WP = 0 to a read-only page (SDM Vol. 3A §4.6.1:
     * "If CR0.WP = 0, data may be written to any supervisor-mode address" and, for user-mode addresses, to one with
     * R/W = 0), or to a user-mode address whose protection key has WD set in PKRU (§4.6.2: WD_i restricts a
     * supervisor-mode write only "if CR0.WP = 1"). Such a write is emulated (SH-2's emulate-WP case): a shadow filled
     * for it would fault again on every retry.
     */
    static boolean refusedUnderForcedWp(CpuState guest, Rights rights, Access access) {
        if (!access.isWrite() || guest.cr0().wp()) {
            return false;
        }
        return !rights.writable()
                || ProtectionKeys.violation(rights, guest.withCr0(guest.cr0().withWp(true)), access);
    }

    /** Guest A on every entry of the walk, D on the leaf for a write (Xen {@code guest_walk_tables} set_ad_bits). */
    static XenMachine setAccessedDirty(XenMachine m, Domain d, Walk w, boolean write) {
        PhysicalMemory mem = m.memory();
        List<VisitedEntry> path = w.path();
        for (int i = 0; i < path.size(); i++) {
            VisitedEntry ve = path.get(i);
            Entry e = ve.entry().withAccessed(true);
            if (i == path.size() - 1 && write) {
                e = e.withDirty(true);
            }
            if (e.raw() != ve.entry().raw()) {
                mem = mem.write(d.machineFrame(ve.address() >>> 12), (int) ((ve.address() & 0xFFF) >>> 3), e.raw());
            }
        }
        return mem == m.memory() ? m : m.withPaging(m.paging().withMemory(mem));
    }

    /**
     * Writes {@code sl1e} as the shadow leaf for {@code linear}, allocating missing shadow tables (P|RW|US) from free
     * frames, which become hypervisor-owned ({@code shadow_alloc}); null if none is free.
     */
    static XenMachine install(XenMachine m, VcpuId id, long linear, Entry sl1e) {
        Vcpu v = m.vcpu(id);
        DirectPagingState s = m.paging();
        List<Long> tables = new ArrayList<>(v.shadow().tables());
        long table = v.shadow().root();
        for (int shift = 39; shift >= 21; shift -= 9) {
            int index = (int) ((linear >>> shift) & 511);
            Entry e = s.entry(table, index);
            if (!e.present()) {
                long t = free(s);
                if (t < 0) {
                    return null;
                }
                s = zero(s.reserveForXen(t), t);
                e = Entry.table(t, true, true);
                s = s.write(table, index, e);
                tables.add(t);
            }
            table = e.frame();
        }
        s = s.write(table, (int) ((linear >>> 12) & 511), sl1e);
        XenMachine after = m.withPaging(s);
        return after.withVcpu(after.vcpu(id).withShadow(v.shadow().withTables(tables)));
    }

    private static long free(DirectPagingState s) {
        for (long f = 0; f < s.frames().size(); f++) {
            if (s.frame(f).equals(FrameInfo.UNUSED)) {
                return f;
            }
        }
        return -1;
    }

    static DirectPagingState zero(DirectPagingState s, long mfn) {
        PhysicalMemory mem = s.memory();
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            if (mem.read(mfn, i) != 0) {
                mem = mem.write(mfn, i, 0);
            }
        }
        return s.withMemory(mem);
    }

    /**
     * SH-4, SH-5 (Xen {@code shadow_blow_tables} / {@code sh_remove_all_shadows}): every shadow of domain {@code d}
     * dropped — each root emptied, the other shadow tables zeroed and freed — then INVVPID single-context for each of
     * its VPIDs on the pCPUs of its dirty CPU mask (TLB-9) so that no translation cached from a dropped shadow
     * survives (I6).
     */
    public static XenMachine dropAll(XenMachine m, int d) {
        XenMachine after = m;
        for (Vcpu v : m.domain(d).vcpus()) {
            if (!v.shadow().active()) {
                continue;
            }
            DirectPagingState s = zero(after.paging(), v.shadow().root());
            for (long t : v.shadow().tables()) {
                s = zero(s, t).withFrame(t, FrameInfo.UNUSED);
            }
            after = after.withPaging(s);
            after = after.withVcpu(after.vcpu(v.id()).withShadow(v.shadow().withTables(List.of())));
        }
        // the pCPUs of the domain's dirty CPU mask: its vCPUs may have run on any (TLB-9, docs/smp.md)
        return TlbDiscipline.flushDomain(after, d);
    }

    /**
     * INVLPG exit in shadow mode (Xen {@code sh_invlpg}, {@code paging_invlpg}): a non-canonical address is a no-op
     * (TLB-6); otherwise the shadow leaf for the address is dropped and the address invalidated for the vCPU's VPID.
     */
    static HvStep invlpg(XenMachine m, VcpuId id, long linear) {
        if (!Canonical.isCanonical(linear)) {
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.INVLPG, 0, "TLB-6"), m);
        }
        DirectPagingState s = m.paging();
        long table = m.vcpu(id).shadow().root();
        for (int shift = 39; shift >= 21 && table >= 0; shift -= 9) {
            Entry e = s.entry(table, (int) ((linear >>> shift) & 511));
            table = e.present() ? e.frame() : -1;
        }
        XenMachine after = m;
        if (table >= 0) {
            after = m.withPaging(s.write(table, (int) ((linear >>> 12) & 511), Entry.NOT_PRESENT));
        }
        after = TlbDiscipline.invvpid(after, InvvpidType.INDIVIDUAL_ADDRESS, m.vcpu(id).vpid(), linear);
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.INVLPG, 0, "SH-4"), after);
    }

    /**
     * MOV to CR3 exit in shadow mode (Xen {@code hvm_set_cr3} → {@code sh_update_cr3}): the guest's CR3 becomes
     * {@code value}; a root whose gfn is not RAM → {@code GuestError} (Xen: {@code bad_cr3}, the domain is crashed),
     * nothing changed. The shadows are dropped domain-wide ({@link #dropAll}: the new tree's frames may be mapped
     * writable in another vCPU's shadow; it also switches this vCPU to a fresh, empty shadow root — SH-4's "a
     * shadow-root switch must invalidate the previous root's mappings" — and performs the CR3 load's flush, TLB-4).
     */
    static HvStep movToCr3(XenMachine m, VcpuId id, long value) {
        Domain d = m.domain(id.domain());
        long gpa = Cr3.ofBits(value).pml4Base();
        if (d.machineFrame(gpa >>> 12) < 0) {
            return new HvStep(new VcpuOutcome.GuestError(ExitReason.CR_ACCESS, gpa, "SH-1", "MOV to CR3 "
                    + Hex.of(value) + ": the root's gfn is not in d" + d.id() + "'s p2m (Xen: bad_cr3)"), m);
        }
        Vcpu v = m.vcpu(id);
        XenMachine after = m.withVcpu(v.withShadow(v.shadow().withGuestCr3(value)));
        after = dropAll(after, d.id());
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.CR_ACCESS, value, "SH-4"), after);
    }
}
