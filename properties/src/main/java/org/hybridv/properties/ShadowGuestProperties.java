package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.SdmPaging;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.ShadowGuestCases;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Shadow paging is invisible (SH-1..SH-4, Intel SDM Vol. 3A §4.5–§4.8): every access of a shadow-mode guest
 * ({@link ShadowGuestCases}: drawn tables, flags, paging registers, vCPUs and pCPUs) has exactly the outcome the SDM
 * defines for the guest's own tables — read through the p2m — and the guest's own registers, which this property tracks
 * from what the guest wrote (its CR3 and CR0.WP), not from the hypervisor's state:
 * <ul>
 * <li>the SDM's walk faults → the guest gets a #PF whose error code is the SDM's (P, W/R, U/S, RSVD, I/D, PK; §4.7)
 * and CR2 = the address (SH-3), and no word of the guest's memory changes; a walk that reaches a guest table whose gfn
 * the p2m does not map faults there as not present (SH-3);</li>
 * <li>the walk completes on a gfn the p2m does not map → a guest error, no guest word changes (SH-1);</li>
 * <li>it completes → a read or fetch returns the word at the p2m frame, a write stores the value there; A is set in
 * every entry the walk used and, for a write, D in the entry that maps the page (§4.8); no other guest word changes —
 * whether the hypervisor filled a shadow, emulated the write or the access hit a translation cached earlier.</li>
 * </ul>
 * MOV to CR3 of a root the p2m maps and MOV to CR0 resume the guest, a root it does not map is a guest error, INVLPG
 * resumes; none changes a guest word. After every step SH-2 (shadow rights), I6 (no TLB entry outlives its shadow)
 * and I1 hold.
 */
class ShadowGuestProperties {
    /** Guest-physical frames of the guest's view: every gfn the generator names is below. */
    private static final int VIEW_FRAMES = 0x40;

    @Provide
    Arbitrary<ShadowGuestCases.Case> cases() {
        return JqwikChoices.arbitrary(ShadowGuestCases::generate);
    }

    @Property(seed = Budget.SEED, tries = 200)
    void everyShadowGuestAccessIsTheOneTheSdmDefinesOnItsOwnTables(@ForAll("cases") ShadowGuestCases.Case k) {
        XenMachine m = k.machine();
        List<CpuState> regs = new ArrayList<>(k.vcpus());
        int step = 0;
        for (ShadowGuestCases.Op op : k.ops()) {
            step++;
            VcpuId v = op.vcpu();
            HvStep st = Hypervisor.run(m, v, op.insn());
            XenMachine post = st.machine();
            VcpuOutcome o = st.outcome();
            String at = "step " + step + " " + op + " → " + o + " in " + k;
            GuestInstruction insn = op.insn();
            if (!regs.get(v.vcpu()).cr0().pg()) {
                regs.set(v.vcpu(), boot(m, post, regs.get(v.vcpu()), insn, o, at));
            } else if (insn instanceof GuestInstruction.MemoryAccess a) {
                access(m, post, regs.get(v.vcpu()), a.access(), o, at);
            } else {
                Statistics.label("outcome").collect(insn.getClass().getSimpleName());
                assertGuestMemory(post, guestMemory(m), at);
                CpuState c = regs.get(v.vcpu());
                if (insn instanceof GuestInstruction.Wrpkru w) {
                    // not privileged, no exit of its own (SDM Vol. 2D WRPKRU): #UD while CR4.PKE = 0, else PKRU := EAX
                    if (!c.cr4().pke()) {
                        assertThat(o instanceof VcpuOutcome.Delivered d ? d.vector() : o instanceof VcpuOutcome
                                .Injected j ? j.vector() : -1).as("WRPKRU with CR4.PKE = 0 is #UD: %s", at).isEqualTo(6);
                    } else {
                        assertThat(o).as("WRPKRU retires: %s", at).isEqualTo(new VcpuOutcome.Retired(w.eax()
                                & 0xFFFF_FFFFL));
                        regs.set(v.vcpu(), c.withPkru((int) w.eax()));
                    }
                } else if (c.cpl() != 0) {
                    // INVLPG and MOV to CR are privileged: #GP(0) at CPL > 0 (SDM Vol. 2), nothing changes
                    assertThat(o).as("a privileged instruction at CPL %d: %s", c.cpl(), at)
                            .isEqualTo(new VcpuOutcome.Delivered(13, 0, true, 0));
                } else if (insn instanceof GuestInstruction.MovToCr mov && mov.cr() == 3) {
                    long gfn = Cr3.ofBits(mov.value()).pml4Base() >>> 12;
                    if (gfn >= ShadowGuestCases.GFNS) {
                        assertThat(o).as("a root the p2m does not map (SH-1): %s", at)
                                .isInstanceOf(VcpuOutcome.GuestError.class);
                    } else {
                        assertThat(o).as("MOV to CR3 resumes: %s", at).isInstanceOf(VcpuOutcome.Resumed.class);
                        regs.set(v.vcpu(), c.withCr3(Cr3.ofBits(mov.value())));
                    }
                } else if (insn instanceof GuestInstruction.MovToCr mov) {
                    // it exits when WP differs from the read shadow (host-owned, MISC-1), else it retires in the guest
                    assertThat(o).as("MOV to CR0 completes: %s", at).isInstanceOfAny(VcpuOutcome.Resumed.class,
                            VcpuOutcome.Retired.class);
                    regs.set(v.vcpu(), c.withCr0(c.cr0().withWp(((mov.value() >>> Cr0.WP_BIT) & 1) != 0)));
                } else {
                    assertThat(o).as("INVLPG resumes: %s", at).isInstanceOf(VcpuOutcome.Resumed.class);
                }
            }
            assertThat(ShadowIntegrity.check(post).toString()).as("SH-2 and I6 after %s", at).isEqualTo("holds");
            assertThat(TlbCoherence.check(post).toString()).as("I6 after %s", at).isEqualTo("holds");
            assertThat(Isolation.check(post).toString()).as("I1 after %s", at).isEqualTo("holds");
            m = post;
        }
        Statistics.label("pCPUs").collect(k.pcpus());
        Statistics.label("outcome").coverage(cov -> {
            cov.check("completed read").percentage(p -> p >= 4);
            cov.check("completed write").percentage(p -> p >= 4);
            cov.check("completed fetch").percentage(p -> p > 0);
            cov.check("#PF not present").percentage(p -> p >= 3);
            cov.check("#PF protection").percentage(p -> p >= 3);
            cov.check("#PF reserved bit").percentage(p -> p >= 1);
            cov.check("Wrpkru").percentage(p -> p >= 2);
            cov.check("guest error").percentage(p -> p > 0);
            cov.check("paging off MovToCr").percentage(p -> p >= 2);
            cov.check("paging off Wrmsr").percentage(p -> p >= 1);
            cov.check("paging off MemoryAccess").percentage(p -> p > 0);
        });
        Statistics.label("boot").coverage(cov -> {
            cov.check("paging on").percentage(p -> p >= 30);
            cov.check("LME = 0").percentage(p -> p > 0);
            cov.check("#GP").percentage(p -> p > 0);
            cov.check("root outside the p2m").percentage(p -> p > 0);
        });
        Statistics.label("page").coverage(cov -> {
            cov.check("4 KByte").percentage(p -> p >= 20);
            cov.check("2 MByte").percentage(p -> p >= 1);
            cov.check("1 GByte").percentage(p -> p >= 1);
        });
    }

    /**
     * One instruction of a vCPU whose paging is off, which the hypervisor emulates (BOOT-1; Intel SDM Vol. 3A §9.8.5):
     * MOV to CR3 and CR4 and WRMSR IA32_EFER take the value; MOV to CR0 setting PG with EFER.LME = 0 is not modelled
     * (32-bit and PAE paging), with CR4.PAE = 0 it is #GP(0); otherwise paging is on with the root the guest loaded —
     * a guest error if its gfn is outside the p2m (SH-1), nothing changed. Anything else is not modelled. No guest word
     * changes. Returns the guest's registers after it.
     */
    private static CpuState boot(XenMachine pre, XenMachine post, CpuState r, GuestInstruction insn, VcpuOutcome o,
            String at) {
        Statistics.label("outcome").collect("paging off " + insn.getClass().getSimpleName());
        assertGuestMemory(post, guestMemory(pre), at);
        if (insn instanceof GuestInstruction.Wrmsr w) {
            assertThat(o).as("WRMSR IA32_EFER with paging off: %s", at).isInstanceOf(VcpuOutcome.Resumed.class);
            return r.withEfer(new Efer(((w.value() >>> 8) & 1) != 0, ((w.value() >>> 11) & 1) != 0));
        }
        if (!(insn instanceof GuestInstruction.MovToCr mov)) {
            assertThat(o).as("only the boot path is emulated: %s", at).isInstanceOf(VcpuOutcome.NotModelled.class);
            return r;
        }
        if (mov.cr() == 3 || mov.cr() == 4) {
            assertThat(o).as("MOV to CR%d with paging off: %s", mov.cr(), at).isInstanceOf(VcpuOutcome.Resumed.class);
            return mov.cr() == 3 ? r.withCr3(Cr3.ofBits(mov.value())) : r.withCr4(Cr4.ofBits(mov.value()));
        }
        if (!r.efer().lme()) {
            Statistics.label("boot").collect("LME = 0");
            assertThat(o).as("paging on with LME = 0: %s", at).isInstanceOf(VcpuOutcome.NotModelled.class);
            return r;
        }
        if (!r.cr4().pae()) {
            Statistics.label("boot").collect("#GP");
            assertThat(o instanceof VcpuOutcome.Injected i && i.vector() == 13 && i.errorCode() == 0)
                    .as("SDM 9.8.5: PG with LME = 1 and PAE = 0 is #GP(0): %s", at).isTrue();
            return r;
        }
        if ((r.cr3().pml4Base() >>> 12) >= ShadowGuestCases.GFNS) {
            Statistics.label("boot").collect("root outside the p2m");
            assertThat(o).as("paging on with a root outside the p2m (SH-1): %s", at)
                    .isInstanceOf(VcpuOutcome.GuestError.class);
            return r;
        }
        Statistics.label("boot").collect("paging on");
        assertThat(o).as("paging on: %s", at).isInstanceOf(VcpuOutcome.Resumed.class);
        return r.withCr0(new Cr0(true, ((mov.value() >>> Cr0.WP_BIT) & 1) != 0, true));
    }

    /** One access checked against the SDM's walk of the guest's own tables with the guest's own registers. */
    private static void access(XenMachine pre, XenMachine post, CpuState guest, Access a, VcpuOutcome o, String at) {
        PhysicalMemory view = guestMemory(pre);
        SdmPaging.Outcome sdm = SdmPaging.translate(view, guest, a);
        // SH-3: a guest table whose gfn the p2m does not map is not present (the hypervisor cannot read it; Xen's
        // guest_walk_tables): the walk ends there, P = 0, whatever an unbacked read would have returned
        boolean unmappedTable = sdm.entryAddresses().stream().anyMatch(e -> e >>> 12 >= ShadowGuestCases.GFNS);
        if (unmappedTable) {
            sdm = new SdmPaging.Outcome(sdm.entryAddresses(), SdmPaging.End.NOT_PRESENT, 0, 0, false, false, false, 0,
                    false, false);
            Statistics.label("outcome").collect("#PF table outside the p2m");
        }
        if (!sdm.completes()) {
            int ec = (sdm.end() != SdmPaging.End.NOT_PRESENT ? ErrorCode.P : 0)
                    | (a.isWrite() ? ErrorCode.WR : 0)
                    | (guest.cpl() == 3 ? ErrorCode.US : 0)
                    | (sdm.end() == SdmPaging.End.RESERVED_BIT ? ErrorCode.RSVD : 0)
                    | (a.isFetch() && (guest.efer().nxe() || guest.cr4().smep()) ? ErrorCode.ID : 0)
                    | (sdm.end() == SdmPaging.End.MAPPED && sdm.keyDenies() ? ErrorCode.PK : 0);
            Statistics.label("outcome").collect(sdm.end() == SdmPaging.End.NOT_PRESENT ? "#PF not present"
                    : sdm.end() == SdmPaging.End.RESERVED_BIT ? "#PF reserved bit"
                    : sdm.keyDenies() && sdm.pageAllows() ? "#PF protection key" : "#PF protection");
            assertThat(pageFault(o)).as("the guest sees #PF error code %s, CR2 %x (SH-3): %s", new ErrorCode(ec),
                    a.linear(), at).isEqualTo(List.of(ec, a.linear()));
            assertGuestMemory(post, view, at);
            return;
        }
        Statistics.label("page").collect(sdm.pageBytes() == 4096 ? "4 KByte" : sdm.pageBytes() == 1L << 21
                ? "2 MByte" : "1 GByte");
        long gfn = sdm.physical() >>> 12;
        if (gfn >= ShadowGuestCases.GFNS) {
            Statistics.label("outcome").collect("guest error");
            assertThat(o).as("gfn %x is in no p2m (SH-1): %s", gfn, at).isInstanceOf(VcpuOutcome.GuestError.class);
            assertGuestMemory(post, view, at);
            return;
        }
        Statistics.label("outcome").collect("completed " + a.kind().toString().toLowerCase());
        PhysicalMemory expected = view;
        List<Long> entries = sdm.entryAddresses();
        for (int i = 0; i < entries.size(); i++) {
            long address = entries.get(i);
            long e = expected.readPhysical(address) | 1L << 5;
            if (i == entries.size() - 1 && a.isWrite()) {
                e |= 1L << 6;
            }
            expected = expected.writePhysical(address, e);
        }
        long word = sdm.physical() & ~7L;
        if (a.isWrite()) {
            expected = expected.writePhysical(word, a.value());
            assertThat(o).as("the write completes: %s", at).isInstanceOfAny(VcpuOutcome.Retired.class,
                    VcpuOutcome.Emulated.class);
        } else {
            assertThat(o).as("the %s returns the word at guest-physical %x: %s", a.kind(), word, at)
                    .isEqualTo(new VcpuOutcome.Retired(expected.readPhysical(word)));
        }
        assertGuestMemory(post, expected, at);
    }

    /** The error code and CR2 of the #PF the guest sees (injected or delivered), or the outcome if none. */
    private static Object pageFault(VcpuOutcome o) {
        if (o instanceof VcpuOutcome.Injected i && i.vector() == 14 && i.errorCodeValid()) {
            return List.of(i.errorCode(), i.cr2());
        }
        if (o instanceof VcpuOutcome.Delivered d && d.vector() == 14 && d.errorCodeValid()) {
            return List.of(d.errorCode(), d.cr2());
        }
        return o;
    }

    /** The guest-physical memory of the domain: gfn g holds the words of machine frame p2m(g) (BASE + g). */
    static PhysicalMemory guestMemory(XenMachine m) {
        PhysicalMemory mem = m.memory();
        PhysicalMemory view = PhysicalMemory.ofFrames(VIEW_FRAMES);
        for (long g = 0; g < ShadowGuestCases.GFNS; g++) {
            long mfn = ShadowGuestCases.BASE + g;
            for (int i = mem.nextNonZero(mfn, 0); i < PhysicalMemory.WORDS_PER_FRAME; i = mem.nextNonZero(mfn, i + 1)) {
                view = view.write(g, i, mem.read(mfn, i));
            }
        }
        return view;
    }

    /** Every word of the domain's frames is the word {@code expected} (guest-physical) holds. */
    private static void assertGuestMemory(XenMachine post, PhysicalMemory expected, String at) {
        PhysicalMemory mem = post.memory();
        for (long g = 0; g < ShadowGuestCases.GFNS; g++) {
            long mfn = ShadowGuestCases.BASE + g;
            for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
                long want = expected.read(g, i);
                long got = mem.read(mfn, i);
                if (want != got) {
                    assertThat(Long.toHexString(got)).as("guest word gfn %x [%d] (SDM 4.8: only A, D and the data"
                            + " written change): %s", g, i, at).isEqualTo(Long.toHexString(want));
                }
            }
        }
    }
}
