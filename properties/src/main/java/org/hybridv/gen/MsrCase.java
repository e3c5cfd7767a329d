package org.hybridv.gen;

import java.util.List;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.MsrBitmap;
import org.hybridv.vmx.PrimaryControls;

/**
 * One RDMSR or WRMSR under a generated MSR bitmap (Intel SDM Vol. 3C §24.6.9). The four regions are given as the
 * offsets (0..1FFFH) of their set bits.
 *
 * @param useMsrBitmaps the "use MSR bitmaps" control
 * @param readLow       set bits of the read bitmap for low MSRs (00000000H–00001FFFH)
 * @param readHigh      set bits of the read bitmap for high MSRs (C0000000H–C0001FFFH)
 * @param writeLow      set bits of the write bitmap for low MSRs
 * @param writeHigh     set bits of the write bitmap for high MSRs
 * @param msr           the value of ECX, 0..FFFFFFFFH
 * @param write         WRMSR (true) or RDMSR (false)
 */
public record MsrCase(boolean useMsrBitmaps, List<Integer> readLow, List<Integer> readHigh, List<Integer> writeLow,
        List<Integer> writeHigh, long msr, boolean write) {
    public MsrCase {
        readLow = List.copyOf(readLow);
        readHigh = List.copyOf(readHigh);
        writeLow = List.copyOf(writeLow);
        writeHigh = List.copyOf(writeHigh);
    }

    public ExecutionControls controls() {
        MsrBitmap b = MsrBitmap.none();
        for (int o : readLow) {
            b = b.with(MsrBitmap.LOW_BASE + o, false, true);
        }
        for (int o : readHigh) {
            b = b.with(MsrBitmap.HIGH_BASE + o, false, true);
        }
        for (int o : writeLow) {
            b = b.with(MsrBitmap.LOW_BASE + o, true, true);
        }
        for (int o : writeHigh) {
            b = b.with(MsrBitmap.HIGH_BASE + o, true, true);
        }
        return ExecutionControls.none().withPrimary(PrimaryControls.NONE.withUseMsrBitmaps(useMsrBitmaps))
                .withMsrBitmap(b);
    }

    public GuestInstruction instruction() {
        return write ? new GuestInstruction.Wrmsr(msr, 0) : new GuestInstruction.Rdmsr(msr);
    }
}
