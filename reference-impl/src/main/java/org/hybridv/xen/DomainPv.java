package org.hybridv.xen;

import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;

/**
 * A domain's para-virtual interface state besides memory (docs/pv-interfaces.md). What the guest reads — pending and
 * mask bits, {@code vcpu_info}, grant entries — is in its frames ({@link SharedInfo}, {@link GrantTables}); this is
 * what only the hypervisor holds.
 *
 * @param sharedInfo     the machine frame of its shared-info page ({@code XENMEM_add_to_physmap},
 *                       {@code XENMAPSPACE_shared_info}), or -1
 * @param grantTable     the machine frame of its grant table (v1, {@code XENMAPSPACE_grant_table} index 0), or -1
 * @param callbackVector the vector the hypervisor injects for an event upcall ({@code HVM_PARAM_CALLBACK_IRQ} of type
 *                       vector), 0 if not set (events are then not injected)
 * @param ports          its bound event-channel ports, by port number (absent: free)
 * @param vcpus          per vCPU index, the timer and interrupt state ({@link VcpuPv#INITIAL} if absent)
 * @param maptrack       its grant mappings of other domains' frames, by map handle
 */
public record DomainPv(long sharedInfo, long grantTable, int callbackVector, SortedMap<Integer, EventChannel> ports,
        SortedMap<Integer, VcpuPv> vcpus, SortedMap<Integer, GrantMapping> maptrack) {
    public static final DomainPv NONE = new DomainPv(-1, -1, 0, new TreeMap<>(), new TreeMap<>(), new TreeMap<>());

    public DomainPv {
        Checks.notNull("ports", ports);
        Checks.notNull("vCPUs", vcpus);
        Checks.notNull("maptrack", maptrack);
        Checks.inRange("callback vector", callbackVector, 0, 255);
        ports = FrozenSortedMap.of(ports);
        vcpus = FrozenSortedMap.of(vcpus);
        maptrack = FrozenSortedMap.of(maptrack);
    }

    public VcpuPv vcpu(int index) {
        return vcpus.getOrDefault(index, VcpuPv.INITIAL);
    }

    public DomainPv withSharedInfo(long mfn) {
        return new DomainPv(mfn, grantTable, callbackVector, ports, vcpus, maptrack);
    }

    public DomainPv withGrantTable(long mfn) {
        return new DomainPv(sharedInfo, mfn, callbackVector, ports, vcpus, maptrack);
    }

    public DomainPv withCallbackVector(int v) {
        return new DomainPv(sharedInfo, grantTable, v, ports, vcpus, maptrack);
    }

    /** This state with port {@code port} bound as {@code c}, or freed if {@code c} is null. */
    public DomainPv withPort(int port, EventChannel c) {
        TreeMap<Integer, EventChannel> p = new TreeMap<>(ports);
        if (c == null) {
            p.remove(port);
        } else {
            p.put(port, c);
        }
        return new DomainPv(sharedInfo, grantTable, callbackVector, p, vcpus, maptrack);
    }

    public DomainPv withVcpu(int index, VcpuPv v) {
        TreeMap<Integer, VcpuPv> m = new TreeMap<>(vcpus);
        if (v.equals(VcpuPv.INITIAL)) {
            m.remove(index);
        } else {
            m.put(index, v);
        }
        return new DomainPv(sharedInfo, grantTable, callbackVector, ports, m, maptrack);
    }

    /** This state with map handle {@code handle} holding {@code g}, or released if {@code g} is null. */
    public DomainPv withMapping(int handle, GrantMapping g) {
        TreeMap<Integer, GrantMapping> m = new TreeMap<>(maptrack);
        if (g == null) {
            m.remove(handle);
        } else {
            m.put(handle, g);
        }
        return new DomainPv(sharedInfo, grantTable, callbackVector, ports, vcpus, m);
    }
}
