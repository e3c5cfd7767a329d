package org.hybridv.scenario;

/**
 * What a decoder may know besides the step itself: the machine's shape, for range checks such as
 * "frame &lt; memoryFrames".
 *
 * @param machine the scenario's {@code machine}
 */
public record DecodeContext(MachineSpec machine) {
    /**
     * A frame of backed memory that a step reads or writes directly (a paging structure it edits or inspects):
     * must be below {@code memoryFrames}.
     */
    public long memoryFrame(Fields fields, String name) {
        return fields.integer(name, 0, machine.memoryFrames() - 1,
                "memoryFrames = " + machine.memoryFrames() + ": frames 0.." + (machine.memoryFrames() - 1));
    }
}
