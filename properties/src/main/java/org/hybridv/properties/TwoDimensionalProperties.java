package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.SdmPaging;
import org.hybridv.gen.EptCase;
import org.hybridv.gen.EptCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.VmxSystems;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Processor;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * The two-dimensional walk refines the one-dimensional one (Intel SDM Vol. 3C §28.2.1: with EPT, "guest-physical
 * addresses are translated by traversing a set of EPT paging structures", and every address the guest's own walk
 * uses — CR3 and each entry's address field — is a guest-physical address; Vol. 3A §4.5 is unchanged for the guest).
 * Under an EPT that grants everything (R, W and X in every entry, write-back leaves, no reserved bit, EPT A/D off) and
 * maps each guest frame to its own host frame, EPT can neither refuse an access nor change a flag, so a guest access
 * must behave exactly as the same access of a processor without VMX on the guest's view of its memory (guest frame g
 * holding what host frame EPT(g) holds): the same outcome (completion, or a #PF with the same error code and CR2, or a
 * #GP), and afterwards the same guest-physical memory — the guest's accessed and dirty flags and the data written,
 * each through the EPT to the right host frame. This is the abstraction-function check of the 2-D walk: the guest's
 * view of host memory is the abstraction, and the 1-D walk is the specification.
 */
class TwoDimensionalProperties {
    /** Bits 51:12 of an entry. */
    private static final long ADDRESS = ((1L << 52) - 1) & ~0xFFFL;

    /**
     * The generated EPT cases of any guest (not only permissive guests: its own entries can be absent, read-only,
     * supervisor, XD, reserved-bit, A or D clear), with every EPT entry rewritten to grant everything: bits 2:0 =
     * 111b, memory type 6 (write-back) in leaves, the address and bit 7 kept, every other bit 0; EPTP bit 6 clear.
     */
    @Provide
    Arbitrary<EptCase> guestsUnderAnEptThatGrantsEverything() {
        return JqwikChoices.arbitrary(c -> {
            EptCase k = EptCases.generate(c, false);
            int max = k.guest().maxPhysAddr();
            long below = (1L << max) - 1;
            PhysicalMemory m = k.memory();
            for (long at : k.eptEntries()) {
                long e = m.readPhysical(at);
                long frame = at / PhysicalMemory.FRAME_SIZE;
                boolean large = frame == EptCases.EPT_PD_FRAME && (e & 0x80) != 0;
                boolean leaf = large || frame == EptCases.EPT_PT_FRAME;
                long address = e & ADDRESS & below & (large ? ~((1L << 21) - 1) : -1L);
                m = m.writePhysical(at, address | (large ? 0x80 : 0) | (leaf ? 6L << 3 : 0) | 0b111);
            }
            return new EptCase(m, k.guest(), k.eptp().withAccessedDirty(false), k.access(), k.eptEntries(),
                    k.dataEptEntry());
        });
    }

    @Property(seed = Budget.SEED, tries = 1000)
    void underAnEptThatGrantsEverythingAGuestAccessIsItsNativeAccessOnTheGuestPhysicalView(
            @ForAll("guestsUnderAnEptThatGrantsEverything") EptCase k) {
        long[] hostFrameOf = hostFrames(k.memory(), k.eptp().raw() & ADDRESS);
        Set<Long> distinct = new HashSet<>();
        for (long f : hostFrameOf) {
            distinct.add(f);
        }
        if (distinct.size() < hostFrameOf.length) {
            // two guest frames share a host frame: the guest's view is not a memory of its own (a write to one
            // frame shows in the other), so the 1-D machine cannot stand for it
            Statistics.label("case").collect("aliased guest frames (not compared)");
            return;
        }
        AccessStep native1d = Processor.access(new X86Machine(view(k.memory(), hostFrameOf), k.guest(),
                Tlb.empty(TlbPolicy.NONE)), k.access());
        GuestStep guest2d = EptProperties.run(k);
        GuestOutcome o = guest2d.outcome();
        AccessOutcome n = native1d.outcome();
        if (o instanceof GuestOutcome.Exited x && x.exit().reason() == org.hybridv.vmx.ExitReason.EPT_VIOLATION
                && x.exit().guestPhysicalAddress() >= (long) hostFrameOf.length * PhysicalMemory.FRAME_SIZE
                && (x.exit().qualification() & 0x38) == 0) {
            // the guest's tables lead outside its frames, where the EPT maps nothing (not present: bits 5:3 = 0):
            // the only EPT exit this EPT can cause, and one the guest's view has no frame for
            Statistics.label("case").collect("guest-physical address outside the guest's frames (not compared)");
            return;
        }
        String kind = n instanceof AccessOutcome.Completed ? "completed" : n instanceof PageFault ? "#PF" : "#GP";
        Statistics.label("case").collect("compared: " + kind + " " + k.access().kind());
        Statistics.label("case").coverage(cov -> {
            cov.check("compared: completed READ").percentage(p -> p >= 3);
            cov.check("compared: completed WRITE").percentage(p -> p >= 3);
            cov.check("compared: completed FETCH").percentage(p -> p >= 2);
            cov.check("compared: #PF READ").percentage(p -> p >= 3);
            cov.check("compared: #PF WRITE").percentage(p -> p >= 3);
            cov.check("compared: #PF FETCH").percentage(p -> p >= 2);
        });
        if (n instanceof AccessOutcome.Completed) {
            assertThat(o).as("%s completes natively", k.access())
                    .isEqualTo(new GuestOutcome.Retired(((AccessOutcome.Completed) n).value()));
        } else if (n instanceof PageFault pf) {
            assertThat(o).as("%s faults natively with %s", k.access(), pf)
                    .isEqualTo(new GuestOutcome.Delivered(14, pf.errorCode().bits(), true, pf.linearAddress()));
        } else {
            assertThat(n).isInstanceOf(GeneralProtection.class);
            assertThat(o).as("%s: #GP natively", k.access()).isInstanceOf(GuestOutcome.Delivered.class);
            assertThat(((GuestOutcome.Delivered) o).vector()).isEqualTo(13);
        }
        PhysicalMemory after2d = guest2d.processor().machine().memory();
        assertThat(view(after2d, hostFrameOf)).as("the guest-physical view after %s (%s)", k.access(), n)
                .isEqualTo(native1d.machine().memory());
        for (long at : k.eptEntries()) {
            assertThat(after2d.readPhysical(at)).as("EPT entry at 0x%x (EPT A/D off)", at)
                    .isEqualTo(k.memory().readPhysical(at));
        }
    }

    /**
     * The host frame of each guest frame, by the EPT walk of §28.2.2: frames 0..{@link EptCases#GUEST_FRAMES} − 1
     * through EPT PTEs, or, when the EPT maps the first 2 MiB with one large page, every host frame (the identity).
     */
    private static long[] hostFrames(PhysicalMemory host, long root) {
        long pdpt = host.readPhysical(root) & ADDRESS;
        long pd = host.readPhysical(pdpt) & ADDRESS;
        boolean large = (host.readPhysical(pd) & 0x80) != 0;
        long[] out = new long[large ? EptCases.HOST_FRAMES : EptCases.GUEST_FRAMES];
        for (int g = 0; g < out.length; g++) {
            long gpa = (long) g * PhysicalMemory.FRAME_SIZE;
            long table = root;
            for (int level = 0; level < 4; level++) {
                int shift = 39 - 9 * level;
                long e = host.readPhysical(table | (((gpa >>> shift) & 0x1FF) << 3));
                if (level == 3 || level > 0 && (e & 0x80) != 0) {
                    long offset = (1L << shift) - 1;
                    out[g] = ((e & ADDRESS & ~offset) | (gpa & offset)) / PhysicalMemory.FRAME_SIZE;
                    break;
                }
                table = e & ADDRESS;
            }
        }
        return out;
    }

    /** The guest's view: frame g holds what host frame {@code hostFrameOf[g]} holds. */
    private static PhysicalMemory view(PhysicalMemory host, long[] hostFrameOf) {
        PhysicalMemory v = PhysicalMemory.ofFrames(hostFrameOf.length);
        for (int g = 0; g < hostFrameOf.length; g++) {
            for (int i = host.nextNonZero(hostFrameOf[g], 0); i < PhysicalMemory.WORDS_PER_FRAME;
                    i = host.nextNonZero(hostFrameOf[g], i + 1)) {
                v = v.write(g, i, host.read(hostFrameOf[g], i));
            }
        }
        return v;
    }

    /** The host address of guest-physical {@code gpa} through {@code hostFrameOf}. */
    private static long host(long[] hostFrameOf, long gpa) {
        return hostFrameOf[(int) (gpa >>> 12)] * PhysicalMemory.FRAME_SIZE + (gpa & 0xFFF);
    }

    /** A case of {@link #guestsUnderAnEptThatGrantsEverything} that the guest-physical view can stand for. */
    record Viewed(EptCase k, long[] hostFrameOf, PhysicalMemory view, SdmPaging.Outcome nativeWalk) {}

    /**
     * The case's guest-physical view and the SDM's (1-D) translation of its access on it, or null when the view cannot
     * stand for the guest (aliased guest frames), the access is not a canonical one whose translation completes, or
     * its final guest-physical address lies outside the frames the EPT maps.
     */
    private static Viewed viewed(EptCase k) {
        long[] hostFrameOf = hostFrames(k.memory(), k.eptp().raw() & ADDRESS);
        Set<Long> distinct = new HashSet<>();
        for (long f : hostFrameOf) {
            distinct.add(f);
        }
        long top = k.access().linear() >> 47;
        if (distinct.size() < hostFrameOf.length || top != 0 && top != -1) {
            return null;
        }
        PhysicalMemory view = view(k.memory(), hostFrameOf);
        SdmPaging.Outcome t = SdmPaging.translate(view, k.guest(), k.access());
        if (!t.completes() || t.physical() >= (long) hostFrameOf.length * PhysicalMemory.FRAME_SIZE) {
            return null;
        }
        return new Viewed(k, hostFrameOf, view, t);
    }

    /**
     * Setting a guest accessed or dirty flag is a guest-physical write that EPT must permit (SDM Vol. 3C §28.2.3.2,
     * §27.2.1 table 27-7; Vol. 3A §4.8): under an EPT that grants everything except write access to one guest frame
     * (EPT A/D off), an access the guest's own paging completes — its translation {@link SdmPaging} computes on the
     * guest-physical view — causes an EPT violation exactly when an entry of its walk whose A flag is 0 (or its leaf,
     * for a write, whose D flag is 0) lies in that frame: the first such entry in walk order, reported with its
     * guest-physical address, qualification bit 1 (a write), bit 7 (a linear address is valid) and bit 8 = 0 (not the
     * translation of the linear address); otherwise a write to the data in that frame is the violation, with bit 8 =
     * 1; otherwise the access completes. Reads of the guest's entries in the frame are permitted (R = 1) and cause
     * nothing.
     */
    @Property(seed = Budget.SEED, tries = 1000)
    void aGuestAccessedOrDirtyUpdateIsAnEptWriteThatTheEptMustPermit(
            @ForAll("guestsUnderAnEptThatGrantsEverything") EptCase k0, @ForAll @IntRange(min = 0, max = 8) int pick) {
        Viewed v = viewed(k0);
        if (v == null || v.hostFrameOf().length != EptCases.GUEST_FRAMES) {
            Statistics.label("guest A/D under a read-only frame").collect("not judged");
            return;
        }
        List<Long> walk = v.nativeWalk().entryAddresses();
        long dataGpa = v.nativeWalk().physical();
        // the frame made read-only: an entry of the walk (0..3), the leaf's more often (4, 5), or the data's (6..8)
        long frame = (pick < walk.size() ? walk.get(pick) : pick < 6 ? walk.get(walk.size() - 1) : dataGpa) >>> 12;
        long pte = (long) EptCases.EPT_PT_FRAME * PhysicalMemory.FRAME_SIZE + 8 * frame;
        EptCase k = k0.withMemory(k0.memory().writePhysical(pte, k0.memory().readPhysical(pte) & ~2L));
        boolean write = k.access().kind() == AccessKind.WRITE;
        Long violating = null;
        for (int i = 0; i < walk.size() && violating == null; i++) {
            long e = v.view().readPhysical(walk.get(i));
            boolean needsWrite = (e & (1L << 5)) == 0 || i == walk.size() - 1 && write && (e & (1L << 6)) == 0;
            if (needsWrite && walk.get(i) >>> 12 == frame) {
                violating = walk.get(i);
            }
        }
        String expected = violating != null ? "EPT violation: A/D update" : write && dataGpa >>> 12 == frame
                ? "EPT violation: the write" : "completed";
        Statistics.label("guest A/D under a read-only frame").collect(expected);
        Statistics.label("guest A/D under a read-only frame").coverage(cov -> {
            cov.check("EPT violation: A/D update").count(n -> n >= 20);
            cov.check("EPT violation: the write").count(n -> n >= 10);
            cov.check("completed").count(n -> n >= 20);
        });
        GuestStep s = EptProperties.run(k);
        if (expected.equals("completed")) {
            assertThat(s.outcome()).as("%s with guest frame %s read-only", k.access(), frame)
                    .isInstanceOf(GuestOutcome.Retired.class);
            return;
        }
        assertThat(s.outcome()).as("%s with guest frame %s read-only: %s", k.access(), frame, expected)
                .isInstanceOf(GuestOutcome.Exited.class);
        ExitInformation e = ((GuestOutcome.Exited) s.outcome()).exit();
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(e.guestPhysicalAddress()).as("guest-physical address").isEqualTo(violating != null ? violating
                : dataGpa);
        assertThat(e.qualification() & 0x182).as("qualification bits 1, 7, 8").isEqualTo(violating != null ? 0x82
                : 0x182);
        assertThat(s.processor().machine().memory()).as("an EPT violation keeps no guest flag")
                .isEqualTo(k.memory());
    }

    /**
     * What a completed guest access caches under EPT (SDM Vol. 3C §28.3.1, Vol. 3A §4.10.2): one combined mapping
     * for the access's page, in the guest's context and PCID, no larger than the guest's page and the EPT's page,
     * translating the linear address to the host-physical address of its data; global only if the guest's leaf has
     * G = 1 and CR4.PGE = 1 (§4.10.2.4); dirty only if the guest's leaf has D = 1 and, with EPT A/D enabled, the
     * EPT leaf has D = 1. Then a write to the same address through a mapping cached clean must still set the guest's
     * D flag and, with EPT A/D enabled, the EPT leaf's D flag (Vol. 3A §4.8, Vol. 3C §28.2.4): a clean cached mapping
     * cannot set them, so the write walks. The cases: as {@link #guestsUnderAnEptThatGrantsEverything}, with EPT A/D
     * enabled in half, CR4.PGE in half and G = 1 in the guest's leaf in half.
     */
    @Property(seed = Budget.SEED, tries = 600)
    void aCompletedGuestAccessCachesTheCombinedMappingTheSdmAllowsAndAWriteThroughItSetsBothDirtyFlags(
            @ForAll("guestsUnderAnEptThatGrantsEverything") EptCase k0, @ForAll boolean eptAd, @ForAll boolean pge,
            @ForAll boolean g) {
        Viewed v0 = viewed(k0);
        if (v0 == null) {
            Statistics.label("cached").collect("not judged");
            return;
        }
        List<Long> walk0 = v0.nativeWalk().entryAddresses();
        long leafHost = host(v0.hostFrameOf(), walk0.get(walk0.size() - 1));
        PhysicalMemory memory = k0.memory();
        memory = memory.writePhysical(leafHost, memory.readPhysical(leafHost) | (g ? 1L << 8 : 0));
        CpuState cpu = k0.guest().withCr4(k0.guest().cr4().withPge(pge));
        EptCase k = new EptCase(memory, cpu, k0.eptp().withAccessedDirty(eptAd), k0.access(), k0.eptEntries(),
                k0.dataEptEntry());
        Viewed v = v0; // G (ignored by the walk) and CR4.PGE change no translation
        long page = v.nativeWalk().pageBytes();
        long eptPage = v.hostFrameOf().length == EptCases.GUEST_FRAMES ? 4096 : 2L << 20;
        long dataGpa = v.nativeWalk().physical();
        long dataHost = host(v.hostFrameOf(), dataGpa);
        long eptLeaf = eptPage == 4096 ? (long) EptCases.EPT_PT_FRAME * PhysicalMemory.FRAME_SIZE + 8 * (dataGpa >>> 12)
                : (long) EptCases.EPT_PD_FRAME * PhysicalMemory.FRAME_SIZE;
        VmxProcessor in = VmxSystems.launch(k.machine(TlbPolicy.ADVERSARIAL), EptProperties.controls(k));
        GuestStep s = NonRoot.execute(in, new GuestInstruction.MemoryAccess(k.access()));
        assertThat(s.outcome()).as("%s completes", k.access()).isInstanceOf(GuestOutcome.Retired.class);
        PhysicalMemory after = s.processor().machine().memory();
        long guestLeaf = after.readPhysical(leafHost);
        boolean guestDirty = (guestLeaf & (1L << 6)) != 0;
        boolean eptDirty = (after.readPhysical(eptLeaf) & (1L << 9)) != 0;
        List<TlbEntry> cached = s.processor().machine().tlb().entries();
        assertThat(cached).as("%s: one combined mapping cached", k.access()).hasSize(1);
        TlbEntry e = cached.get(0);
        long size = e.pageSize().bytes();
        Statistics.label("cached").collect("guest " + page / 1024 + " KB, EPT " + eptPage / 1024 + " KB"
                + (e.dirty() ? ", dirty" : ", clean"));
        assertThat(e.tag()).as("context").isEqualTo(in.machine().tlbTag());
        assertThat(e.pcid()).as("PCID").isEqualTo(cpu.currentPcid());
        assertThat(size).as("no larger than the guest's page (%s) and the EPT's (%s)", page, eptPage)
                .isLessThanOrEqualTo(Math.min(page, eptPage));
        assertThat(e.linearBase()).as("page").isEqualTo(k.access().linear() & -size);
        assertThat(e.translate(k.access().linear())).as("host-physical address").isEqualTo(dataHost);
        if (e.global()) {
            assertThat((guestLeaf >>> 8) & 1).as("global: G of the guest's leaf").isEqualTo(1L);
            assertThat(pge).as("global: CR4.PGE").isTrue();
        }
        if (e.dirty()) {
            assertThat(guestDirty).as("dirty: D of the guest's leaf").isTrue();
            assertThat(!eptAd || eptDirty).as("dirty: D of the EPT leaf (EPT A/D on)").isTrue();
        }
        Access w = Access.write(k.access().linear(), 0x5A5A_5A5A_5A5A_5A5AL);
        boolean judged = !e.dirty() && SdmPaging.translate(view(after, v.hostFrameOf()), cpu, w).completes()
                && (dataHost & ~7L) != leafHost && (dataHost & ~7L) != eptLeaf;
        Statistics.label("write through a clean combined mapping").collect(judged ? "judged" : "not judged");
        Statistics.label("write through a clean combined mapping").coverage(cov -> cov.check("judged")
                .count(n -> n >= 20));
        if (!judged) {
            return;
        }
        GuestStep s2 = NonRoot.execute(s.processor(), new GuestInstruction.MemoryAccess(w));
        assertThat(s2.outcome()).as("the write").isInstanceOf(GuestOutcome.Retired.class);
        PhysicalMemory after2 = s2.processor().machine().memory();
        assertThat((after2.readPhysical(leafHost) >>> 6) & 1).as("D of the guest's leaf after the write")
                .isEqualTo(1L);
        if (eptAd) {
            assertThat((after2.readPhysical(eptLeaf) >>> 9) & 1).as("D of the EPT leaf after the write")
                    .isEqualTo(1L);
        }
    }
}
