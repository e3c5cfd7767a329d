package org.hybridv.xen;

import org.hybridv.x86.Checks;

/**
 * The state of one bound event-channel port of a domain (Xen {@code struct evtchn}, its {@code state} and the union
 * beside it; a port absent from {@link DomainPv#ports()} is {@code ECS_FREE}, port 0 is {@code ECS_RESERVED} and never
 * allocated). Every bound port names the vCPU it notifies ({@code notify_vcpu_id}).
 */
public sealed interface EventChannel {
    /** The vCPU (index in the port's domain) whose {@code vcpu_info} is marked when the port becomes pending. */
    int notifyVcpu();

    /** {@code ECS_UNBOUND}: allocated for {@code remoteDomain} to bind to ({@code EVTCHNOP_alloc_unbound}). */
    record Unbound(int remoteDomain, int notifyVcpu) implements EventChannel {
        public Unbound {
            Checks.inRange("remote domain", remoteDomain, 0, FrameInfo.MAX_DOMAIN);
        }
    }

    /** {@code ECS_INTERDOMAIN}: connected to {@code remotePort} of {@code remoteDomain}; a send makes that port pending. */
    record Interdomain(int remoteDomain, int remotePort, int notifyVcpu) implements EventChannel {
        public Interdomain {
            Checks.inRange("remote domain", remoteDomain, 0, FrameInfo.MAX_DOMAIN);
            Checks.inRange("remote port", remotePort, 1, SharedInfo.NR_EVENT_CHANNELS - 1);
        }
    }

    /** {@code ECS_VIRQ}: bound to virtual interrupt {@code virq} of vCPU {@code notifyVcpu} ({@code EVTCHNOP_bind_virq}). */
    record Virq(int virq, int notifyVcpu) implements EventChannel {
        public Virq {
            Checks.inRange("VIRQ", virq, 0, EventChannels.NR_VIRQS - 1);
        }
    }
}
