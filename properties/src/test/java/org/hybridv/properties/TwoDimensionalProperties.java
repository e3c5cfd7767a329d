package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.EptCase;
import org.hybridv.gen.EptCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestStep;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Processor;
import org.hybridv.x86.Tlb;
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
}
