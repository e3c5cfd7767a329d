package org.hybridv.scenario.hybrid;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelState;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Loader;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Binder;
import org.hybridv.scenario.JsonValue;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * The {@code kernel} section of {@code machine} (docs/scenario-format.md, "Hybrid kernel"): a kernel at reset under
 * the hypervisor in shadow or HAP mode, or on bare metal, with its native twin; or ({@code domain}) the kernel of a
 * domain the {@code hypervisor} section built with {@code "kernel": {"vpid": n}}.
 *
 * @param platform  shadow, hap (SWITCH_MMU is refused: PRE-1) or native
 * @param frames    the kernel's frames (default 64); the top {@value Layout#SWITCH_RESERVE} are SWITCH_MMU's reserve
 * @param xenFrames free frames for shadow tables and the EPT (default 64)
 * @param domain    instead of the three above: the hypervisor section's domain that runs the kernel
 * @param cpus      the kernel's processors (default 1); 2: the SMP kernel, two vCPUs on two pCPUs and a twin on two
 *                  processors (docs/smp.md, "The SMP hybrid kernel")
 * @param cpuid     what the hypervisor presents through CPUID (default: Xen at 0x40000000)
 * @param blockBackEnd the machine also runs the block back-end domain d0, which the xenstore names as the kernel's
 *                     virtual disk's back-end (docs/pv-interfaces.md, "The split block driver"); one-CPU kernels under
 *                     the hypervisor only
 */
public record KernelSection(Platform platform,
        @Dec(min = Layout.MIN_FRAMES, max = Layout.MAX_FRAMES - 1, why = "the direct map is one page table: "
                + Layout.MIN_FRAMES + ".." + (Layout.MAX_FRAMES - 1) + " frames") Integer frames,
        @Dec(min = 8, max = 4096, why = "frames for shadow tables and the EPT: 8..4096") Integer xenFrames,
        @Dec(max = FrameInfo.MAX_DOMAIN, why = "domain ids") Integer domain,
        @Dec(min = 1, max = Loader.MAX_CPUS, why = "the kernel's processors: 1 or " + Loader.MAX_CPUS) Integer cpus,
        CpuidSection cpuid, Boolean blockBackEnd) {
    public KernelSection {
        if (Boolean.TRUE.equals(blockBackEnd) && (platform == Platform.NATIVE || domain != null
                || cpus != null && cpus != 1)) {
            throw Bad.at("blockBackEnd", "the block back-end runs beside a one-CPU kernel under the hypervisor"
                    + " (platform shadow or hap, no \"domain\", one CPU)");
        }
        if (cpuid != null && platform != Platform.SHADOW && platform != Platform.HAP) {
            throw Bad.at("cpuid", "only a kernel under the hypervisor (platform shadow or hap) has a CPUID identity");
        }
        if (cpuid != null && cpuid.hypervisor() == CpuidSection.Hypervisor.KVM && platform != Platform.HAP) {
            throw Bad.at("cpuid", "a KVM hypervisor runs its guests in HAP mode only (platform hap)");
        }
        if (domain != null) {
            Bad.absent("a kernel section with \"domain\" (the hypervisor section builds the kernel's domain)",
                    List.of("platform", "frames", "xenFrames", "cpus", "cpuid"), platform, frames, xenFrames, cpus,
                    cpuid);
        } else {
            Bad.required(platform, "platform", "kernel");
            if (platform == Platform.NATIVE && xenFrames != null) {
                throw Bad.at("xenFrames", "a native kernel has no hypervisor");
            }
        }
    }

    /** Where the kernel runs. */
    public enum Platform {
        @JsonProperty("native") NATIVE,
        @JsonProperty("shadow") SHADOW,
        @JsonProperty("hap") HAP
    }

    /** The built section: the lockstep pair, and whether its machine is the hypervisor section's. */
    record Built(Lockstep lockstep, boolean shared) {}

    /** The section's kernel and twin; the hypervisor carries the scenario's seeded faults. */
    static Built build(JsonValue value, MachineSpec base) {
        KernelSection k = Binder.bind(value, KernelSection.class, base, "kernel");
        if (k == null) {
            throw value.error("expected an object, found null");
        }
        if (k.domain() != null) {
            return k.inHypervisor(value.field("domain"), base);
        }
        int frames = k.frames() == null ? 64 : k.frames();
        int cpus = k.cpus() == null ? 1 : k.cpus();
        if (k.platform() == Platform.NATIVE) {
            return new Built(new Lockstep(Loader.onBareMetal(frames, cpus), Loader.onBareMetal(frames, cpus), false),
                    false);
        }
        if (Boolean.TRUE.equals(k.blockBackEnd())) {
            return new Built(Lockstep.startWithBlockBackEnd(k.platform() == Platform.HAP ? MmuMode.HAP
                    : MmuMode.SHADOW, frames, k.xenFrames() == null ? 64 : k.xenFrames(), base.faults(),
                    k.cpuid() == null ? CpuidIdentity.XEN : k.cpuid().identity()), false);
        }
        return new Built(Lockstep.start(k.platform() == Platform.HAP ? MmuMode.HAP : MmuMode.SHADOW, frames,
                k.xenFrames() == null ? 64 : k.xenFrames(), base.faults(), cpus, k.cpuid() == null
                        ? CpuidIdentity.XEN : k.cpuid().identity()), false);
    }

    /** The kernel runs in domain {@code domain} of the hypervisor section; its twin on bare metal, as many frames. */
    private Built inHypervisor(JsonValue at, MachineSpec base) {
        XenMachine m = base.section(XenModule.SECTION, XenMachine.class).orElseThrow(() -> at.error("\"domain\""
                + " names a domain of the hypervisor section, and there is none"));
        if (!m.domains().containsKey(domain) || m.domain(domain).vcpus().size() != 1
                || m.domain(domain).vcpu(0).vmcs().guest().cpu().cr0().pe()) {
            throw at.error("d" + domain + " is not a kernel domain of the hypervisor section (build it with"
                    + " \"kernel\": {\"vpid\": n})");
        }
        int frames = m.domain(domain).p2m().size();
        GuestSystem guest = new GuestSystem(KernelState.initial(frames), new XenPlatform(m, new VcpuId(domain, 0)));
        return new Built(new Lockstep(guest, Loader.onBareMetal(frames), false), true);
    }
}
