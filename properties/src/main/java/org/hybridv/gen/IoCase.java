package org.hybridv.gen;

import java.util.List;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.IoBitmaps;
import org.hybridv.vmx.PrimaryControls;

/**
 * One I/O instruction under generated I/O controls (Intel SDM Vol. 3C §24.6.2 "use I/O bitmaps", "unconditional I/O
 * exiting"; §24.6.4 I/O bitmaps A and B).
 *
 * @param useIoBitmaps           the "use I/O bitmaps" control
 * @param unconditionalIoExiting the "unconditional I/O exiting" control
 * @param portsSet               the ports whose bit is 1 (in bitmap A for 0000H–7FFFH, B for 8000H–FFFFH)
 * @param instruction            the I/O instruction
 */
public record IoCase(boolean useIoBitmaps, boolean unconditionalIoExiting, List<Integer> portsSet,
        GuestInstruction.Io instruction) {
    public IoCase {
        portsSet = List.copyOf(portsSet);
    }

    /** The execution controls of this case. */
    public ExecutionControls controls() {
        IoBitmaps bitmaps = IoBitmaps.none();
        for (int port : portsSet) {
            bitmaps = bitmaps.with(port, true);
        }
        return ExecutionControls.none()
                .withPrimary(PrimaryControls.NONE.withUseIoBitmaps(useIoBitmaps)
                        .withUnconditionalIoExiting(unconditionalIoExiting))
                .withIoBitmaps(bitmaps);
    }
}
