package org.hybridv.gen;

import org.hybridv.x86.Access;
import org.hybridv.x86.X86Machine;

/**
 * One generated paging situation: a machine (memory holding paging structures, a CPU state in IA-32e paging, an
 * empty TLB) and one access to try on it.
 *
 * @param machine the machine before the access
 * @param access  the access
 */
public record PagingCase(X86Machine machine, Access access) {
    @Override
    public String toString() {
        return "PagingCase[cpu=" + machine.cpu() + ", access=" + access + ", memory=" + machine.memory() + "]";
    }
}
