package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** I/O-instruction and MSR exits, Intel SDM Vol. 3C §24.6.4, §24.6.9, §25.1.3, table 27-5. */
class IoMsrExitsTest {
    private static final PrimaryControls NONE = PrimaryControls.NONE;
    private static final PrimaryControls UNCONDITIONAL = NONE.withUnconditionalIoExiting(true);
    private static final PrimaryControls BITMAPS = NONE.withUseIoBitmaps(true);
    private static final PrimaryControls BOTH = UNCONDITIONAL.withUseIoBitmaps(true);

    @Test
    @DisplayName("SDM 25.1.3: with both I/O controls 0 the instruction executes normally")
    void noIoControlsNoExit() {
        assertThat(IoExits.exits(NONE, IoBitmaps.all(), 0x60, 1)).isFalse();
    }

    @Test
    @DisplayName("SDM 25.1.3: unconditional I/O exiting alone exits every I/O instruction")
    void unconditionalIoExitingExits() {
        assertThat(IoExits.exits(UNCONDITIONAL, IoBitmaps.none(), 0x60, 1)).isTrue();
    }

    @Test
    @DisplayName("SDM 25.1.3: use I/O bitmaps wins over unconditional I/O exiting")
    void bitmapsOverrideUnconditionalExiting() {
        assertThat(IoExits.exits(BOTH, IoBitmaps.none(), 0x60, 1)).isFalse();
        assertThat(IoExits.exits(BOTH, IoBitmaps.none().with(0x60, true), 0x60, 1)).isTrue();
    }

    @Test
    @DisplayName("SDM 24.6.4: bitmap A covers 0000H-7FFFH, bitmap B 8000H-FFFFH")
    void bitmapAAndBSplitThePortSpace() {
        IoBitmaps b = IoBitmaps.none().with(0x7FFF, true).with(0x8000, true);
        assertThat(b.a().get(0x7FFF)).isTrue();
        assertThat(b.b().get(0)).as("port 8000H is bit 0 of bitmap B").isTrue();
        assertThat(IoExits.exits(BITMAPS, b, 0x7FFF, 1)).isTrue();
        assertThat(IoExits.exits(BITMAPS, b, 0x8000, 1)).isTrue();
        assertThat(IoExits.exits(BITMAPS, b, 0x7FFE, 1)).isFalse();
    }

    @Test
    @DisplayName("SDM 25.1.3: a multi-byte access exits if the bit of any port it touches is set")
    void multiByteAccessChecksEveryPort() {
        IoBitmaps b = IoBitmaps.none().with(0x3FB, true);
        assertThat(IoExits.exits(BITMAPS, b, 0x3F8, 4)).as("dword at 3F8H touches 3F8H..3FBH").isTrue();
        assertThat(IoExits.exits(BITMAPS, b, 0x3F8, 2)).as("word at 3F8H touches 3F8H..3F9H").isFalse();
        assertThat(IoExits.exits(BITMAPS, IoBitmaps.none().with(0x8000, true), 0x7FFF, 2))
                .as("word at 7FFFH crosses into bitmap B").isTrue();
    }

    @Test
    @DisplayName("SDM 25.1.3: an access that wraps from FFFFH to 0000H exits even with clear bitmaps")
    void wrappingAccessExits() {
        assertThat(IoExits.exits(BITMAPS, IoBitmaps.none(), 0xFFFF, 2)).isTrue();
        assertThat(IoExits.exits(BITMAPS, IoBitmaps.none(), 0xFFFE, 2)).isFalse();
        assertThat(IoExits.exits(BITMAPS, IoBitmaps.none(), 0xFFFD, 4)).isTrue();
    }

    @Test
    @DisplayName("SDM table 27-5: I/O exit qualification (size-1, direction, string, REP, encoding, port)")
    void ioQualificationLayout() {
        // IN AL, 60h: 1 byte, IN, immediate operand → 0 | 1<<3 | 1<<6 | 0x60<<16
        assertThat(IoExits.qualification(0x60, 1, true, false, false, true)).isEqualTo(0x0060_0048L);
        // OUT DX, EAX with DX = 3F8h: 4 bytes → 3, OUT → 0, DX encoding → 0
        assertThat(IoExits.qualification(0x3F8, 4, false, false, false, false)).isEqualTo(0x03F8_0003L);
        // REP OUTSW: 2 bytes, string, REP
        assertThat(IoExits.qualification(0x1F0, 2, false, true, true, false)).isEqualTo(0x01F0_0031L);
    }

    @Test
    void badIoOperandsAreApiMisuse() {
        assertThatThrownBy(() -> IoExits.exits(BITMAPS, IoBitmaps.none(), 0x10000, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65536");
        assertThatThrownBy(() -> IoExits.exits(BITMAPS, IoBitmaps.none(), 0x60, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3");
    }

    @Test
    @DisplayName("SDM 25.1.3: without MSR bitmaps every RDMSR and WRMSR exits")
    void withoutMsrBitmapsEveryMsrAccessExits() {
        assertThat(MsrExits.exits(NONE, MsrBitmap.none(), 0x10, false)).isTrue();
        assertThat(MsrExits.exits(NONE, MsrBitmap.none(), 0xC000_0080L, true)).isTrue();
    }

    @Test
    @DisplayName("SDM 24.6.9: four regions — read low, read high, write low, write high")
    void msrBitmapRegions() {
        PrimaryControls p = NONE.withUseMsrBitmaps(true);
        MsrBitmap b = MsrBitmap.none().with(0xC000_0080L, false, true).with(0x174, true, true);
        assertThat(b.readHigh().get(0x80)).as("EFER read → read-high bit 0x80").isTrue();
        assertThat(MsrExits.exits(p, b, 0xC000_0080L, false)).as("RDMSR EFER").isTrue();
        assertThat(MsrExits.exits(p, b, 0xC000_0080L, true)).as("WRMSR EFER: write-high bit clear").isFalse();
        assertThat(MsrExits.exits(p, b, 0x174, true)).as("WRMSR SYSENTER_CS: write-low bit set").isTrue();
        assertThat(MsrExits.exits(p, b, 0x174, false)).as("RDMSR SYSENTER_CS: read-low bit clear").isFalse();
    }

    @Test
    @DisplayName("SDM 25.1.3: an MSR outside 0-1FFFH and C0000000H-C0001FFFH always exits (e.g. Xen's 40000000H)")
    void msrOutsideTheBitmapRangesAlwaysExits() {
        PrimaryControls p = NONE.withUseMsrBitmaps(true);
        assertThat(MsrExits.exits(p, MsrBitmap.none(), 0x4000_0000L, true)).isTrue();
        assertThat(MsrExits.exits(p, MsrBitmap.none(), 0x2000, false)).isTrue();
        assertThat(MsrExits.exits(p, MsrBitmap.none(), 0xC000_2000L, false)).isTrue();
        assertThat(MsrExits.exits(p, MsrBitmap.none(), 0x1FFF, false)).isFalse();
        assertThat(MsrExits.exits(p, MsrBitmap.none(), 0xC000_1FFFL, false)).isFalse();
    }
}
