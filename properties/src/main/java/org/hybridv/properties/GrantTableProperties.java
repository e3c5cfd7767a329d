package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.DomainPv;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.GrantMapping;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * {@code grant_table_op} (rules GNT-1, GNT-2, GNT-3, GNT-5, GNT-6 of docs/rules/xen.md), every call of a run judged
 * by the rules restated here over raw observable state, never by calling the grant code: the grant entries as words
 * of the granting domain's grant-table frame ({@code struct grant_entry_v1}: flags 15:0, domid 31:16, frame 63:32),
 * the mapper's own page tables (a PTE found by walking its tables from its base pointer, 9 bits a level) or EPT (a
 * leaf found by walking from its EPTP), the frame table's owner, type and counts, the maptrack, machine memory.
 *
 * <p>The machine is {@link PvInterfaceCases}' (d1 direct, d2 HAP, d3 shadow, d0 the block back-end). A run
 * interleaves the granting guests' own stores of grant entries — every type (0..3), with and without GTF_readonly,
 * permitting the other domain, itself, d0, d3 or no domain, for its own data frames, its page tables, a foreign frame
 * or no frame — with maps (every GNTMAP flag combination; the other domain, DOMID_SELF, the caller's id, d0, d3, no
 * domain, ids past the last; references 0..7, 511, 512, −1, 2^32; free, used, unreachable, unaligned, RAM and
 * non-canonical addresses; direct, HAP and shadow mappers), unmaps (a live handle or a free, negative or huge one; the
 * mapping's address or the next page) and copies (each side a grant or a gfn, the caller's or not; lengths 0, 7, 8,
 * 12, 16, 4088, 4096, 4104, −8), and commands the model does not know (−ENOSYS). For each call:
 * <ul>
 * <li>accepted or refused — and the errno — exactly as the rule's checks in their order say;</li>
 * <li>a refusal changes no memory word, no frame's owner, type or count, no maptrack;</li>
 * <li>a map returns the lowest free handle, adds exactly that maptrack entry, sets GTF_reading and (writable) GTF_writing
 * and nothing else in the entry, installs the granted frame at host_addr (a PTE: P, U/S, A, D, R/W iff writable and
 * _PAGE_GNTTAB; an EPT leaf: readable, writable iff writable, never executable), and takes one general reference on
 * the frame and, if writable, one WRITABLE type reference; nothing else changes;</li>
 * <li>an unmap returns 0, removes exactly that handle, empties the entry, drops the references it took, clears
 * GTF_writing once no writable mapping of the grant remains and GTF_reading once no mapping remains, and changes no
 * other grant word;</li>
 * <li>a copy returns 0, writes the source's first len bytes over the destination's and changes nothing else of memory
 * or of the frame table (the references are taken and dropped around the copy).</li>
 * </ul>
 */
class GrantTableProperties {
    // grant_table.h, restated
    private static final long GNTTABOP_MAP = 0;
    private static final long GNTTABOP_UNMAP = 1;
    private static final long GNTTABOP_COPY = 5;
    private static final long GNTMAP_DEVICE_MAP = 1;
    private static final long GNTMAP_HOST_MAP = 2;
    private static final long GNTMAP_READONLY = 4;
    private static final long GNTMAP_CONTAINS_PTE = 16;
    private static final int GTF_PERMIT_ACCESS = 1;
    private static final int GTF_TYPE_MASK = 3;
    private static final int GTF_READONLY = 1 << 2;
    private static final int GTF_READING = 1 << 3;
    private static final int GTF_WRITING = 1 << 4;
    private static final long GNTCOPY_SOURCE_GREF = 1;
    private static final long GNTCOPY_DEST_GREF = 2;
    private static final int GRANT_TABLE_OP = 20;
    private static final int DOMID_SELF = 0x7FF0;
    private static final int MAX_DOMAIN = 0x7FEF;
    private static final int ENTRIES = 512;
    // Xen's errno values (public/errno.h)
    private static final int EPERM = 1;
    private static final int ESRCH = 3;
    private static final int EINVAL = 22;
    private static final int ENOSYS = 38;
    private static final int EOPNOTSUPP = 95;
    // the PTE bits (SDM Vol. 3A §4.5) and Xen's _PAGE_GNTTAB (bit 62)
    private static final long P = 1;
    private static final long RW = 1 << 1;
    private static final long US = 1 << 2;
    private static final long A = 1 << 5;
    private static final long D = 1 << 6;
    private static final long PS = 1 << 7;
    private static final long PAGE_GNTTAB = 1L << 62;
    private static final long ADDR = 0x000F_FFFF_FFFF_F000L;

    private static final VcpuId K = HypervisorCases.K;
    private static final VcpuId H = HypervisorCases.H;
    private static final VcpuId S = HypervisorCases.S;

    /** One op of a run: its kind and raw operands that {@link #run} decodes against the state it reaches. */
    record Op(int kind, int a, int b, int c, int d, int e) {
        @Override
        public String toString() {
            return new String[] {"STORE", "MAP", "UNMAP", "COPY"}[kind] + "(" + a + "," + b + "," + c + "," + d + ","
                    + e + ")";
        }
    }

    @Provide
    Arbitrary<List<Op>> runs() {
        Arbitrary<Integer> kind = Arbitraries.frequency(net.jqwik.api.Tuple.of(3, 0), net.jqwik.api.Tuple.of(6, 1),
                net.jqwik.api.Tuple.of(2, 2), net.jqwik.api.Tuple.of(3, 3));
        Arbitrary<Integer> x = Arbitraries.integers().between(0, 1 << 20);
        return Combinators.combine(kind, x, x, x, x, x).as(Op::new).list().ofMinSize(1).ofMaxSize(12);
    }

    @Property(seed = Budget.SEED, tries = 200, edgeCases = EdgeCasesMode.NONE)
    void everyGrantTableOpDoesWhatItsRuleSays(@ForAll("runs") List<Op> run) {
        XenMachine m = PvInterfaceCases.machine(Faults.NONE);
        for (Op op : run) {
            m = step(m, op);
        }
        Statistics.label("grant op").coverage(k -> {
            for (String s : new String[] {"store", "map ok direct rw", "map ok direct ro", "map ok hap rw",
                "map ok hap ro", "map refused", "unmap ok last", "unmap ok other left", "unmap refused", "copy ok",
                "copy refused"}) {
                k.check(s).count(n -> n > 0);
            }
        });
        Statistics.label("refusal").coverage(k -> {
            for (String s : new String[] {"map flags", "map shadow", "map domain", "map ref", "map type", "map domid",
                "map readonly", "map address", "map in use", "map page", "map writable type", "unmap handle",
                "unmap address", "copy len", "copy domain", "copy gfn", "copy ref", "copy permit", "copy page",
                "copy dest type", "not modelled"}) {
                k.check(s).count(n -> n > 0);
            }
        });
    }

    // ---- the ops ----------------------------------------------------------------------------------------------------

    private static XenMachine step(XenMachine m, Op op) {
        switch (op.kind()) {
            case 0:
                return store(m, op);
            case 1:
                return map(m, op);
            case 2:
                return unmap(m, op);
            default:
                return copy(m, op);
        }
    }

    private static <T> T pick(T[] xs, int i) {
        return xs[Math.floorMod(i, xs.length)];
    }

    /** The granting guest's own store of a grant entry (GNT-1), never over an entry Xen marks in use (GNT-7). */
    private static XenMachine store(XenMachine m, Op op) {
        int g = op.a() % 2 == 0 ? 1 : 2;
        int ref = (op.b() / 10) % 8;
        long table = m.pv().domain(g).grantTable();
        long old = m.memory().read(table, ref);
        if ((old & (GTF_READING | GTF_WRITING)) != 0) {
            Statistics.label("grant op").collect("store skipped (in use)");
            return m;
        }
        int other = 3 - g;
        Integer[] domids = {g, 0, 3, 9};
        // own data frames, own page tables (d1: L1, L4; d2: its guest's tables, untyped for Xen), a foreign frame, none
        Long[] data = g == 1 ? new Long[] {0x2eL, 0x2dL, 0x20L, 0x21L} : new Long[] {0x37L, 0x36L, 0x35L, 0x34L};
        Long[] odd = g == 1 ? new Long[] {0x13L, 0x10L, 0x37L, 0x7FL} : new Long[] {0x30L, 0x13L, 0x2eL, 0x7FL};
        // every type: GTF_invalid (0), GTF_permit_access, GTF_accept_transfer (2), 3
        int type = op.c() % 8 < 5 ? GTF_PERMIT_ACCESS : (op.c() / 8) % 4;
        int flags = type | ((op.c() / 32) % 3 == 0 ? GTF_READONLY : 0);
        long domid = op.d() % 10 < 7 ? other : pick(domids, op.d() / 10);
        long frame = op.e() % 10 < 5 ? pick(data, op.e() / 10) : pick(odd, op.e() / 10);
        long word = flags | domid << 16 | frame << 32;
        Statistics.label("grant op").collect("store");
        return m.withPaging(m.paging().withMemory(m.memory().write(table, ref, word)));
    }

    private static XenMachine map(XenMachine m, Op op) {
        VcpuId caller = op.a() % 20 == 0 ? S : op.a() % 2 == 0 ? K : H;
        int ld = caller.domain();
        long flags = op.b() % 10 == 0 ? (op.b() / 10) % 32 : GNTMAP_HOST_MAP | ((op.b() / 10) % 3 == 0
                ? GNTMAP_READONLY : 0);
        int other = ld == 1 ? 2 : 1;
        Long[] doms = {(long) DOMID_SELF, (long) ld, 0L, 3L, 9L, (long) MAX_DOMAIN, (long) MAX_DOMAIN + 1, -1L};
        long dom = op.c() % 10 < 8 ? other : pick(doms, op.c() / 10);
        // mostly a reference whose entry names the caller now, of any type (drawn from the granting domain's table)
        List<Long> permitting = new ArrayList<>();
        long rdl = dom == DOMID_SELF ? ld : dom;
        for (long x = 0; x < 8; x++) {
            Long w = grantWordOrNull(m, rdl, x);
            if (w != null && ((w >>> 16) & 0xFFFF) == ld) {
                permitting.add(x);
            }
        }
        int r = op.d() % 20;
        long ref = r < 14 && !permitting.isEmpty() ? permitting.get((op.d() / 20) % permitting.size())
                : r < 18 ? r % 8 : pick(new Long[] {511L, 512L, -1L, 1L << 32}, op.d() / 20);
        // mostly a page of 0x9000..0xf000 whose entry is empty now (drawn from the mapper's tables), else a corner:
        // a used entry, no L1 / no EPT table, non-canonical, unaligned, RAM
        List<Long> free = new ArrayList<>();
        for (long va = 0x9000; va < 0x10000 && !caller.equals(S); va += 0x1000) {
            long[] slot = slotOf(m, caller, va);
            if (slot != null && m.memory().read(slot[0], (int) slot[1]) == 0) {
                free.add(va);
            }
        }
        Long[] corners = caller.equals(H) ? new Long[] {0x9000L, 0x9008L, 0L, 0x4000L, 0x40_0000L}
                : new Long[] {0x9000L, 0x5000L, 0x40_0000L, 0x0000_8000_0000_0000L};
        long addr = op.e() % 10 < 7 && !free.isEmpty() ? free.get((op.e() / 10) % free.size())
                : pick(corners, op.e() / 10);
        Hypercall call = Hypercall.of(GRANT_TABLE_OP, GNTTABOP_MAP, addr, flags, ref, dom);
        HvStep s = Hypervisor.hypercall(m, caller, call);
        Verdict v = mapVerdict(m, caller, addr, flags, ref, dom);
        judgeOutcome(m, s, v, "map " + call + " by " + caller);
        if (!v.ok()) {
            return s.machine();
        }
        XenMachine post = s.machine();
        boolean ro = (flags & GNTMAP_READONLY) != 0;
        int rd = (int) (dom == DOMID_SELF ? ld : dom);
        long before = grantWord(m, rd, ref);
        long frame = before >>> 32;
        Map<Integer, GrantMapping> was = m.pv().domain(ld).maptrack();
        int handle = 0;
        while (was.containsKey(handle)) {
            handle++;
        }
        assertThat(rax(s)).as("GNT-2: the map handle is the lowest free one").isEqualTo(handle);
        Map<Integer, GrantMapping> now = post.pv().domain(ld).maptrack();
        assertThat(now.keySet()).as("GNT-2: one maptrack entry more, handle %d", handle).containsAll(was.keySet())
                .contains(handle).hasSize(was.size() + 1);
        GrantMapping g = now.get(handle);
        assertThat(g.grantingDomain() == rd && g.ref() == ref && g.frame() == frame && g.hostAddr() == addr
                && g.readonly() == ro).as("GNT-2: the maptrack entry %s records grant %d of d%d, frame %#x at %#x%s",
                g, ref, rd, frame, addr, ro ? " ro" : " rw").isTrue();
        long after = grantWord(post, rd, ref);
        assertThat(after).as("GNT-2: the grant entry gets GTF_reading%s and nothing else", ro ? "" : ", GTF_writing")
                .isEqualTo(before | GTF_READING | (ro ? 0 : GTF_WRITING));
        long[] slot = slotOf(m, caller, addr);
        long entry = post.memory().read(slot[0], (int) slot[1]);
        if (m.domain(ld).mode() == MmuMode.HAP) {
            assertThat(entry & 7).as("GNT-2: the EPT leaf at %#x is readable, %s, not executable", addr,
                    ro ? "read-only" : "writable").isEqualTo(ro ? 1 : 3);
            assertThat((entry & ADDR) >>> 12).as("GNT-2: the EPT leaf maps the granted frame").isEqualTo(frame);
            Statistics.label("grant op").collect("map ok hap " + (ro ? "ro" : "rw"));
        } else {
            assertThat(entry).as("GNT-2: the PTE at %#x", addr).isEqualTo(frame << 12 | P | US | A | D
                    | (ro ? 0 : RW) | PAGE_GNTTAB);
            Statistics.label("grant op").collect("map ok direct " + (ro ? "ro" : "rw"));
        }
        assertOnlyChanged(m, post, List.of(new long[] {slot[0], slot[1]}, grantSlot(m, rd, ref)));
        FrameInfo f0 = m.frames().get(frame);
        FrameInfo f1 = post.frames().get(frame);
        assertThat(f1.count()).as("GNT-3: one general reference on the granted frame").isEqualTo(f0.count() + 1);
        assertThat(f1.typeCount()).as("GNT-3: a WRITABLE type reference iff writable").isEqualTo(f0.typeCount()
                + (ro ? 0 : 1));
        if (!ro) {
            assertThat(f1.type()).as("GNT-3: the writable frame's type").isEqualTo(PageType.WRITABLE);
        }
        assertFramesUnchangedBut(m, post, frame);
        return post;
    }

    private static XenMachine unmap(XenMachine m, Op op) {
        // mostly a mapper that has mappings (drawn from the maptracks)
        boolean kLive = !m.pv().domain(1).maptrack().isEmpty();
        boolean hLive = !m.pv().domain(2).maptrack().isEmpty();
        VcpuId caller = op.a() % 5 != 0 && kLive != hLive ? (kLive ? K : H) : op.a() % 2 == 0 ? K : H;
        int ld = caller.domain();
        List<Integer> live = new ArrayList<>(m.pv().domain(ld).maptrack().keySet());
        int handle;
        if (!live.isEmpty() && op.b() % 5 != 0) {
            handle = live.get(op.c() % live.size());
        } else {
            int free = 0;
            while (m.pv().domain(ld).maptrack().containsKey(free)) {
                free++;
            }
            handle = pick(new Integer[] {free, free + 1, -1, Integer.MIN_VALUE}, op.c());
        }
        GrantMapping g = m.pv().domain(ld).maptrack().get(handle);
        long addr = g != null && op.d() % 6 != 0 ? g.hostAddr() : (g != null ? g.hostAddr() : 0x9000) + 0x1000;
        long h = handle == Integer.MIN_VALUE ? 1L << 40 : handle;
        Hypercall call = Hypercall.of(GRANT_TABLE_OP, GNTTABOP_UNMAP, addr, h, 0, 0);
        HvStep s = Hypervisor.hypercall(m, caller, call);
        Verdict v = g == null ? Verdict.no(EINVAL, "unmap handle") : g.hostAddr() != addr
                ? Verdict.no(EINVAL, "unmap address") : Verdict.YES;
        judgeOutcome(m, s, v, "unmap " + call + " by " + caller);
        if (!v.ok()) {
            return s.machine();
        }
        XenMachine post = s.machine();
        assertThat(rax(s)).as("GNT-5: unmap returns 0").isZero();
        Map<Integer, GrantMapping> expect = new TreeMap<>(m.pv().domain(ld).maptrack());
        expect.remove(handle);
        assertThat(post.pv().domain(ld).maptrack()).as("GNT-5: exactly handle %d released", handle).isEqualTo(expect);
        long[] slot = slotOf(m, caller, addr);
        assertThat(post.memory().read(slot[0], (int) slot[1])).as("GNT-5: the entry at %#x is emptied", addr).isZero();
        boolean reading = false;
        boolean writing = false;
        for (DomainPv dp : post.pv().domains().values()) {
            for (GrantMapping o : dp.maptrack().values()) {
                if (o.grantingDomain() == g.grantingDomain() && o.ref() == g.ref()) {
                    reading = true;
                    writing |= !o.readonly();
                }
            }
        }
        long before = grantWord(m, g.grantingDomain(), g.ref());
        long want = before & ~((reading ? 0 : GTF_READING) | (writing ? 0 : GTF_WRITING));
        assertThat(grantWord(post, g.grantingDomain(), g.ref())).as("GNT-5: the grant entry after the unmap (%s"
                + " mapping of it left, %s writable)", reading ? "a" : "no", writing ? "one" : "none")
                .isEqualTo(want);
        Statistics.label("grant op").collect(reading ? "unmap ok other left" : "unmap ok last");
        assertOnlyChanged(m, post, List.of(slot, grantSlot(m, g.grantingDomain(), g.ref())));
        FrameInfo f0 = m.frames().get(g.frame());
        FrameInfo f1 = post.frames().get(g.frame());
        assertThat(f1.count()).as("GNT-3: the unmap drops its general reference").isEqualTo(f0.count() - 1);
        assertThat(f1.typeCount()).as("GNT-3: the unmap drops its type reference iff writable")
                .isEqualTo(f0.typeCount() - (g.readonly() ? 0 : 1));
        assertFramesUnchangedBut(m, post, g.frame());
        return post;
    }

    private static XenMachine copy(XenMachine m, Op op) {
        VcpuId caller = op.a() % 3 == 2 ? H : K;
        int ld = caller.domain();
        int other = 3 - ld;
        long len = op.b() % 10 < 7 ? pick(new Long[] {8L, 16L, 4096L, 4088L}, op.b() / 10)
                : pick(new Long[] {0L, 7L, 12L, 4104L, -8L, 9L}, op.b() / 10);
        boolean srcGref = op.c() % 4 != 0;
        boolean dstGref = (op.c() / 4) % 3 == 0;
        long src = side(op.d(), srcGref, ld, other);
        long dst = side(op.e(), dstGref, ld, other);
        long flags = (srcGref ? GNTCOPY_SOURCE_GREF : 0) | (dstGref ? GNTCOPY_DEST_GREF : 0);
        // now and then a command Xen has that the model does not (setup_table 2, dump_table 3, transfer 4, 6..)
        long cmd = op.a() % 16 == 1 ? pick(new Long[] {2L, 3L, 4L, 6L, 7L, 100L}, op.a() / 16) : GNTTABOP_COPY;
        Hypercall call = Hypercall.of(GRANT_TABLE_OP, cmd, src, dst, flags, len);
        HvStep s = Hypervisor.hypercall(m, caller, call);
        Verdict v = cmd != GNTTABOP_COPY ? Verdict.no(ENOSYS, "not modelled")
                : copyVerdict(m, ld, src, dst, srcGref, dstGref, len);
        judgeOutcome(m, s, v, "copy " + call + " by " + caller);
        if (!v.ok()) {
            return s.machine();
        }
        XenMachine post = s.machine();
        assertThat(rax(s)).as("GNT-6: copy returns 0").isZero();
        long sf = copyFrame(m, ld, src, srcGref);
        long df = copyFrame(m, ld, dst, dstGref);
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            long want = i < len / 8 ? m.memory().read(sf, i) : m.memory().read(df, i);
            if (post.memory().read(df, i) != want) {
                throw new AssertionError(String.format("GNT-6: word %d of destination %#x is %#x, not %#x (%d bytes"
                        + " from %#x)", i, df, post.memory().read(df, i), want, len, sf));
            }
        }
        List<long[]> changed = new ArrayList<>();
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            changed.add(new long[] {df, i});
        }
        assertOnlyChanged(m, post, changed);
        assertFramesUnchangedBut(m, post, -1);
        Statistics.label("grant op").collect("copy ok");
        return post;
    }

    /** A copy side's word (domid << 32 | ref or gfn): a grant of the other domain or the caller, or a gfn. */
    private static long side(int x, boolean gref, int ld, int other) {
        Long[] doms = {(long) DOMID_SELF, (long) ld, 9L, 3L, (long) MAX_DOMAIN + 1};
        Long[] ids = gref ? new Long[] {0L, 1L, 2L, 3L, 4L, 5L, 511L, 512L}
                : ld == 1 ? new Long[] {0x2cL, 0x2dL, 0x20L, 0x13L, 0x37L, 0x7FL}
                : new Long[] {4L, 5L, 6L, 7L, 0L, 9L, 0x100L};
        long dom = gref ? (x % 10 < 7 ? other : pick(doms, x / 10)) : x % 10 < 7 ? ld
                : pick(new Long[] {(long) DOMID_SELF, (long) other, 9L}, x / 10);
        long id = gref && x % 10 < 7 ? (x / 10) % 2 : pick(ids, x / 100);
        return dom << 32 | id;
    }

    // ---- the rules, restated ---------------------------------------------------------------------------------------

    /** What the rules say of a call: accepted, or refused with this errno (and which check, for the floors). */
    record Verdict(boolean ok, int errno, String check) {
        static final Verdict YES = new Verdict(true, 0, "");

        static Verdict no(int errno, String check) {
            return new Verdict(false, errno, check);
        }
    }

    /** Grant {@code ref} of {@code d} as its grant-table frame holds it, or null (no domain, no table, bad ref). */
    private static Long grantWordOrNull(XenMachine m, long d, long ref) {
        if (d < 0 || d > MAX_DOMAIN || !m.domains().containsKey((int) d) || ref < 0 || ref >= ENTRIES) {
            return null;
        }
        long t = m.pv().domain((int) d).grantTable();
        return t < 0 ? null : m.memory().read(t, (int) ref);
    }

    private static long grantWord(XenMachine m, long d, long ref) {
        return grantWordOrNull(m, d, ref);
    }

    private static long[] grantSlot(XenMachine m, long d, long ref) {
        return new long[] {m.pv().domain((int) d).grantTable(), ref};
    }

    private static boolean permits(long word, int d) {
        return (word & GTF_TYPE_MASK) == GTF_PERMIT_ACCESS && ((word >>> 16) & 0xFFFF) == d;
    }

    private static boolean ownedBy(XenMachine m, long frame, long d) {
        return m.frames().contains(frame) && m.frames().get(frame).owner() == d;
    }

    /** A frame that can take a WRITABLE type reference: no type reference, or WRITABLE already (TYP-1, GNT-3). */
    private static boolean canBeWritable(XenMachine m, long frame) {
        FrameInfo f = m.frames().get(frame);
        return f.typeCount() == 0 || f.type() == PageType.WRITABLE;
    }

    /**
     * The table and index of the entry that maps {@code addr} for {@code caller}: the L1 slot reached from its base
     * pointer through present non-large entries (direct), the EPT leaf slot reached from its EPTP (HAP); null if the
     * walk stops earlier.
     */
    private static long[] slotOf(XenMachine m, VcpuId caller, long addr) {
        boolean hap = m.domain(caller.domain()).mode() == MmuMode.HAP;
        long table;
        if (hap) {
            table = (m.domain(caller.domain()).eptp() & ADDR) >>> 12;
        } else {
            Long base = m.guestTables().get(caller);
            if (base == null || addr >= 0x0000_8000_0000_0000L) {
                return null;
            }
            table = base;
        }
        for (int level = 4; level > 1; level--) {
            long e = m.memory().read(table, (int) ((addr >>> (12 + 9 * (level - 1))) & 511));
            boolean present = hap ? (e & 7) != 0 : (e & P) != 0;
            if (!present || (e & PS) != 0) {
                return null;
            }
            table = (e & ADDR) >>> 12;
            if (!m.frames().contains(table)) {
                return null;
            }
        }
        return new long[] {table, (addr >>> 12) & 511};
    }

    /** GNT-2's checks in their order ({@code map_grant_ref}, {@code create_grant_va_mapping} / p2m mapping). */
    private static Verdict mapVerdict(XenMachine m, VcpuId caller, long addr, long flags, long ref, long dom) {
        int ld = caller.domain();
        if ((flags & GNTMAP_HOST_MAP) == 0 || (flags & (GNTMAP_DEVICE_MAP | GNTMAP_CONTAINS_PTE)) != 0) {
            return Verdict.no(EINVAL, "map flags");
        }
        MmuMode mode = m.domain(ld).mode();
        if (mode == MmuMode.SHADOW) {
            return Verdict.no(EOPNOTSUPP, "map shadow");
        }
        long rd = dom == DOMID_SELF ? ld : dom;
        if (rd < 0 || rd > MAX_DOMAIN || !m.domains().containsKey((int) rd)) {
            return Verdict.no(ESRCH, "map domain");
        }
        Long word = grantWordOrNull(m, rd, ref);
        if (word == null) {
            return Verdict.no(EINVAL, "map ref");
        }
        if ((word & GTF_TYPE_MASK) != GTF_PERMIT_ACCESS) {
            return Verdict.no(EINVAL, "map type");
        }
        if (!permits(word, ld)) {
            return Verdict.no(EINVAL, "map domid");
        }
        boolean ro = (flags & GNTMAP_READONLY) != 0;
        if (!ro && (word & GTF_READONLY) != 0) {
            return Verdict.no(EINVAL, "map readonly");
        }
        long[] slot;
        if (mode == MmuMode.HAP) {
            if ((addr & 0xFFF) != 0 || m.domain(ld).machineFrame(addr >>> 12) >= 0) {
                return Verdict.no(EINVAL, "map address");
            }
            slot = slotOf(m, caller, addr);
            if (slot == null) {
                return Verdict.no(EINVAL, "map address");
            }
            if (m.memory().read(slot[0], (int) slot[1]) != 0) {
                return Verdict.no(EINVAL, "map in use");
            }
        } else {
            slot = slotOf(m, caller, addr);
            FrameInfo l1 = slot == null ? null : m.frames().get(slot[0]);
            if (l1 == null || l1.owner() != ld || l1.type() != PageType.L1 || l1.typeCount() == 0) {
                return Verdict.no(EINVAL, "map address");
            }
            if ((m.memory().read(slot[0], (int) slot[1]) & P) != 0) {
                return Verdict.no(EINVAL, "map in use");
            }
        }
        long frame = word >>> 32;
        if (!ownedBy(m, frame, rd)) {
            return Verdict.no(EINVAL, "map page");
        }
        if (!ro && !canBeWritable(m, frame)) {
            return Verdict.no(EINVAL, "map writable type");
        }
        return Verdict.YES;
    }

    /** The frame a copy side names (an already judged valid side): the grant's frame or the caller's gfn's frame. */
    private static long copyFrame(XenMachine m, int ld, long word, boolean gref) {
        long dom = word >>> 32;
        long d = dom == DOMID_SELF ? ld : dom;
        long id = word & 0xFFFF_FFFFL;
        if (gref) {
            return grantWord(m, d, id) >>> 32;
        }
        return m.domain(ld).mode() == MmuMode.DIRECT ? id : m.domain(ld).machineFrame(id);
    }

    /** A copy side's refusal, or null ({@code gnttab_copy}'s acquire of each side; GNT-6). */
    private static Verdict sideVerdict(XenMachine m, int ld, long word, boolean gref, boolean dest) {
        long dom = word >>> 32;
        long d = dom == DOMID_SELF ? ld : dom;
        long id = word & 0xFFFF_FFFFL;
        if (d > MAX_DOMAIN || !m.domains().containsKey((int) d)) {
            return Verdict.no(ESRCH, "copy domain");
        }
        if (!gref) {
            if (d != ld) {
                return Verdict.no(EPERM, "copy gfn");
            }
            long mfn = m.domain(ld).mode() == MmuMode.DIRECT ? id : m.domain(ld).machineFrame(id);
            return ownedBy(m, mfn, ld) ? null : Verdict.no(EPERM, "copy gfn");
        }
        Long w = grantWordOrNull(m, d, id);
        if (w == null) {
            return Verdict.no(EINVAL, "copy ref");
        }
        if (!permits(w, ld) || dest && (w & GTF_READONLY) != 0) {
            return Verdict.no(EINVAL, "copy permit");
        }
        return ownedBy(m, w >>> 32, d) ? null : Verdict.no(EINVAL, "copy page");
    }

    private static Verdict copyVerdict(XenMachine m, int ld, long src, long dst, boolean srcGref, boolean dstGref,
            long len) {
        if (len <= 0 || len > 4096 || len % 8 != 0) {
            return Verdict.no(EINVAL, "copy len");
        }
        Verdict v = sideVerdict(m, ld, src, srcGref, false);
        if (v == null) {
            v = sideVerdict(m, ld, dst, dstGref, true);
        }
        if (v != null) {
            return v;
        }
        return canBeWritable(m, copyFrame(m, ld, dst, dstGref)) ? Verdict.YES : Verdict.no(EINVAL, "copy dest type");
    }

    // ---- the judgement ---------------------------------------------------------------------------------------------

    private static long rax(HvStep s) {
        return ((VcpuOutcome.HypercallDone) s.outcome()).rax();
    }

    /** Accepted or refused as the verdict says; a refusal with its errno changes nothing. */
    private static void judgeOutcome(XenMachine pre, HvStep s, Verdict v, String what) {
        assertThat(s.outcome() instanceof VcpuOutcome.HypercallDone || s.outcome() instanceof VcpuOutcome
                .HypercallRefused).as("%s ran: %s", what, s.outcome()).isTrue();
        boolean ok = s.outcome() instanceof VcpuOutcome.HypercallDone;
        assertThat(ok).as("%s: %s (the rules: %s)", what, s.outcome(), v.ok() ? "accepted" : "refused, " + v.check())
                .isEqualTo(v.ok());
        if (ok) {
            return;
        }
        Statistics.label("refusal").collect(v.check());
        Statistics.label("grant op").collect(what.substring(0, what.indexOf(' ')) + " refused");
        VcpuOutcome.HypercallRefused r = (VcpuOutcome.HypercallRefused) s.outcome();
        assertThat(r.errno().value()).as("%s: the errno of %s", what, v.check()).isEqualTo(v.errno());
        XenMachine post = s.machine();
        assertThat(post.memory().equals(pre.memory())).as("%s: a refusal changes no memory", what).isTrue();
        assertFramesUnchangedBut(pre, post, -1);
        for (int d : pre.pv().domains().keySet()) {
            assertThat(post.pv().domain(d).maptrack()).as("%s: a refusal changes no maptrack (d%d)", what, d)
                    .isEqualTo(pre.pv().domain(d).maptrack());
        }
    }

    /** Owner, counts and (while it has a type reference) type of every frame but {@code except} as before. */
    private static void assertFramesUnchangedBut(XenMachine pre, XenMachine post, long except) {
        for (long f = 0; f < pre.frames().size(); f++) {
            if (f == except) {
                continue;
            }
            FrameInfo a = pre.frames().get(f);
            FrameInfo b = post.frames().get(f);
            // the type is meaningful while a type reference holds it (TYP-2)
            if (b.owner() != a.owner() || b.typeCount() != a.typeCount() || b.count() != a.count()
                    || a.typeCount() != 0 && b.type() != a.type()) {
                throw new AssertionError(String.format("frame %#x was %s, is %s", f, a, b));
            }
        }
    }

    /** Every memory word but the ones listed as before. */
    private static void assertOnlyChanged(XenMachine pre, XenMachine post, List<long[]> words) {
        for (int f = 0; f < pre.memory().frameCount(); f++) {
            if (pre.memory().contentToken(f) == post.memory().contentToken(f)) {
                continue; // the same unwritten frame contents (a token stands for fixed contents)
            }
            long[] a = pre.memory().frame(f);
            long[] b = post.memory().frame(f);
            if (java.util.Arrays.equals(a, b)) {
                continue;
            }
            for (int i = 0; i < a.length; i++) {
                if (a[i] == b[i]) {
                    continue;
                }
                boolean listed = false;
                for (long[] w : words) {
                    listed |= w[0] == f && w[1] == i;
                }
                if (!listed) {
                    throw new AssertionError(String.format("word %d of frame %#x changed from %#x to %#x", i, f, a[i],
                            b[i]));
                }
            }
        }
    }
}
