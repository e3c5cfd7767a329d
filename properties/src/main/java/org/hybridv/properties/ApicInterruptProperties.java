package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.EmulatedDevices;
import org.hybridv.xen.EventDelivery;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * The emulated local APIC timer's interrupt on its way into the guest and out again (Xen rules EMU-5, EMU-6): HAP
 * domain d2 of the hypervisor property's machine, with the KVM or the Xen personality, programs its x2APIC timer
 * (unmasked, one-shot or periodic, divide by 1, a small initial count) and, under KVM, may turn PV EOI on at a word of
 * its data page; then time passes, the guest sets and clears RFLAGS.IF, runs instructions (each run of a vCPU that is
 * not in non-root operation is a VM entry), writes the EOI register, and clears the PV EOI word through its own
 * mapping of that page.
 *
 * <p>The property keeps its own APIC: the current count, the vector requested (IRR), the vector in service (ISR),
 * whether the PV EOI word's bit 0 is the hypervisor's, and the counts of injections and EOIs — each changed only as
 * the rules say — and compares it after every step with the emulated APIC's registers, the guest's IF and the PV EOI
 * word in the domain's memory. The rules restated: the count reaching 0 requests the vector unless the LVT entry is
 * masked (SDM Vol. 3A §10.5.4); at a VM entry, first a PV EOI word whose bit 0 the guest cleared ends the vector in
 * service (KVM's {@code apic_sync_pv_eoi_from_guest}), then a requested vector is injected only with nothing in
 * service (§10.8.3.1) and IF = 1 (Vol. 3C §26.3.1.5), which the delivery clears (Vol. 3A §6.12.1.3), moving it from
 * requested to in service and, with PV EOI on, setting the word's bit 0 ({@code pv_eoi_set_pending}); an EOI write of
 * 0 ends the vector in service (§10.8.5) and voids a pending PV EOI.
 */
class ApicInterruptProperties {
    static final VcpuId V = HypervisorCases.H;
    static final int VECTOR = 0xEF;
    /** The quadword holding the PV EOI word: in gfn 4, which d2 maps at linear 0x4000. */
    static final long PV_EOI_QWORD = 0x4010;

    sealed interface Op {}

    /** Machine time passes by {@code ticks}. */
    record Advance(long ticks) implements Op {}

    /** STI ({@code true}) or CLI. */
    record SetIf(boolean enabled) implements Op {}

    /** vCPU 0 runs {@code insn} (a VM entry unless it is already in non-root operation). */
    record Run(GuestInstruction insn) implements Op {}

    /** {@code pvEoiHigh}: the PV EOI word is the high half of its quadword (its address 4 mod 8). */
    record Case(boolean kvm, boolean periodic, long initCount, boolean pvEoi, boolean pvEoiHigh, List<Op> ops) {}

    @Provide
    Arbitrary<Case> cases() {
        return JqwikChoices.arbitrary(c -> {
            boolean kvm = c.flag(true, 40);
            boolean periodic = c.flag(false, 40);
            long init = 1 + c.below(6);
            boolean pvEoi = kvm && c.flag(true, 30);
            boolean high = c.flag(false, 40);
            List<Op> ops = new ArrayList<>();
            int n = 4 + c.below(14);
            for (int i = 0; i < n; i++) {
                ops.add(switch (c.weighted(20, 25, 30, 12, 13)) {
                    case 0 -> new Advance(c.oneOf(1L, 2L, 3L, 8L));
                    case 1 -> new SetIf(c.flag(true, 25));
                    case 2 -> new Run(new GuestInstruction.Cpuid(0, 0));
                    case 3 -> new Run(new GuestInstruction.Wrmsr(0x80B, 0));
                    default -> new Run(new GuestInstruction.MemoryAccess(Access.write(PV_EOI_QWORD,
                            c.oneOf(0L, 2L, 0xFFFF_FFFE_0000_0000L))));
                });
            }
            return new Case(kvm, periodic, init, pvEoi, high, ops);
        });
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES / 2)
    void theTimerInterruptReachesTheGuestAndEndsAsEmu5AndEmu6Say(@ForAll("cases") Case k) {
        XenMachine m = HypervisorCases.initialMachine();
        if (k.kvm()) {
            m = m.withDomain(m.domain(2).withIdentity(CpuidIdentity.KVM));
        }
        long lvt = VECTOR | (k.periodic() ? 1L << 17 : 0);
        m = run(m, new GuestInstruction.Wrmsr(0x832, lvt));
        m = run(m, new GuestInstruction.Wrmsr(0x83E, 0xB)); // divide by 1 (SDM Figure 10-10)
        long pvEoiGpa = PV_EOI_QWORD + (k.pvEoiHigh() ? 4 : 0);
        int half = k.pvEoiHigh() ? 32 : 0; // the word's bit 0 is this bit of the quadword
        if (k.pvEoi()) {
            m = run(m, new GuestInstruction.Wrmsr(0x4b56_4d04L, pvEoiGpa | 1)); // MSR_KVM_PV_EOI_EN
        }
        m = run(m, new GuestInstruction.Wrmsr(0x838, k.initCount()));
        long mfn = m.domain(2).machineFrame(pvEoiGpa >>> 12);
        int word = (int) ((PV_EOI_QWORD & 0xFFF) >>> 3);
        // the property's APIC, from the rules
        long cur = k.initCount();
        boolean requested = false;
        int inService = 0;
        boolean pvPending = false;
        int injected = m.domain(2).devices().interrupt().injected();
        long eois = m.domain(2).devices().eois();
        boolean interruptFlag = m.pv().domain(2).vcpu(0).interruptFlag();
        int step = 0;
        for (Op op : k.ops()) {
            step++;
            String at = "step " + step + " " + op + " of " + k;
            if (op instanceof Advance a) {
                ApicTimerRule t = ApicTimerRule.after(cur, 0, k.initCount(), k.periodic(), 1, a.ticks());
                cur = t.count();
                if (t.expired()) {
                    requested = true; // the LVT entry is unmasked
                    Statistics.label("APIC").collect("expired");
                }
                m = VirtualTime.advanceTime(m, a.ticks());
            } else if (op instanceof SetIf s) {
                m = EventDelivery.setInterruptFlag(m, V, s.enabled()).machine();
                interruptFlag = s.enabled();
            } else {
                GuestInstruction insn = ((Run) op).insn();
                boolean entry = !m.running(V) && !m.vcpu(V).blocked();
                boolean injectedNow = false;
                if (entry) {
                    if (pvPending && ((m.memory().read(mfn, word) >>> half) & 1) == 0) {
                        inService = 0;
                        eois++;
                        pvPending = false;
                        Statistics.label("APIC").collect("ended by PV EOI");
                    }
                    if (requested && inService == 0 && interruptFlag) {
                        requested = false;
                        inService = VECTOR;
                        interruptFlag = false;
                        injected++;
                        pvPending = k.pvEoi();
                        injectedNow = true;
                        Statistics.label("APIC").collect(k.pvEoi() ? "injected, PV EOI armed" : "injected");
                    } else if (requested) {
                        Statistics.label("APIC").collect(inService != 0 ? "held: in service" : "held: IF = 0");
                    }
                }
                long wordBefore = m.memory().read(mfn, word);
                m = Hypervisor.run(m, V, insn).machine();
                if (insn instanceof GuestInstruction.Wrmsr) {
                    // the EOI register: a write of 0 ends the vector in service (SDM §10.8.5) and voids a pending PV
                    // EOI (EMU-6); EOIs are counted
                    Statistics.label("APIC").collect(inService != 0 ? "EOI ends the vector" : "EOI, nothing in service");
                    inService = 0;
                    pvPending = false;
                    eois++;
                } else if (insn instanceof GuestInstruction.MemoryAccess a) {
                    assertThat(m.memory().read(mfn, word)).as("the guest's store reaches the PV EOI word, " + at)
                            .isEqualTo(a.access().value());
                } else {
                    assertThat(m.memory().read(mfn, word)).as("the PV EOI word (bit 0 set at an injection), " + at)
                            .isEqualTo(injectedNow && k.pvEoi() ? wordBefore | (1L << half) : wordBefore);
                }
            }
            EmulatedDevices d = m.domain(2).devices();
            assertThat(d.curCount()).as("the current count, " + at).isEqualTo(cur);
            assertThat(d.interrupt().requested()).as("the vector requested (IRR), " + at).isEqualTo(requested);
            assertThat(d.interrupt().inService()).as("the vector in service (ISR), " + at).isEqualTo(inService);
            assertThat(d.interrupt().pvEoiPending()).as("PV EOI armed, " + at).isEqualTo(pvPending);
            assertThat(d.interrupt().injected()).as("injections, " + at).isEqualTo(injected);
            assertThat(d.eois()).as("EOIs, " + at).isEqualTo(eois);
            assertThat(m.pv().domain(2).vcpu(0).interruptFlag()).as("the guest's IF, " + at).isEqualTo(interruptFlag);
        }
        Statistics.label("APIC").coverage(cov -> {
            cov.check("injected").count(x -> x >= 30);
            cov.check("injected, PV EOI armed").count(x -> x >= 30);
            cov.check("ended by PV EOI").count(x -> x >= 10);
            cov.check("EOI ends the vector").count(x -> x >= 30);
            cov.check("held: in service").count(x -> x >= 10);
            cov.check("held: IF = 0").count(x -> x >= 10);
        });
    }

    private static XenMachine run(XenMachine m, GuestInstruction insn) {
        return Hypervisor.run(m, V, insn).machine();
    }
}
