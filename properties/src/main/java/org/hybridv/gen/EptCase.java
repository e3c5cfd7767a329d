package org.hybridv.gen;

import java.util.List;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * A generated guest under EPT (Intel SDM Vol. 3C §28.2): host memory holding the EPT paging structures and the guest's
 * own paging structures (at the host addresses EPT maps their guest-physical frames to), the guest's CPU state, the
 * EPTP, and one guest access.
 *
 * @param memory        host-physical memory
 * @param guest         the guest's CPU state (IA-32e paging, MAXPHYADDR at most 48)
 * @param eptp          the EPTP (valid: it passes the VM-entry checks)
 * @param access        the guest's access
 * @param eptEntries    the host-physical addresses of every EPT paging-structure entry the generator wrote
 * @param dataEptEntry  the host-physical address of the EPT PTE that maps the guest-physical page of the access,
 *                      or -1 when the guest path does not end in a 4-KByte page of the generated guest frames
 */
public record EptCase(PhysicalMemory memory, CpuState guest, Eptp eptp, Access access, List<Long> eptEntries,
        long dataEptEntry) {
    public EptCase {
        eptEntries = List.copyOf(eptEntries);
    }

    /** The guest's machine (host memory, guest CPU, an empty TLB), ready for {@link VmxSystems#launch}. */
    public X86Machine machine(TlbPolicy policy) {
        return new X86Machine(memory, guest, Tlb.empty(policy));
    }

    /** This case with another access. */
    public EptCase withAccess(Access a) {
        return new EptCase(memory, guest, eptp, a, eptEntries, dataEptEntry);
    }

    /** This case with another host memory. */
    public EptCase withMemory(PhysicalMemory m) {
        return new EptCase(m, guest, eptp, access, eptEntries, dataEptEntry);
    }

    @Override
    public String toString() {
        return "EptCase[guest=" + guest + ", " + eptp + ", access=" + access + ", memory=" + memory + "]";
    }
}
