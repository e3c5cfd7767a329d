package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.DirectPagingCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Errno;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuResult;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuId;

/**
 * The direct-paging core under adversarial guests (the direct-paging rules of docs/rules/xen.md): after every hypercall, accepted or
 * refused, page-table integrity (I2, structural part: TYP-1, TYP-4, the entry rules) and the reference counts hold.
 */
class DirectPagingProperties {

    @Provide
    Arbitrary<DirectPagingCases.Run> runs() {
        return JqwikChoices.arbitrary(DirectPagingCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void everyHypercallOfAnAdversarialGuestKeepsPageTableIntegrityAndReferenceCounts(
            @ForAll("runs") DirectPagingCases.Run run) {
        DirectPagingState s = run.initial();
        assertThat(PageTableIntegrity.check(s)).as("initial state").isEqualTo(InvariantResult.HOLDS);
        int step = 0;
        for (DirectPagingCases.Op op : run.ops()) {
            step++;
            MmuResult r = DirectPagingCases.apply(s, op);
            String kind = op.getClass().getSimpleName();
            if (r instanceof MmuResult.Refused refused) {
                Statistics.label("outcome").collect(kind + " refused by " + refused.rule());
                continue;
            }
            Statistics.label("outcome").collect(kind + " accepted");
            s = ((MmuResult.Success) r).state();
            assertThat(PageTableIntegrity.check(s)).as("I2 after step %d: %s", step, op)
                    .isEqualTo(InvariantResult.HOLDS);
            assertThat(PageTableIntegrity.referenceCounts(s)).as("reference counts after step %d: %s", step, op)
                    .isEqualTo(InvariantResult.HOLDS);
        }
        Statistics.label("outcome").coverage(cov -> {
            cov.checkPattern("MmuUpdate accepted").percentage(p -> p >= 3);
            cov.checkPattern("MmuUpdate refused by .*").percentage(p -> p >= 3);
            cov.checkPattern("MmuextOp accepted").percentage(p -> p >= 1);
            cov.checkPattern("MmuextOp refused by .*").percentage(p -> p >= 1);
            cov.checkPattern("Ptwr accepted").percentage(p -> p >= 0.5);
            cov.checkPattern("UpdateVaMapping accepted").percentage(p -> p >= 0.5);
        });
    }

    /**
     * What each hypercall does, stated from its rule in docs/rules/xen.md over the state before and after, with the
     * masks, slots and table walks written out here rather than asked of {@code EntryRules} or {@code DirectPaging}:
     * the refusals the rules require (MU-1, MU-2's plain store accepted, SLOT-2, L1-1, LN-1, SP-1, MX-1, MX-2, MX-3,
     * UVA-1, PTW-1, PTW-2), and for an accepted call the one entry it stores and nothing else in memory (MU-3, UVA-1,
     * PTW-2, PTW-3; PRO-2 empties the Xen slots of a new L4), the pin, unpin and base pointer with their references
     * (MX-1, MX-2, MX-3), and the TLB obligations it hands back (MU-5, MX-3, MX-5, UVA-2). Where the rule is itself a
     * comparison — UVA-1 and PTW-3 say {@code update_va_mapping} and ptwr validate like an {@code mmu_update} of the
     * same L1 entry — the call is compared with that {@code mmu_update}.
     */
    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void everyHypercallDoesWhatItsRuleSays(@ForAll("runs") DirectPagingCases.Run run) {
        DirectPagingState s = run.initial();
        for (DirectPagingCases.Op op : run.ops()) {
            MmuResult r = DirectPagingCases.apply(s, op);
            String verdict = r instanceof MmuResult.Refused ? "refused" : "accepted";
            String kind;
            if (op instanceof DirectPagingCases.MmuUpdate u) {
                kind = mmuUpdate(s, u, r);
            } else if (op instanceof DirectPagingCases.MmuextOp x) {
                kind = mmuextOp(s, x, r);
            } else if (op instanceof DirectPagingCases.UpdateVaMapping v) {
                kind = updateVaMapping(s, v, r);
            } else {
                kind = ptwr(s, (DirectPagingCases.Ptwr) op, r);
            }
            Statistics.label("hypercall").collect(kind + " " + verdict);
            s = r.stateOr(s);
        }
        Statistics.label("entry").coverage(cov -> {
            for (String k : List.of("L1 valid", "L1 L1-2", "L1 L1-3", "L1 L1-4", "valid direct", "LN-2 direct",
                    "LN-3 direct", "valid self-map", "valid same level", "LIN-1 same level", "LIN-1 self-map",
                    "LIN-4 from a table mapped at its level")) {
                cov.check(k).count(c -> c >= 5);
            }
            // LIN-4's other end: the target holds linear entries of its own (2 at the CI seed)
            cov.check("LIN-4 same level").count(c -> c >= 2);
        });
        Statistics.label("hypercall").coverage(cov -> {
            for (String k : List.of("mmu_update L1", "mmu_update L2-L4", "mmu_update plain", "pin", "unpin",
                    "new_baseptr", "TLB operation", "update_va_mapping", "ptwr")) {
                cov.check(k + " accepted").percentage(p -> p >= 0.3);
                cov.check(k + " refused").percentage(p -> p >= 0.3);
            }
        });
    }

    // ---- The rules restated over frames, entries and effects -----------------------------------------------------

    /** L1-1: PWT (3), PCD (4), PAT (7) and the grant bit (62) are refused in a present L1 entry. */
    private static final long L1_REFUSED = (1L << 3) | (1L << 4) | (1L << 7) | (1L << 62);
    /** LN-1 / SP-1: PWT, PCD, PSE (7) and G (8) are refused in a present L2–L4 entry. */
    private static final long LN_REFUSED = (1L << 3) | (1L << 4) | (1L << 7) | (1L << 8);

    private static boolean present(long raw) {
        return (raw & 1) != 0;
    }

    /** Bits 51:12 of an entry as a frame number. */
    private static long frameOf(long raw) {
        return (raw & 0x000F_FFFF_FFFF_F000L) >>> 12;
    }

    private static boolean owns(DirectPagingState s, int d, long mfn) {
        return s.isFrame(mfn) && s.frame(mfn).owner() == d;
    }

    /** A frame in use as a validated table of type {@code type} (type count above 0). */
    private static boolean validated(DirectPagingState s, long mfn, PageType type) {
        if (!s.isFrame(mfn)) {
            return false;
        }
        FrameInfo f = s.frame(mfn);
        return f.type() == type && f.typeCount() > 0 && f.validated();
    }

    /** The frame's table type if it is a validated table, else null. */
    private static PageType tableType(DirectPagingState s, long mfn) {
        for (PageType t : List.of(PageType.L1, PageType.L2, PageType.L3, PageType.L4)) {
            if (validated(s, mfn, t)) {
                return t;
            }
        }
        return null;
    }

    /**
     * The L1 frame and index of the PTE for {@code linear} in {@code vcpu}'s current tables (UVA-1, PTW-1: the L4 its
     * base pointer names, then the L4, L3 and L2 entries, each present and naming a frame of RAM), or null.
     */
    private static long[] l1Slot(DirectPagingState s, VcpuId vcpu, long linear) {
        long top = linear >> 47;
        if (s.guestTable(vcpu).isEmpty() || (top != 0 && top != -1)) {
            return null;
        }
        long table = s.guestTable(vcpu).getAsLong();
        for (int shift = 39; shift > 12; shift -= 9) {
            long e = s.memory().read(table, (int) ((linear >>> shift) & 511));
            if (!present(e) || !s.isFrame(frameOf(e))) {
                return null;
            }
            table = frameOf(e);
        }
        return new long[] {table, (linear >>> 12) & 511};
    }

    /**
     * Memory after an accepted call that stores {@code value} at word {@code index} of {@code mfn}: the memory before
     * with that word changed and, for a frame that became a validated L4 in the call, its Xen slots 256–271 emptied
     * (PRO-2). Nothing else.
     */
    private static void assertStoredExactly(DirectPagingState pre, MmuResult r, long mfn, int index, long value,
            Object op) {
        DirectPagingState post = ((MmuResult.Success) r).state();
        PhysicalMemory expected = pre.memory();
        if (index >= 0) {
            expected = expected.write(mfn, index, value);
        }
        for (long f = 0; f < post.frames().size(); f++) {
            if (validated(post, f, PageType.L4) && !validated(pre, f, PageType.L4)) {
                for (int i = 256; i <= 271; i++) {
                    expected = expected.write(f, i, 0L);
                }
            }
        }
        assertThat(post.memory()).as("memory after %s", op).isEqualTo(expected);
    }

    /**
     * An obligation as what it asks, without the rule that asked for it: the kind of flush, whom it is for (a vCPU
     * or a domain) and the page.
     */
    private static List<Object> obligation(Effect e) {
        if (e instanceof Effect.FlushLocal f) {
            return List.of("flush", f.vcpu());
        }
        if (e instanceof Effect.FlushDomain f) {
            return List.of("flush", f.domain());
        }
        if (e instanceof Effect.InvlpgLocal i) {
            return List.of("invlpg", i.vcpu(), i.linear());
        }
        if (e instanceof Effect.InvlpgDomain i) {
            return List.of("invlpg", i.domain(), i.linear());
        }
        if (e instanceof Effect.LoadBase b) {
            return List.of("load base", b.vcpu(), b.mfn());
        }
        return List.of("type change", ((Effect.TypeChange) e).mfn());
    }

    /** The TLB obligations of a successful call that are flushes or INVLPGs, in order. */
    private static List<List<Object>> flushes(MmuResult r) {
        return ((MmuResult.Success) r).effects().stream().map(DirectPagingProperties::obligation)
                .filter(o -> o.get(0).equals("flush") || o.get(0).equals("invlpg")).toList();
    }

    /**
     * UVA-1 ("then takes the L1 rules") and PTW-3 ("validated like an mmu_update of that entry"): the call is accepted
     * exactly when an {@code mmu_update} of the same L1 entry to the same value is, and leaves the same memory and
     * frames.
     */
    private static void assertSameAsMmuUpdate(DirectPagingState s, VcpuId caller, long l1, int index, long value,
            MmuResult r, String rule, Object op) {
        long ptr = (l1 << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE;
        MmuResult same = org.hybridv.xen.DirectPaging.mmuUpdate(s, caller, ptr, value);
        assertThat(r.succeeded()).as("%s: %s is accepted as mmu_update of L1 %d[%d] := %s is: %s", rule, op, l1,
                index, Long.toHexString(value), same).isEqualTo(same.succeeded());
        if (same instanceof MmuResult.Success ok) {
            DirectPagingState post = ((MmuResult.Success) r).state();
            assertThat(post.memory()).as("%s: memory as after the mmu_update", rule).isEqualTo(ok.state().memory());
            assertThat(post.frames()).as("%s: frames as after the mmu_update", rule).isEqualTo(ok.state().frames());
        }
    }

    /** MU-1, MU-2, MU-3, MU-5, SLOT-2, L1-1, LN-1, SP-1. */
    private static String mmuUpdate(DirectPagingState s, DirectPagingCases.MmuUpdate u, MmuResult r) {
        int d = u.caller().domain();
        PageType type = owns(s, d, u.mfn()) ? tableType(s, u.mfn()) : null;
        String kind = type == null ? "mmu_update plain" : type == PageType.L1 ? "mmu_update L1" : "mmu_update L2-L4";
        if (!owns(s, d, u.mfn())) {
            assertThat(r).as("MU-1: %s targets a frame d%d does not own", u, d).isInstanceOf(MmuResult.Refused.class);
            assertThat(((MmuResult.Refused) r).errno()).as("MU-1 errno").isEqualTo(Errno.EINVAL);
            return kind;
        }
        FrameInfo f = s.frame(u.mfn());
        if (f.typeCount() == 0 || f.type() == PageType.WRITABLE) {
            assertThat(r).as("MU-2: %s is a plain store to a frame not in use as a page table (%s)", u, f)
                    .isInstanceOf(MmuResult.Success.class);
        }
        if (type == PageType.L4 && u.index() >= 256 && u.index() <= 271) {
            assertThat(r).as("SLOT-2: %s writes a Xen slot", u).isInstanceOf(MmuResult.Refused.class);
            return kind;
        }
        if (type != null && present(u.value())) {
            long refused = u.value() & (type == PageType.L1 ? L1_REFUSED : LN_REFUSED);
            if (refused != 0) {
                assertThat(r).as("L1-1 / LN-1 / SP-1: %s carries refused flags %s", u, Long.toHexString(refused))
                        .isInstanceOf(MmuResult.Refused.class);
                boolean superpage = (refused & (1L << 7)) != 0 && (type == PageType.L2 || type == PageType.L3);
                assertThat(((MmuResult.Refused) r).rule()).as("the rule refusing %s", u)
                        .isEqualTo(type == PageType.L1 ? "L1-1" : superpage ? "SP-1" : "LN-1");
                return kind;
            }
        }
        if (type != null && present(u.value())) {
            String want = type == PageType.L1 ? l1Refusal(s, d, u.value())
                    : lnRefusal(s, u.mfn(), type, u.value(), d);
            if (!UNKNOWN.equals(want)) {
                String rule = r instanceof MmuResult.Refused no ? no.rule() : null;
                assertThat(rule).as("the rule refusing %s (null: accepted); %s before: %s", u, frameOf(u.value()),
                        s.isFrame(frameOf(u.value())) ? s.frame(frameOf(u.value())) : "not RAM").isEqualTo(want);
                Statistics.label("entry").collect(type == PageType.L1 ? "L1 " + (want == null ? "valid" : want)
                        : (want == null ? "valid" : want) + " " + entryKind(s, u.mfn(), type, u.value()));
            }
        }
        if (r instanceof MmuResult.Success) {
            assertStoredExactly(s, r, u.mfn(), u.index(), u.value(), u);
            if (type != null && type != PageType.L1) {
                assertThat(flushes(r)).as("MU-5: %s changed an upper-level entry; effects %s", u, r)
                        .contains(List.of("flush", d));
            }
        }
        return kind;
    }

    /** An outcome the restated rules below leave open: the entry's target would be validated recursively. */
    private static final String UNKNOWN = "?";

    private static PageType childType(PageType t) {
        return t == PageType.L4 ? PageType.L3 : t == PageType.L3 ? PageType.L2 : PageType.L1;
    }

    /**
     * The rule refusing a present L1 entry {@code raw} of domain {@code d} whose flags pass L1-1, or null when it is
     * valid: L1-4 (the frame is not RAM: MMIO, no I/O-memory permission), L1-2 (the frame is not d's: another
     * domain's, Xen's, free), L1-3 (writable, and the frame is in use as a page table).
     */
    private static String l1Refusal(DirectPagingState s, int d, long raw) {
        long mfn = frameOf(raw);
        if (!s.isFrame(mfn)) {
            return "L1-4";
        }
        FrameInfo f = s.frame(mfn);
        if (f.owner() != d) {
            return "L1-2";
        }
        return (raw & 2) != 0 && f.typeCount() > 0 && f.type() != PageType.WRITABLE ? "L1-3" : null;
    }

    /** Whether some guest slot of {@code mfn} holds a present entry (its validation would recurse). */
    private static boolean anyPresent(DirectPagingState s, long mfn) {
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            if (present(s.memory().read(mfn, i))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The rule refusing a present entry {@code raw} of validated table {@code table} (type {@code t}, L2–L4) of
     * domain {@code d} whose flags pass LN-1 / SP-1, or null when it is valid, or {@link #UNKNOWN} when the target
     * is a frame of d not yet typed and not empty (its own validation decides). Read directly (LN-2, LN-3): a frame
     * of RAM owned by d, of the next level down or untyped. Otherwise read as a linear entry: read-only (LIN-1); the
     * table itself (LIN-3, always valid); the table must not be the target of a linear entry itself, and the target
     * must not hold linear entries (LIN-4: depth one); the target is a validated table of d of level {@code t}
     * (LIN-2). When both readings fail, the linear refusal is reported if the entry names the table itself or a
     * table in use at the same level, otherwise the direct one.
     */
    private static String lnRefusal(DirectPagingState s, long table, PageType t, long raw, int d) {
        long child = frameOf(raw);
        String direct;
        if (!s.isFrame(child)) {
            direct = "LN-2";
        } else if (s.frame(child).owner() != d) {
            direct = "LN-3";
        } else if (s.frame(child).typeCount() > 0) {
            direct = s.frame(child).type() == childType(t) ? null : "LN-2";
        } else {
            direct = anyPresent(s, child) ? UNKNOWN : null;
        }
        if (!"LN-2".equals(direct) && !"LN-3".equals(direct)) {
            return direct;
        }
        String linear;
        if ((raw & 2) != 0) {
            linear = "LIN-1";
        } else if (child == table) {
            linear = null;
        } else if (s.frame(table).linearCount() < 0) {
            linear = "LIN-4";
        } else if (!owns(s, d, child)) {
            linear = "LIN-2";
        } else if (s.frame(child).linearCount() > 0) {
            linear = "LIN-4";
        } else {
            linear = validated(s, child, t) ? null : "LIN-2";
        }
        if (linear == null) {
            return null;
        }
        boolean meantLinear = child == table || (s.isFrame(child) && s.frame(child).type() == t
                && s.frame(child).typeCount() > 0);
        return meantLinear ? linear : direct;
    }

    /** How an upper-level entry reads (statistics): to a lower table, to itself, to another table of its level. */
    private static String entryKind(DirectPagingState s, long table, PageType t, long raw) {
        long child = frameOf(raw);
        if (child == table) {
            return "self-map";
        }
        if (s.frame(table).linearCount() < 0 && (raw & 2) == 0) {
            return "from a table mapped at its level";
        }
        if (s.isFrame(child) && s.frame(child).typeCount() > 0 && s.frame(child).type() == t) {
            return "same level";
        }
        return "direct";
    }

    private static PageType pinType(int cmd) {
        return switch (cmd) {
            case Hypercalls.MMUEXT_PIN_L1_TABLE -> PageType.L1;
            case Hypercalls.MMUEXT_PIN_L2_TABLE -> PageType.L2;
            case Hypercalls.MMUEXT_PIN_L3_TABLE -> PageType.L3;
            case Hypercalls.MMUEXT_PIN_L4_TABLE -> PageType.L4;
            default -> null;
        };
    }

    /** MX-1, MX-2, MX-3, MX-5, MX-7, and the superpage marks (SP-1) and unmodelled commands refused. */
    private static String mmuextOp(DirectPagingState s, DirectPagingCases.MmuextOp x, MmuResult r) {
        VcpuId caller = x.caller();
        int d = caller.domain();
        long mfn = x.mfn();
        PageType pin = pinType(x.cmd());
        if (pin != null) {
            if (owns(s, d, mfn) && s.frame(mfn).typeCount() > 0 && s.frame(mfn).type() != pin) {
                // TYP-1 when one of the two types is WRITABLE (a page table is never writable), else TYP-2
                boolean writable = s.frame(mfn).type() == PageType.WRITABLE;
                assertThat(r).as("TYP-1 / TYP-2: %s of a frame in use as %s", x, s.frame(mfn))
                        .isInstanceOf(MmuResult.Refused.class);
                assertThat(((MmuResult.Refused) r).rule()).as("the rule refusing %s", x)
                        .isEqualTo(writable ? "TYP-1" : "TYP-2");
            }
            if (!owns(s, d, mfn) || s.frame(mfn).pinned()) {
                assertThat(r).as("MX-1: %s of a frame not d%d's or already pinned (%s)", x, d,
                        s.isFrame(mfn) ? s.frame(mfn) : "not RAM").isInstanceOf(MmuResult.Refused.class);
            } else if (r instanceof MmuResult.Success ok) {
                FrameInfo before = s.frame(mfn);
                FrameInfo after = ok.state().frame(mfn);
                assertThat(after.pinned() && after.type() == pin && after.validated()).as("MX-1: %s pins a validated %s: %s",
                        x, pin, after).isTrue();
                assertThat(after.typeCount()).as("MX-1: the pin holds a type reference (before: %s)", before)
                        .isEqualTo(before.typeCount() + 1);
                assertThat(after.count()).as("MX-1: the pin holds a general reference (before: %s)", before)
                        .isGreaterThan(before.count());
                assertStoredExactly(s, r, mfn, -1, 0, x);
                assertThat(ok.state().frames()).as("MX-1: a pin changes the frame table").isNotEqualTo(s.frames());
            }
            return "pin";
        }
        switch (x.cmd()) {
            case Hypercalls.MMUEXT_UNPIN_TABLE -> {
                if (!owns(s, d, mfn) || !s.frame(mfn).pinned()) {
                    assertThat(r).as("MX-2: %s of a frame not d%d's or not pinned", x, d)
                            .isInstanceOf(MmuResult.Refused.class);
                } else {
                    assertThat(r).as("MX-2: %s of a pinned frame of d%d", x, d).isInstanceOf(MmuResult.Success.class);
                    FrameInfo before = s.frame(mfn);
                    FrameInfo after = ((MmuResult.Success) r).state().frame(mfn);
                    assertThat(after.pinned()).as("MX-2: unpinned").isFalse();
                    // At least: a devalidation the last type reference starts may drop more (LN-5, L1-6).
                    assertThat(after.typeCount()).as("MX-2: the pin's type reference dropped (before: %s)", before)
                            .isLessThan(before.typeCount());
                    assertThat(after.count()).as("MX-2: the pin's general reference dropped (before: %s)", before)
                            .isLessThan(before.count());
                    assertThat(((MmuResult.Success) r).state().memory()).as("memory").isEqualTo(s.memory());
                }
                return "unpin";
            }
            case Hypercalls.MMUEXT_NEW_BASEPTR -> {
                if (!owns(s, d, mfn)) {
                    assertThat(r).as("MX-3: %s names a frame not d%d's", x, d).isInstanceOf(MmuResult.Refused.class);
                    assertThat(((MmuResult.Refused) r).rule()).as("the rule refusing %s", x).isEqualTo("MX-3");
                } else if (r instanceof MmuResult.Success ok) {
                    assertThat(ok.state().guestTable(caller)).as("MX-3: the base pointer").hasValue(mfn);
                    assertThat(validated(ok.state(), mfn, PageType.L4)).as("MX-3: a validated L4").isTrue();
                    assertThat(((MmuResult.Success) r).effects().stream().map(DirectPagingProperties::obligation))
                            .as("MX-3: the caller loads the new base: %s", r)
                            .contains(List.of("load base", caller, mfn));
                    assertStoredExactly(s, r, mfn, -1, 0, x);
                }
                return "new_baseptr";
            }
            case Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, Hypercalls.MMUEXT_INVLPG_LOCAL, Hypercalls.MMUEXT_TLB_FLUSH_ALL,
                    Hypercalls.MMUEXT_INVLPG_ALL -> {
                assertThat(r).as("MX-5: %s", x).isInstanceOf(MmuResult.Success.class);
                MmuResult.Success ok = (MmuResult.Success) r;
                assertThat(ok.state()).as("MX-5: a TLB operation changes no state").isEqualTo(s);
                long top = mfn >> 47;
                boolean canonical = top == 0 || top == -1;
                List<Object> expected = switch (x.cmd()) {
                    case Hypercalls.MMUEXT_TLB_FLUSH_LOCAL -> List.of("flush", caller);
                    case Hypercalls.MMUEXT_TLB_FLUSH_ALL -> List.of("flush", d);
                    case Hypercalls.MMUEXT_INVLPG_LOCAL -> List.of("invlpg", caller, mfn);
                    default -> List.of("invlpg", d, mfn);
                };
                assertThat(flushes(r)).as("MX-5 / TLB-6: the caller's own vCPU or domain; %s", x)
                        .isEqualTo(canonical || expected.get(0).equals("flush") ? List.of(expected) : List.of());
                return "TLB operation";
            }
            case Hypercalls.MMUEXT_TLB_FLUSH_MULTI, Hypercalls.MMUEXT_INVLPG_MULTI -> {
                // MX-7: the generator passes no vCPU mask (the four-argument form): an empty mask, nothing to flush
                assertThat(r).as("MX-7: %s", x).isInstanceOf(MmuResult.Success.class);
                MmuResult.Success ok = (MmuResult.Success) r;
                assertThat(ok.state()).as("MX-7: a TLB operation changes no state").isEqualTo(s);
                long top = mfn >> 47;
                boolean canonical = top == 0 || top == -1;
                List<Effect> expected = x.cmd() == Hypercalls.MMUEXT_TLB_FLUSH_MULTI
                        ? List.of(new Effect.FlushMulti(d, 0, "MX-7"))
                        : canonical ? List.of(new Effect.InvlpgMulti(d, 0, mfn, "MX-7")) : List.of();
                assertThat(ok.effects()).as("MX-7 / TLB-6: %s", x).isEqualTo(expected);
                return "TLB operation";
            }
            default -> {
                assertThat(r).as("%s: the superpage marks and unmodelled commands are refused", x)
                        .isInstanceOf(MmuResult.Refused.class);
                return "TLB operation";
            }
        }
    }

    /** UVA-1, UVA-2. */
    private static String updateVaMapping(DirectPagingState s, DirectPagingCases.UpdateVaMapping v, MmuResult r) {
        long type = v.flags() & Hypercalls.UVMF_FLUSHTYPE_MASK;
        long scope = v.flags() & ~Hypercalls.UVMF_FLUSHTYPE_MASK;
        if (type == 3 || (scope != Hypercalls.UVMF_LOCAL && scope != Hypercalls.UVMF_ALL)) {
            assertThat(r).as("UVA-2: flags %s not modelled", Long.toHexString(v.flags()))
                    .isInstanceOf(MmuResult.Refused.class);
            return "update_va_mapping";
        }
        long[] slot = l1Slot(s, v.caller(), v.va());
        if (slot == null || !owns(s, v.caller().domain(), slot[0]) || !validated(s, slot[0], PageType.L1)) {
            assertThat(r).as("UVA-1: no validated L1 of %s maps %s", v.caller(), Long.toHexString(v.va()))
                    .isInstanceOf(MmuResult.Refused.class);
            return "update_va_mapping";
        }
        assertSameAsMmuUpdate(s, v.caller(), slot[0], (int) slot[1], v.value(), r, "UVA-1", v);
        if (r instanceof MmuResult.Success) {
            assertStoredExactly(s, r, slot[0], (int) slot[1], v.value(), v);
            boolean all = scope == Hypercalls.UVMF_ALL;
            Object whom = all ? (Object) v.caller().domain() : v.caller();
            List<List<Object>> asked = type == Hypercalls.UVMF_TLB_FLUSH ? List.of(List.of("flush", whom))
                    : type == Hypercalls.UVMF_INVLPG ? List.of(List.of("invlpg", whom, v.va())) : List.of();
            assertThat(flushes(r)).as("UVA-2: the flush %s asks for", v).isEqualTo(asked);
        }
        return "update_va_mapping";
    }

    /** PTW-1, PTW-2, PTW-3. */
    private static String ptwr(DirectPagingState s, DirectPagingCases.Ptwr w, MmuResult r) {
        int d = w.caller().domain();
        long[] slot = l1Slot(s, w.caller(), w.cr2());
        long pte = slot == null ? 0 : s.memory().read(slot[0], (int) slot[1]);
        boolean readOnly = present(pte) && (pte & 2) == 0;
        long target = frameOf(pte);
        if (slot == null || !readOnly || !owns(s, d, target) || !validated(s, target, PageType.L1)) {
            assertThat(r).as("PTW-1: %s is not a store through a read-only mapping of a validated L1 of d%d", w, d)
                    .isInstanceOf(MmuResult.Refused.class);
            return "ptwr";
        }
        if ((w.cr2() & (w.bytes() - 1)) != 0) {
            assertThat(r).as("PTW-2: %s is misaligned", w).isInstanceOf(MmuResult.Refused.class);
            return "ptwr";
        }
        int index = (int) ((w.cr2() & 0xFFF) >>> 3);
        long old = s.memory().read(target, index);
        long full = w.value();
        if (w.bytes() != 8) {
            int shift = (int) (w.cr2() & 7) * 8;
            long mask = ((1L << (8 * w.bytes())) - 1) << shift;
            full = (old & ~mask) | ((w.value() << shift) & mask);
        }
        assertSameAsMmuUpdate(s, w.caller(), target, index, full, r, "PTW-3", w);
        if (r instanceof MmuResult.Success) {
            assertStoredExactly(s, r, target, index, full, w);
        }
        return "ptwr";
    }
}
