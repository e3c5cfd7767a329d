package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;
import org.junit.jupiter.api.Test;

/** The enumerated leaves of a table tree, and the path text the invariants' explanations print for each. */
class GuestMappingsTest {
    @Test
    void eachLeafCarriesItsPathFromTheRootRenderedAsTheExplanationsPrintIt() {
        // L4 0x10 → L3 0x11 → L2 0x12 → L1 0x13; the L1 maps 0x20 writable at index 5 and 0x21 read-only at 6
        PhysicalMemory m = PhysicalMemory.ofFrames(64).write(0x10, 0, Entry.table(0x11, true, true).raw())
                .write(0x11, 0, Entry.table(0x12, true, true).raw())
                .write(0x12, 0, Entry.table(0x13, true, true).raw())
                .write(0x13, 5, Entry.table(0x20, true, true).raw())
                .write(0x13, 6, Entry.table(0x21, false, true).raw());
        List<GuestMappings.Mapping> leaves = GuestMappings.paging(m, 0x10);
        assertThat(leaves).extracting(GuestMappings.Mapping::address).containsExactly(0x5000L, 0x6000L);
        assertThat(leaves).extracting(GuestMappings.Mapping::frame).containsExactly(0x20L, 0x21L);
        assertThat(leaves).extracting(GuestMappings.Mapping::writable).containsExactly(true, false);
        WalkPath l4 = new WalkPath(null, 4, 0x10, 0);
        WalkPath l2 = new WalkPath(new WalkPath(l4, 3, 0x11, 0), 2, 0x12, 0);
        assertThat(leaves.get(1).path()).isEqualTo(new WalkPath(l2, 1, 0x13, 6));
        assertThat(leaves.get(1)).hasToString(
                "0x6000 → frame 0x21 read-only via L4 0x10[0] → L3 0x11[0] → L2 0x12[0] → L1 0x13[6]");
    }
}
