package org.hybridv.xen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;

/**
 * A domain as the hypervisor keeps it besides the frame table (which alone says which frames it owns: OWN-1).
 *
 * @param id                     the domain id (0..{@link FrameInfo#MAX_DOMAIN})
 * @param mode                   its MMU mode
 * @param p2m                    guest frame → machine frame, for shadow and HAP; in direct mode guest-physical =
 *                               machine for the domain's own frames (SWITCH_MMU POST-3, identity chosen) and the
 *                               p2m is the identity on them
 * @param vcpus                  its vCPUs, by index
 * @param eptp                   the EPTP of the EPT built from the p2m in hypervisor frames (HAP mode), 0 otherwise
 * @param hypercallPageInstalled BOOT-3, docs/rules/hybrid.md
 */
public record Domain(int id, MmuMode mode, SortedMap<Long, Long> p2m, List<Vcpu> vcpus, long eptp,
        boolean hypercallPageInstalled, CpuidIdentity identity, EmulatedDevices devices) {
    /** A domain of the Xen-like hypervisor at CPUID base 0x40000000 ({@link CpuidIdentity#XEN}). */
    public Domain(int id, MmuMode mode, SortedMap<Long, Long> p2m, List<Vcpu> vcpus, long eptp,
            boolean hypercallPageInstalled) {
        this(id, mode, p2m, vcpus, eptp, hypercallPageInstalled, CpuidIdentity.XEN, EmulatedDevices.RESET);
    }

    public Domain {
        Checks.notNull("CPUID identity", identity);
        Checks.notNull("emulated devices", devices);
        if (identity.personality() == CpuidIdentity.Personality.KVM && mode != MmuMode.HAP) {
            throw new IllegalArgumentException("d" + id + ": a KVM-personality domain runs in HAP mode only, not "
                    + mode + " (BOOT-7)");
        }
        Checks.inRange("domain", id, 0, FrameInfo.MAX_DOMAIN);
        Checks.notNull("MMU mode", mode);
        Checks.notNull("p2m", p2m);
        Checks.notNull("vCPUs", vcpus);
        p2m = FrozenSortedMap.of(p2m);
        vcpus = List.copyOf(vcpus);
        for (int i = 0; i < vcpus.size(); i++) {
            if (!vcpus.get(i).id().equals(new VcpuId(id, i))) {
                throw new IllegalArgumentException("vCPU " + i + " of d" + id + " is " + vcpus.get(i).id());
            }
        }
        if ((eptp != 0) != (mode == MmuMode.HAP)) {
            throw new IllegalArgumentException("d" + id + " in " + mode + " mode with EPTP " + eptp);
        }
    }

    public Vcpu vcpu(int index) {
        Checks.inRange("vCPU index", index, 0, vcpus.size() - 1);
        return vcpus.get(index);
    }

    public Domain withVcpu(Vcpu v) {
        int i = v.id().vcpu();
        List<Vcpu> l;
        if (i == vcpus.size()) {
            l = new ArrayList<>(vcpus);
            l.add(v);
        } else if (vcpus.size() == 1 && i == 0) {
            l = List.of(v); // immutable already: the constructor keeps it without a copy
        } else if (vcpus.size() == 2 && (i == 0 || i == 1)) {
            l = i == 0 ? List.of(v, vcpus.get(1)) : List.of(vcpus.get(0), v);
        } else {
            l = new ArrayList<>(vcpus);
            l.set(i, v);
        }
        return new Domain(id, mode, p2m, l, eptp, hypercallPageInstalled, identity, devices);
    }

    public Domain withHypercallPageInstalled(boolean b) {
        return new Domain(id, mode, p2m, vcpus, eptp, b, identity, devices);
    }

    /** The same domain presenting {@code i} through CPUID, with the interfaces of its personality (BOOT-2). */
    public Domain withIdentity(CpuidIdentity i) {
        return new Domain(id, mode, p2m, vcpus, eptp, hypercallPageInstalled, i, devices);
    }

    /** The same domain with its emulated devices' registers {@code e} (docs/emulation.md). */
    public Domain withDevices(EmulatedDevices e) {
        return new Domain(id, mode, p2m, vcpus, eptp, hypercallPageInstalled, identity, e);
    }

    /** The machine frame of guest frame {@code gfn}: the p2m's entry, or -1 if the gfn is not the domain's RAM. */
    public long machineFrame(long gfn) {
        Long m = p2m.get(gfn);
        return m == null ? -1 : m;
    }
}
