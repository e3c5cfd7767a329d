package org.hybridv.xen;

import org.hybridv.x86.Checks;

/** A vCPU of a domain: the holder of a {@code guest_table} (MX-3). */
public record VcpuId(int domain, int vcpu) implements Comparable<VcpuId> {
    public VcpuId {
        Checks.inRange("domain", domain, 0, FrameInfo.MAX_DOMAIN);
        Checks.inRange("vcpu", vcpu, 0, 4095);
    }

    @Override
    public int compareTo(VcpuId o) {
        return domain != o.domain ? Integer.compare(domain, o.domain) : Integer.compare(vcpu, o.vcpu);
    }

    @Override
    public String toString() {
        return "d" + domain + "v" + vcpu;
    }
}
