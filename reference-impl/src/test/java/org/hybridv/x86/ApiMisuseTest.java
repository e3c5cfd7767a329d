package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Misuse of the API (not architectural events) throws {@link IllegalArgumentException} naming the bad value; see
 * the package documentation. Architectural faults are values ({@link PageFault}, {@link GeneralProtection}).
 */
class ApiMisuseTest {
    private static final PhysicalMemory MEMORY = PhysicalMemory.ofFrames(16);

    @Test
    @DisplayName("a frame outside memory is rejected, naming the frame")
    void frameOutsideMemory() {
        assertThatThrownBy(() -> MEMORY.write(16, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("frame = 16");
        assertThatThrownBy(() -> MEMORY.read(-1, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("frame = -1");
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        assertThatThrownBy(() -> m.withEntry(99, 0, Entry.NOT_PRESENT)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("99");
        assertThatThrownBy(() -> PhysicalMemory.ofFrames(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("frameCount = 0");
    }

    @Test
    @DisplayName("SDM 4.5: an index outside 0..511 is rejected, naming the index")
    void indexOutsideTable() {
        assertThatThrownBy(() -> MEMORY.write(1, 512, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("index = 512");
        assertThatThrownBy(() -> MEMORY.read(1, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("index = -1");
    }

    @Test
    @DisplayName("MAXPHYADDR outside 36..52 is rejected, naming the value")
    void maxPhysAddrOutsideRange() {
        assertThatThrownBy(() -> CpuState.longMode(1, 35)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxPhysAddr = 35");
        assertThatThrownBy(() -> CpuState.longMode(1, 53)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxPhysAddr = 53");
        assertThatThrownBy(() -> X86Machine.create(16, 53, TlbPolicy.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("53");
    }

    @Test
    @DisplayName("SDM 4.6: CPL is 0..3; CPL 4 is rejected")
    void cplOutsideRange() {
        assertThatThrownBy(() -> cpu().withCpl(4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpl = 4");
        assertThatThrownBy(() -> cpu().withCpl(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpl = -1");
    }

    @Test
    @DisplayName("misaligned physical and linear addresses are rejected, naming the address")
    void misalignedAddresses() {
        assertThatThrownBy(() -> MEMORY.readPhysical(0x1004)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1004");
        assertThatThrownBy(() -> MEMORY.writePhysical(0x1001, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1001");
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        assertThatThrownBy(() -> Processor.access(m, Access.read(LINEAR + 4)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Hex.of(LINEAR + 4));
        assertThatThrownBy(() -> new Cr3(0x1800, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1800");
    }

    @Test
    @DisplayName("null arguments are rejected with IllegalArgumentException naming the argument")
    void nullArguments() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        assertThatThrownBy(() -> new X86Machine(null, cpu(), Tlb.empty(TlbPolicy.NONE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memory");
        assertThatThrownBy(() -> cpu().withCr0(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cr0");
        assertThatThrownBy(() -> Access.of(0, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kind");
        assertThatThrownBy(() -> Tlb.empty(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("policy");
        assertThatThrownBy(() -> Processor.access(m, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("access");
        assertThatThrownBy(() -> Processor.access(null, Access.read(LINEAR)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("machine");
        assertThatThrownBy(() -> Processor.invlpg(null, LINEAR)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("machine");
        assertThatThrownBy(() -> Processor.movToCr3(null, 0x1000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("machine");
        assertThatThrownBy(() -> Processor.movToCr0(m, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CR0");
        assertThatThrownBy(() -> Processor.movToCr4(m, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CR4");
        assertThatThrownBy(() -> Processor.writeEfer(m, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("EFER");
        assertThatThrownBy(() -> PageWalk.translate(m.memory(), m.cpu(), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("access");
        assertThatThrownBy(() -> PageWalk.translate(null, m.cpu(), Access.read(LINEAR)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memory");
        assertThatThrownBy(() -> PageWalk.walk(m.memory(), null, LINEAR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cpu");
        assertThatThrownBy(() -> m.withEntry(1, 0, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("entry");
        assertThatThrownBy(() -> Tlb.empty(TlbPolicy.ADVERSARIAL).fill(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("entry");
    }

    @Test
    @DisplayName("entry fields out of range are rejected: bit 64, protection key 16, a frame wider than 40 bits")
    void entryFieldsOutOfRange() {
        assertThatThrownBy(() -> Entry.NOT_PRESENT.with(64, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("64");
        assertThatThrownBy(() -> Entry.NOT_PRESENT.withProtectionKey(16)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("16");
        assertThatThrownBy(() -> Entry.NOT_PRESENT.withFrame(1L << 40)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(1L << 40));
    }

    @Test
    @DisplayName("SDM 4.6: an instruction fetch cannot be an implicit supervisor-mode access")
    void implicitFetchIsMisuse() {
        assertThatThrownBy(() -> Access.fetch(LINEAR).implicit()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("SDM 4.1.1, Vol. 1 §3.3.7.1: walk() is only defined with paging on and for canonical addresses")
    void walkPreconditions() {
        X86Machine reset = X86Machine.create(16, 36, TlbPolicy.NONE);
        assertThatThrownBy(() -> PageWalk.walk(reset.memory(), reset.cpu(), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CR0.PG = 0");
        assertThatThrownBy(() -> PageWalk.walk(MEMORY, cpu(), 0x0000_8000_0000_0000L))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x800000000000");
    }
}
