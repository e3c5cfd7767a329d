package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.x86.CpuState;
import org.hybridv.xen.Domain;
import org.hybridv.xen.Domains;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * A vCPU created while the machine runs (the toolstack's {@code Domains.addVcpu}), judged by the rules restated here
 * over raw state: CTL-5 (every vCPU its own VPID, 1..FFFFH, never the host's 0 and never one another vCPU of any
 * domain holds), MISC-1 (CR0.WP forced in direct and shadow mode), SH-1 (a shadow-mode vCPU's hardware CR3 names a
 * hypervisor-owned shadow root taken from the free frames, the guest's CR3 kept aside) and MX-3 (a direct-mode vCPU's
 * {@code guest_table} is the L4 its CR3 names).
 *
 * <p>The machine is {@link HypervisorCases}' (d1 direct, d2 HAP, d3 shadow, two vCPUs each). A run asks for 1..4 new
 * vCPUs of d1, d2 or d3, each with a VPID drawn from 0, −1, 0x10000, 0xFFFF, one of a vCPU of the same or another
 * domain, and fresh ones, and with the guest state of the domain's first vCPU (its CR3, CPL 0 or 3, CR0.WP as it is
 * or cleared). For each request: refused with -EINVAL exactly when CTL-5 forbids the VPID; accepted, the domain has
 * one vCPU more, at the next index, with the VPID in its VMCS and VPID enabled, the guest's CR0.WP forced to 1 in
 * direct and shadow mode and kept in HAP mode, its CR3 as the mode says, every other vCPU and domain unchanged, and
 * every VPID of the machine still distinct and non-zero.
 */
class NewVcpuProperties {
    /** The largest VPID (SDM Vol. 3C §25.6.12: a 16-bit field). */
    private static final int MAX_VPID = 0xFFFF;

    /** One request: the domain (1..3), a VPID choice, whether the guest runs at CPL 3, whether CR0.WP is cleared. */
    record Op(int domain, int vpid, boolean user, boolean wpClear) {}

    @Provide
    Arbitrary<List<Op>> runs() {
        return Combinators.combine(Arbitraries.integers().between(1, 3), Arbitraries.integers().between(0, 1 << 16)
                .withDistribution(net.jqwik.api.RandomDistribution.uniform()),
                Arbitraries.of(false, true), Arbitraries.of(false, true)).as(Op::new).list().ofMinSize(1)
                .ofMaxSize(4);
    }

    @Property(seed = Budget.SEED, tries = 150, edgeCases = EdgeCasesMode.NONE)
    void everyNewVcpuIsCreatedAsItsRulesSay(@ForAll("runs") List<Op> run) {
        XenMachine m = HypervisorCases.initialMachine(Faults.NONE, 1);
        for (Op op : run) {
            m = request(m, op);
        }
        Statistics.label("new vCPU").coverage(k -> {
            for (String s : new String[] {"direct accepted", "HAP accepted", "shadow accepted", "VPID 0",
                "VPID negative", "VPID above FFFFH", "VPID of the same domain", "VPID of another domain"}) {
                k.check(s).count(n -> n > 0);
            }
        });
    }

    /** Every VPID the machine's vCPUs hold, with the vCPU holding it. */
    private static List<Integer> vpids(XenMachine m) {
        List<Integer> out = new ArrayList<>();
        for (Domain d : m.domains().values()) {
            for (Vcpu v : d.vcpus()) {
                out.add(v.vmcs().controls().vpid());
            }
        }
        return out;
    }

    private static XenMachine request(XenMachine m, Op op) {
        int d = op.domain();
        Domain dom = m.domain(d);
        int other = d == 1 ? 2 : 1;
        int sameDomains = dom.vcpus().get(0).vmcs().controls().vpid();
        int otherDomains = m.domain(other).vcpus().get(0).vmcs().controls().vpid();
        int fresh = vpids(m).stream().mapToInt(Integer::intValue).max().orElse(0) + 1 + op.vpid() % 7;
        int[] choices = {0, -1, MAX_VPID + 1, MAX_VPID, sameDomains, otherDomains, fresh, fresh, fresh};
        int vpid = choices[Math.floorMod(op.vpid(), choices.length)];
        CpuState first = dom.vcpus().get(0).vmcs().guest().cpu();
        CpuState guest = first.withCpl(op.user() ? 3 : 0);
        if (op.wpClear()) {
            guest = guest.withCr0(guest.cr0().withWp(false));
        }
        // CTL-5, restated: 1..FFFFH and held by no vCPU of any domain
        String why = vpid == 0 ? "VPID 0" : vpid < 0 ? "VPID negative" : vpid > MAX_VPID ? "VPID above FFFFH"
                : dom.vcpus().stream().anyMatch(v -> v.vmcs().controls().vpid() == vpid) ? "VPID of the same domain"
                : vpids(m).contains(vpid) ? "VPID of another domain" : null;
        HvResult r = Domains.addVcpu(m, d, vpid, guest);
        String what = "d" + d + " asks for a vCPU with VPID " + vpid + " (CPL " + guest.cpl() + ", CR0.WP "
                + guest.cr0().wp() + ")";
        if (why != null) {
            Statistics.label("new vCPU").collect(why);
            assertThat(r).as("%s: refused (CTL-5: %s)", what, why).isInstanceOf(HvResult.Refused.class);
            assertThat(((HvResult.Refused) r).errno().value()).as("%s: errno", what).isEqualTo(22);
            return m;
        }
        Statistics.label("new vCPU").collect(dom.mode() == MmuMode.DIRECT ? "direct accepted"
                : dom.mode() == MmuMode.HAP ? "HAP accepted" : "shadow accepted");
        assertThat(r).as("%s: accepted", what).isInstanceOf(HvResult.Done.class);
        XenMachine post = ((HvResult.Done) r).machine();
        Domain after = post.domain(d);
        assertThat(after.vcpus()).as("%s: one vCPU more", what).hasSize(dom.vcpus().size() + 1);
        assertThat(after.vcpus().subList(0, dom.vcpus().size())).as("%s: the others unchanged", what)
                .isEqualTo(dom.vcpus());
        Vcpu v = after.vcpus().get(dom.vcpus().size());
        assertThat(v.id()).as("%s: the next index", what).isEqualTo(new VcpuId(d, dom.vcpus().size()));
        assertThat(v.vmcs().controls().vpid()).as("%s: its VMCS's VPID (CTL-5)", what).isEqualTo(vpid);
        assertThat(v.vmcs().controls().secondary().enableVpid()).as("%s: enable VPID", what).isTrue();
        CpuState got = v.vmcs().guest().cpu();
        assertThat(got.cpl()).as("%s: CPL", what).isEqualTo(guest.cpl());
        assertThat(got.cr0().wp()).as("%s: CR0.WP (MISC-1: forced in direct and shadow mode)", what)
                .isEqualTo(dom.mode() == MmuMode.HAP ? guest.cr0().wp() : true);
        switch (dom.mode()) {
            case SHADOW -> {
                long root = got.cr3().pml4Frame();
                assertThat(m.frames().get(root)).as("%s: the shadow root %#x was free (SH-1)", what, root)
                        .isEqualTo(FrameInfo.UNUSED);
                assertThat(post.frames().get(root).owner()).as("%s: the shadow root is the hypervisor's (SH-1)",
                        what).isEqualTo(FrameInfo.XEN);
                assertThat(v.shadow().root()).as("%s: the shadow state names the root", what).isEqualTo(root);
                assertThat(v.shadow().guestCr3()).as("%s: the guest's CR3 kept aside (SH-1)", what)
                        .isEqualTo(guest.cr3().bits());
            }
            case DIRECT -> {
                assertThat(got.cr3()).as("%s: the guest's CR3", what).isEqualTo(guest.cr3());
                assertThat(post.guestTables().get(v.id())).as("%s: guest_table (MX-3)", what)
                        .isEqualTo(guest.cr3().pml4Frame());
            }
            default -> assertThat(got.cr3()).as("%s: the guest's CR3", what).isEqualTo(guest.cr3());
        }
        for (int x : m.domains().keySet()) {
            if (x != d) {
                assertThat(post.domain(x)).as("%s: d%d unchanged", what, x).isEqualTo(m.domain(x));
            }
        }
        List<Integer> all = vpids(post);
        Set<Integer> distinct = new HashSet<>(all);
        assertThat(distinct).as("%s: every VPID distinct (CTL-5)", what).hasSameSizeAs(all).doesNotContain(0);
        return post;
    }
}
