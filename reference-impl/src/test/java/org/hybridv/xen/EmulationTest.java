package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.invariants.DeviceIsolation;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.vmx.GuestInstruction;
import org.junit.jupiter.api.Test;

/**
 * EMU-1..EMU-4 (docs/rules/xen.md, docs/emulation.md): the x2APIC range and every port exit in every domain type,
 * the emulated x2APIC timer and EOI (Intel SDM Vol. 3A §10.5.4, §10.12.1.2, Table 10-6) and the emulated UART; the
 * faults x2apic-msr-passthrough and io-port-range-not-intercepted caught by {@link DeviceIsolation}.
 */
class EmulationTest {
    /** A kernel booted to {@code to} in a domain of {@code mode} presenting {@code id}; its platform. */
    static XenPlatform booted(MmuMode mode, CpuidIdentity id, BootStage to, Faults faults) {
        Lockstep l = Lockstep.start(mode, 64, 64, faults, id).step(new GuestOp.Boot(to)).post();
        return (XenPlatform) l.guest().platform();
    }

    static List<XenPlatform> everyDomainType() {
        return List.of(booted(MmuMode.SHADOW, CpuidIdentity.XEN, BootStage.HYPERCALL_PAGE_INSTALLED, Faults.NONE),
                booted(MmuMode.HAP, CpuidIdentity.XEN, BootStage.HYPERCALL_PAGE_INSTALLED, Faults.NONE),
                booted(MmuMode.SHADOW, CpuidIdentity.XEN, BootStage.DIRECT, Faults.NONE),
                booted(MmuMode.HAP, CpuidIdentity.KVM, BootStage.DIRECT, Faults.NONE));
    }

    static Executed run(XenPlatform p, GuestInstruction i) {
        return p.execute(i);
    }

    static GuestInstruction out(int port, long value) {
        return new GuestInstruction.Io(port, 1, false, false, false, false, value);
    }

    static GuestInstruction in(int port) {
        return new GuestInstruction.Io(port, 1, true, false, false, false, 0);
    }

    @Test
    void everyDomainTypeInterceptsTheX2ApicRangeAndEveryPort() {
        for (XenPlatform p : everyDomainType()) {
            assertThat(DeviceIsolation.check(p.machine())).as(p.name()).isEqualTo(InvariantResult.HOLDS);
            for (GuestInstruction i : List.of(new GuestInstruction.Rdmsr(0x800), new GuestInstruction.Wrmsr(0x8FF, 0),
                    new GuestInstruction.Wrmsr(0x80B, 0), in(0x20), out(0x43, 0x34), in(0x3FD), out(0x80, 0))) {
                Executed e = run(p, i);
                assertThat(e.exits().total()).as("%s on %s", i, p.name()).isEqualTo(1);
                assertThat(DeviceIsolation.checkAccess(i, e.exits().total())).isEqualTo(InvariantResult.HOLDS);
            }
            // EFER (C0000080H) is the guest's: it passes through (SDM Vol. 3C §25.1.3, bit clear)
            assertThat(run(p, new GuestInstruction.Rdmsr(0xC000_0080L)).exits().total()).isZero();
        }
    }

    @Test
    void theX2ApicTimerRegistersAndEoiAreEmulated() {
        for (XenPlatform p0 : everyDomainType()) {
            XenPlatform p = p0;
            // LVT timer: vector 0xEC, one-shot, unmasked; bits outside vector/mask/mode are dropped
            p = (XenPlatform) run(p, new GuestInstruction.Wrmsr(0x832, 0xEC | (1L << 20))).platform();
            assertThat(run(p, new GuestInstruction.Rdmsr(0x832)).observed()).isEqualTo(new Observed.Value(0xEC));
            p = (XenPlatform) run(p, new GuestInstruction.Wrmsr(0x83E, 0xF)).platform();
            assertThat(run(p, new GuestInstruction.Rdmsr(0x83E)).observed()).isEqualTo(new Observed.Value(0xB));
            p = (XenPlatform) run(p, new GuestInstruction.Wrmsr(0x838, 100_000)).platform();
            assertThat(run(p, new GuestInstruction.Rdmsr(0x839)).observed()).isEqualTo(new Observed.Value(100_000));
            // current count is read-only; EOI is write-only and takes only 0 (SDM Vol. 3A §10.12.1.2)
            assertThat(run(p, new GuestInstruction.Wrmsr(0x839, 1)).observed()).isEqualTo(new Observed.Fault(13, 0, 0));
            assertThat(run(p, new GuestInstruction.Rdmsr(0x80B)).observed()).isEqualTo(new Observed.Fault(13, 0, 0));
            assertThat(run(p, new GuestInstruction.Wrmsr(0x80B, 1)).observed()).isEqualTo(new Observed.Fault(13, 0, 0));
            Executed eoi = run(p, new GuestInstruction.Wrmsr(0x80B, 0));
            assertThat(eoi.observed()).isEqualTo(new Observed.Value(0));
            XenPlatform after = (XenPlatform) eoi.platform();
            assertThat(after.machine().domain(1).devices().eois()).isEqualTo(1);
        }
    }

    @Test
    void theEmulatedTimerCarriesClocksShortOfADivideValueAndCountsOnAfterAPeriodicReload() {
        // SDM Vol. 3A §10.5.4 (EMU-5): one decrement per divide value of bus clocks, whatever the steps of time
        XenMachine m = everyDomainType().get(1).machine();
        Domain d = m.domain(1);
        m = m.withDomain(d.withDevices(d.devices().withLvtTimer(0x40).withDivConf(0b1010).withInitCount(2)));
        XenMachine t = X2ApicEmulation.countDown(m, 100);
        assertThat(t.domain(1).devices().curCount()).as("100 of 128 clocks: no decrement yet").isEqualTo(2);
        t = X2ApicEmulation.countDown(t, 100);
        assertThat(t.domain(1).devices().curCount()).as("200 clocks: one decrement").isEqualTo(1);
        assertThat(t.domain(1).devices().timerPhase()).as("72 clocks toward the next").isEqualTo(72);
        t = X2ApicEmulation.countDown(X2ApicEmulation.countDown(t, 100), 100);
        assertThat(t.domain(1).devices().interrupt().requested()).as("400 clocks > 2 x 128: expired").isTrue();
        // periodic, divide by 1, initial count 4: 10 clocks expire it twice and leave 2 of the third period
        XenMachine p = m.withDomain(d.withDevices(d.devices().withLvtTimer(0x40 | (1L << 17)).withDivConf(0b1011)
                .withInitCount(4)));
        p = X2ApicEmulation.countDown(p, 10);
        assertThat(p.domain(1).devices().curCount()).isEqualTo(2);
        assertThat(p.domain(1).devices().interrupt().requested()).isTrue();
    }

    @Test
    void theUartIsADataCommandStatusTriple() {
        XenPlatform p = everyDomainType().get(1);
        assertThat(run(p, in(0x3FD)).observed()).isEqualTo(new Observed.Value(0x60));
        p = (XenPlatform) run(p, out(0x3F8, 'h')).platform();
        p = (XenPlatform) run(p, out(0x3F8, 'i')).platform();
        p = (XenPlatform) run(p, out(0x3FB, 0x83)).platform();
        assertThat(run(p, in(0x3FB)).observed()).isEqualTo(new Observed.Value(0x83));
        assertThat(run(p, in(0x3F8)).observed()).isEqualTo(new Observed.Value(0));
        assertThat(p.machine().domain(1).devices().uartTx()).isEqualTo(2);
    }

    @Test
    void x2ApicMsrPassthroughIsCaught() {
        XenPlatform p = booted(MmuMode.HAP, CpuidIdentity.XEN, BootStage.HYPERCALL_PAGE_INSTALLED,
                Faults.of(Fault.X2APIC_MSR_PASSTHROUGH));
        assertThat(DeviceIsolation.check(p.machine()).toString()).startsWith("EMU-1").contains("808");
        GuestInstruction eoi = new GuestInstruction.Wrmsr(0x80B, 0);
        Executed e = run(p, eoi);
        assertThat(e.exits().total()).isZero();
        assertThat(DeviceIsolation.checkAccess(eoi, 0).toString()).startsWith("EMU-1");
    }

    @Test
    void ioPortRangeNotInterceptedIsCaught() {
        XenPlatform p = booted(MmuMode.SHADOW, CpuidIdentity.XEN, BootStage.HYPERCALL_PAGE_INSTALLED,
                Faults.of(Fault.IO_PORT_RANGE_NOT_INTERCEPTED));
        assertThat(DeviceIsolation.check(p.machine()).toString()).startsWith("EMU-2").contains("3f8");
        GuestInstruction o = out(0x3F8, 'x');
        assertThat(run(p, o).exits().total()).isZero();
        assertThat(DeviceIsolation.checkAccess(o, 0).toString()).startsWith("EMU-2");
    }

    /**
     * EMU-7: a doubleword IN that starts at byte 510 of the sector read (after 255 word INs) gets the sector's last two
     * bytes and 0 above them, and ends the transfer; it used to index past the sector's buffer (found by
     * {@code DeviceEmulationProperties}).
     */
    @Test
    void aDataReadStraddlingTheSectorsEndReadsZeroPastIt() {
        AtaDisk d = AtaDisk.RESET;
        for (int[] w : new int[][] {{0x1F2, 1}, {0x1F3, 3}, {0x1F4, 0}, {0x1F5, 0}, {0x1F6, 0xE0}, {0x1F7, 0x20}}) {
            d = d.io(new GuestInstruction.Io(w[0], 1, false, false, false, false, w[1])).disk();
        }
        for (int k = 0; k < 255; k++) {
            d = d.io(new GuestInstruction.Io(0x1F0, 2, true, false, false, false, 0)).disk();
        }
        AtaDisk.Access last = d.io(new GuestInstruction.Io(0x1F0, 4, true, false, false, false, 0));
        // the shipped sector 3's word 63 is 5EC7_0000_0003_003FH: bytes 510 and 511 are C7H, 5EH
        assertThat(last.value()).isEqualTo(0x5EC7);
        assertThat(last.disk().status()).isEqualTo(AtaDisk.DRDY);
    }

    /**
     * BOOT-7, EMU-6 (KVM {@code kvm_lapic_set_pv_eoi}): MSR_KVM_PV_EOI_EN with bit 0 clear turns PV EOI off (the
     * address is forgotten), and with bit 0 set at an address outside the domain's RAM is #GP(0); the model used to
     * keep the old address on the first and accept the second (found by {@code DeviceEmulationProperties}).
     */
    @Test
    void pvEoiOffForgetsTheAddressAndAnAddressOutsideRamIsRefused() {
        XenPlatform p = everyDomainType().get(3);
        assertThat(p.machine().domain(1).devices().interrupt().pvEoi()).as("the KVM kernel enabled PV EOI")
                .isNotNegative();
        Executed off = run(p, new GuestInstruction.Wrmsr(KvmMsrs.MSR_KVM_PV_EOI_EN, 0));
        assertThat(off.observed()).isEqualTo(new Observed.Value(0));
        assertThat(((XenPlatform) off.platform()).machine().domain(1).devices().interrupt().pvEoi()).isEqualTo(-1);
        Executed outside = run(p, new GuestInstruction.Wrmsr(KvmMsrs.MSR_KVM_PV_EOI_EN, (0x7FFFFL << 12) | 1));
        assertThat(outside.observed()).isEqualTo(new Observed.Fault(13, 0, 0));
    }
}
