package org.hybridv.gen;

import org.hybridv.x86.X86Machine;

/**
 * A generated paging case run as a VMX guest without EPT: the guest's machine and access ({@link PagingCase}), the
 * exception-exit controls, and the value in CR2 when the guest runs.
 */
public record GuestFaultCase(PagingCase paging, PageFaultFilter filter, long cr2) {
    /** The guest's machine, with {@link #cr2} in its CR2. */
    public X86Machine machine() {
        X86Machine m = paging.machine();
        return m.withCpu(m.cpu().withCr2(cr2));
    }
}
