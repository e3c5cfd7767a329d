package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Physical memory: frames of 512 quadwords (Intel SDM Vol. 3A §4.5: a paging structure is 4 KBytes of 512 64-bit
 * entries), immutable with copy-on-write, compared by content. Unbacked addresses read all ones (platform
 * behaviour, stated by the reference).
 */
class PhysicalMemoryTest {

    @Test
    @DisplayName("copy-on-write: a write returns a new memory and leaves the old one unchanged")
    void writeIsCopyOnWrite() {
        PhysicalMemory before = PhysicalMemory.ofFrames(4);
        PhysicalMemory after = before.write(2, 7, 0xDEAD_BEEFL);
        assertThat(after.read(2, 7)).isEqualTo(0xDEAD_BEEFL);
        assertThat(before.read(2, 7)).isZero();
        PhysicalMemory again = after.write(2, 7, 1);
        assertThat(after.read(2, 7)).isEqualTo(0xDEAD_BEEFL);
        assertThat(again.read(2, 7)).isEqualTo(1L);
        // the frame copy handed out is a copy too
        long[] words = again.frame(2);
        words[7] = 99;
        assertThat(again.read(2, 7)).isEqualTo(1L);
    }

    @Test
    @DisplayName("SDM 4.5: frame f, index i is physical address f*4096 + i*8")
    void frameAndIndexMatchPhysicalAddress() {
        PhysicalMemory m = PhysicalMemory.ofFrames(4).write(3, 511, 5).writePhysical(0x1008, 6);
        assertThat(m.readPhysical(3 * 4096 + 511 * 8)).isEqualTo(5L);
        assertThat(m.read(1, 1)).isEqualTo(6L);
        assertThat(m.read(0, 0)).isZero();
    }

    @Test
    @DisplayName("unbacked physical addresses read all ones and drop writes")
    void unbackedAddressesReadAllOnes() {
        PhysicalMemory m = PhysicalMemory.ofFrames(4);
        assertThat(m.readPhysical(4 * 4096)).isEqualTo(-1L);
        assertThat(m.readPhysical(1L << 40)).isEqualTo(-1L);
        assertThat(m.writePhysical(4 * 4096, 5)).isEqualTo(m);
    }

    @Test
    @DisplayName("equals and hashCode compare contents, whatever the write history")
    void equalsAndHashCodeByContent() {
        PhysicalMemory a = PhysicalMemory.ofFrames(100).write(70, 3, 42).write(1, 0, 7);
        PhysicalMemory b = PhysicalMemory.ofFrames(100).write(1, 0, 7).write(70, 3, 42);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        // a frame written and then cleared again equals a frame never written
        PhysicalMemory c = b.write(5, 9, 1).write(5, 9, 0);
        assertThat(c).isEqualTo(a).hasSameHashCodeAs(a);
        assertThat(a).isNotEqualTo(a.write(70, 3, 43));
        assertThat(PhysicalMemory.ofFrames(4)).isNotEqualTo(PhysicalMemory.ofFrames(5));
        assertThat(PhysicalMemory.ofFrames(4)).isEqualTo(PhysicalMemory.ofFrames(4));
    }

    @Test
    void aFramesContentTokenStaysUntilTheFrameIsWritten() {
        PhysicalMemory m = PhysicalMemory.ofFrames(4).write(1, 3, 7);
        assertThat(m.contentToken(0)).isNull();
        Object t = m.contentToken(1);
        assertThat(t).isNotNull();
        PhysicalMemory elsewhere = m.write(2, 0, 5);
        assertThat(elsewhere.contentToken(1)).isSameAs(t);
        assertThat(elsewhere.write(1, 4, 1).contentToken(1)).isNotSameAs(t);
        assertThat(m.write(1, 3, 7).contentToken(1)).isSameAs(t);
    }
}
