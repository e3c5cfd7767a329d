package org.hybridv.gen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.SwitchRoot;
import org.junit.jupiter.api.Test;

/**
 * A {@link SwitchRoot#FOREIGN_FRAME} root must map a frame that is not the kernel domain's (L1-2 is its defect): in
 * the hybrid-kernel machine the domain owns frames 1..frames, in the whole-system machine 0x60–0x9f. Drawing one of the
 * domain's own frames made a root without a defect, which the hypervisor rightly accepted and I5-view then flagged.
 */
class ForeignFrameRootTest {
    @Test
    void wholeSystemForeignRootsNeverNameTheKernelsFrames() {
        List<Long> drawn = new ArrayList<>();
        for (int seed = 0; seed < 3000; seed++) {
            for (WholeSystemCases.Op op : WholeSystemCases.generate(Choices.random(seed)).ops()) {
                if (op instanceof WholeSystemCases.Op.Kernel k && k.op() instanceof GuestOp.SwitchMmu s
                        && s.root() == SwitchRoot.FOREIGN_FRAME) {
                    drawn.add(s.explicitRoot());
                }
            }
        }
        long first = WholeSystemCases.KERNEL_FIRST;
        long last = first + WholeSystemCases.KERNEL_FRAMES - 1;
        assertThat(drawn).isNotEmpty().allSatisfy(mfn -> assertThat(mfn < first || mfn > last)
                .as("frame %#x is the kernel's (%#x..%#x)", mfn, first, last).isTrue());
        assertThat(drawn).allSatisfy(mfn -> assertThat(mfn).isBetween(0L, WholeSystemCases.MEMORY_FRAMES - 1L));
        assertThat(drawn).contains(0L).anySatisfy(mfn -> assertThat(mfn).isGreaterThan(last));
    }

    @Test
    void hybridKernelForeignRootsNeverNameTheDomainsFrames() {
        int checked = 0;
        for (int seed = 0; seed < 3000; seed++) {
            HybridCases.Run run = HybridCases.generate(Choices.random(seed));
            for (GuestOp op : run.ops()) {
                if (op instanceof GuestOp.SwitchMmu s && s.root() == SwitchRoot.FOREIGN_FRAME) {
                    assertThat(s.explicitRoot()).as("domain frames 1..%d", run.frames())
                            .satisfiesAnyOf(mfn -> assertThat(mfn).isZero(),
                                    mfn -> assertThat(mfn).isBetween(run.frames() + 1L,
                                            (long) run.frames() + HybridCases.XEN_FRAMES));
                    checked++;
                }
            }
        }
        assertThat(checked).isPositive();
    }
}
