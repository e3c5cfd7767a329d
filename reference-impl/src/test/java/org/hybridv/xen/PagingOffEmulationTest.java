package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.done;

import java.util.Map;
import java.util.TreeMap;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.VmxMode;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.GeneralProtection;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Booting from real mode under VMX without unrestricted guest (BOOT-1): the vCPU is not entered while
 * CR0.PG = 0; the SDM 9.8.5 sequence (PE, CR4.PAE, CR3, EFER.LME, PG) is emulated one exit per instruction, and the
 * first instruction with paging on runs in the guest.
 *
 * <p>The machine: 64 frames, Xen owns 0x1–0xf. d1 DIRECT owns 0x10–0x1f (identity): L4 0x10 → 0x11 → 0x12 → L1 0x13,
 * the L1 maps 0x14 RW at VA 0x5000. d2 HAP owns 0x20–0x27 with p2m g → 0x20 + g, d3 SHADOW owns 0x28–0x33 with p2m
 * g → 0x28 + g; each has guest tables gfn 0 → 1 → 2 → 3 and gfn 4 RW at VA 0x5000. One vCPU each, in the reset
 * state (CR0 = 0), VPIDs 1, 2, 3; the EPT and the shadow root take free frames (0x0, 0x34 …).
 */
class PagingOffEmulationTest {
    static final VcpuId DIRECT = new VcpuId(1, 0);
    static final VcpuId HAP = new VcpuId(2, 0);
    static final VcpuId SHADOW = new VcpuId(3, 0);
    static final int MAXPHY = XenMachine.MAX_PHYS_ADDR;
    static final long PE = 1;
    static final long PG = 1L << 31;
    static final long PAE = 1L << 5;
    static final long LME = 1L << 8;

    static Entry rw(long f) {
        return Entry.table(f, true, false);
    }

    static XenMachine machine() {
        XenMachine m = XenMachine.boot(64, Domains.range(0x1, 0xf));
        long[] f1 = Domains.range(0x10, 0x1f);
        m = done(Domains.create(m, 1, MmuMode.DIRECT, f1, Domains.identity(f1)));
        m = m.withPaging(m.paging().write(0x10, 0, rw(0x11)).write(0x11, 0, rw(0x12)).write(0x12, 0, rw(0x13))
                .write(0x13, 5, rw(0x14)));
        for (int d = 3; d >= 2; d--) { // shadow first: the HAP domain's EPT takes free frames
            long base = d == 2 ? 0x20 : 0x28;
            long n = d == 2 ? 8 : 12;
            Map<Long, Long> p2m = new TreeMap<>();
            for (long g = 0; g < n; g++) {
                p2m.put(g, base + g);
            }
            m = done(Domains.create(m, d, d == 2 ? MmuMode.HAP : MmuMode.SHADOW, Domains.range(base, base + n - 1),
                    p2m));
            m = m.withPaging(m.paging().write(base, 0, rw(1)).write(base + 1, 0, rw(2)).write(base + 2, 0, rw(3))
                    .write(base + 3, 5, rw(4)));
        }
        for (int d = 1; d <= 3; d++) {
            m = done(Domains.addVcpu(m, d, d, CpuState.reset(MAXPHY)));
        }
        return m;
    }

    /** One emulated instruction: one VM exit, the vCPU never entered (the processor stays in root operation), I7. */
    static HvStep emulated(XenMachine m, VcpuId v, GuestInstruction insn, Hypercall regs) {
        HvStep st = Hypervisor.run(m, v, insn, regs);
        assertThat(st.vmExits()).as(st.outcome().toString()).isEqualTo(1);
        assertThat(st.machine().processor().mode()).isEqualTo(VmxMode.ROOT);
        assertThat(ExitCorrectness.check(m, v, insn, st).toString()).isEqualTo("holds");
        assertInvariants(st.machine());
        return st;
    }

    static HvStep emulated(XenMachine m, VcpuId v, GuestInstruction insn) {
        return emulated(m, v, insn, Hypercall.of(0));
    }

    static void assertInvariants(XenMachine m) {
        assertThat(Isolation.check(m).toString()).isEqualTo("holds");
        assertThat(TranslationIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(ShadowIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
    }

    static GuestInstruction cr(int n, long value) {
        return new GuestInstruction.MovToCr(n, value, 0);
    }

    static GuestInstruction efer(long value) {
        return new GuestInstruction.Wrmsr(Efer.MSR_INDEX, value);
    }

    /** SDM 9.8.5 from reset: PE; CR4.PAE; CR3; EFER.LME; PG. Each step resumes the guest. */
    static XenMachine boot(XenMachine m, VcpuId v, long cr3) {
        for (GuestInstruction insn : new GuestInstruction[] {cr(0, PE), cr(4, PAE), cr(3, cr3), efer(LME)}) {
            HvStep st = emulated(m, v, insn);
            assertThat(st.outcome()).as(insn + " → " + st.outcome()).isInstanceOf(VcpuOutcome.Resumed.class);
            m = st.machine();
        }
        CpuState protectedMode = m.vcpu(v).vmcs().guest().cpu();
        assertThat(protectedMode.cr0().pe()).isTrue();
        assertThat(protectedMode.cr0().pg()).isFalse();
        assertThat(protectedMode.efer().lme()).isTrue();
        assertThat(protectedMode.ia32eMode()).as("LMA = 0 until PG").isFalse();
        HvStep on = emulated(m, v, cr(0, PE | PG));
        assertThat(on.outcome()).as(on.outcome().toString()).isInstanceOf(VcpuOutcome.Resumed.class);
        m = on.machine();
        CpuState longMode = m.vcpu(v).vmcs().guest().cpu();
        assertThat(longMode.cr0().pg()).isTrue();
        assertThat(longMode.ia32eMode()).as("EFER.LMA = 1").isTrue();
        assertThat(longMode.cr4().pae()).isTrue();
        return m;
    }

    /** The first access with paging on: the vCPU is entered (VM entry passes) and the read completes. */
    static HvStep firstAccess(XenMachine m, VcpuId v) {
        GuestInstruction read = new GuestInstruction.MemoryAccess(Access.read(0x5000));
        HvStep st = Hypervisor.run(m, v, read);
        assertThat(st.outcome()).as(st.outcome().toString()).isInstanceOf(VcpuOutcome.Retired.class);
        assertThat(ExitCorrectness.check(m, v, read, st).toString()).isEqualTo("holds");
        assertInvariants(st.machine());
        return st;
    }

    @Test
    @DisplayName("Shadow: REAL → PROTECTED → LONG emulated; guest CR3 kept in ShadowState, hardware on the shadow root with PE = PG = WP = 1")
    void shadowBoot() {
        XenMachine m = boot(machine(), SHADOW, 0);
        Vcpu v = m.vcpu(SHADOW);
        CpuState hw = v.vmcs().guest().cpu();
        assertThat(hw.cr3().pml4Frame()).isEqualTo(v.shadow().root());
        assertThat(v.shadow().guestCr3()).isEqualTo(0);
        assertThat(hw.cr0().pe() && hw.cr0().pg() && hw.cr0().wp()).isTrue();
        assertThat(ShadowPaging.guestCpu(v).cr0().wp()).as("the guest's WP (read shadow)").isFalse();
        HvStep st = firstAccess(m, SHADOW);
        assertThat(st.vmExits()).as("shadow fills").isGreaterThanOrEqualTo(1);
    }

    @Test
    @DisplayName("Direct: paging on validates CR3 as MX-3 (guest_table taken); the first access runs without an exit")
    void directBoot() {
        XenMachine m = boot(machine(), DIRECT, 0x10L << 12);
        assertThat(m.guestTables().get(DIRECT)).isEqualTo(0x10L);
        FrameInfo l4 = m.frames().get(0x10);
        assertThat(l4.type()).isEqualTo(PageType.L4);
        assertThat(l4.validated()).isTrue();
        assertThat(m.vcpu(DIRECT).vmcs().guest().cpu().cr0().wp()).as("MISC-1").isTrue();
        assertThat(firstAccess(m, DIRECT).vmExits()).isZero();
    }

    @Test
    @DisplayName("Direct: paging on with a CR3 that does not validate (a foreign frame) → #GP injected, nothing changed")
    void directBadRoot() {
        XenMachine m = machine();
        for (GuestInstruction insn : new GuestInstruction[] {cr(0, PE), cr(4, PAE), cr(3, 0x20L << 12), efer(LME)}) {
            m = emulated(m, DIRECT, insn).machine();
        }
        HvStep st = emulated(m, DIRECT, cr(0, PE | PG));
        VcpuOutcome.Injected gp = (VcpuOutcome.Injected) st.outcome();
        assertThat(gp.vector()).isEqualTo(GeneralProtection.VECTOR);
        assertThat(st.machine().vcpu(DIRECT).vmcs().guest()).isEqualTo(m.vcpu(DIRECT).vmcs().guest());
        assertThat(st.machine().frames()).isEqualTo(m.frames());
        assertThat(st.machine().guestTables()).isEqualTo(m.guestTables());
    }

    @Test
    @DisplayName("HAP: CR3 loaded as is; the first access runs through the EPT without an exit")
    void hapBoot() {
        XenMachine m = boot(machine(), HAP, 0);
        assertThat(m.vcpu(HAP).vmcs().guest().cpu().cr3().pml4Base()).isZero();
        assertThat(m.vcpu(HAP).vmcs().guest().cpu().cr0().wp()).as("HAP owns no CR0 bit").isFalse();
        assertThat(firstAccess(m, HAP).vmExits()).isZero();
    }

    @Test
    @DisplayName("SDM 9.8.5: MOV to CR0 setting PG with EFER.LME = 1 and CR4.PAE = 0 → #GP(0) injected, in every mode")
    void pagingWithoutPae() {
        for (VcpuId v : new VcpuId[] {SHADOW, DIRECT, HAP}) {
            XenMachine m = machine();
            for (GuestInstruction insn : new GuestInstruction[] {cr(0, PE), cr(3, 0), efer(LME)}) {
                m = emulated(m, v, insn).machine();
            }
            HvStep st = emulated(m, v, cr(0, PE | PG));
            VcpuOutcome.Injected gp = (VcpuOutcome.Injected) st.outcome();
            assertThat(gp.vector()).isEqualTo(GeneralProtection.VECTOR);
            assertThat(gp.errorCode()).isZero();
            assertThat(gp.reason()).isEqualTo(ExitReason.CR_ACCESS);
            assertThat(st.machine().vcpu(v).vmcs().guest()).isEqualTo(m.vcpu(v).vmcs().guest());
            assertThat(st.machine().vcpu(v).vmcs().guest().cpu().cr0().pg()).isFalse();
        }
    }

    @Test
    @DisplayName("SDM 9.8.5: WRMSR changing EFER.LME is fine with paging off; PG without PE → #GP")
    void otherGuards() {
        XenMachine m = machine();
        HvStep st = emulated(m, HAP, cr(0, PG));
        assertThat(((VcpuOutcome.Injected) st.outcome()).vector()).isEqualTo(GeneralProtection.VECTOR);
        HvStep lme = emulated(m, HAP, efer(LME));
        assertThat(lme.outcome()).isInstanceOf(VcpuOutcome.Resumed.class);
        assertThat(lme.machine().vcpu(HAP).vmcs().guest().cpu().efer().lme()).isTrue();
        HvStep off = emulated(lme.machine(), HAP, efer(0));
        assertThat(off.machine().vcpu(HAP).vmcs().guest().cpu().efer().lme()).isFalse();
    }

    @Test
    @DisplayName("Paging off: CPUID, the hypercall-page WRMSR, VMCALL and HLT are emulated; a memory access is not modelled (not entered)")
    void bootPathInRealMode() {
        XenMachine m = machine();
        VcpuOutcome.CpuidResult id = (VcpuOutcome.CpuidResult) emulated(m, SHADOW,
                new GuestInstruction.Cpuid(CpuidLeaves.BASE, 0)).outcome();
        assertThat(id.ebx()).isEqualTo(CpuidLeaves.SIGNATURE_EBX);
        HvStep page = emulated(m, SHADOW, new GuestInstruction.Wrmsr(HypercallPage.MSR, 5L << 12));
        assertThat(page.machine().domain(3).hypercallPageInstalled()).isTrue();
        assertThat(HypercallPage.byteAt(page.machine().memory(), 0x2d, 0)).isEqualTo(0xB8);
        HvStep call = emulated(page.machine(), SHADOW, new GuestInstruction.Vmcall(), Hypercall.translateGpfn(4));
        assertThat(((VcpuOutcome.HypercallDone) call.outcome()).rax()).isEqualTo(0x2c);
        HvStep sw = emulated(page.machine(), SHADOW, new GuestInstruction.Vmcall(), Hypercall.switchMmu(0x28));
        assertThat(((VcpuOutcome.HypercallRefused) sw.outcome()).rule()).as("PRE-1: not in long mode")
                .isEqualTo("PRE-1");
        HvStep hlt = emulated(m, SHADOW, new GuestInstruction.Hlt());
        assertThat(hlt.machine().vcpu(SHADOW).blocked()).isTrue();
        HvStep access = Hypervisor.run(m, SHADOW, new GuestInstruction.MemoryAccess(Access.read(0x1000)));
        assertThat(access.outcome()).isInstanceOf(VcpuOutcome.NotModelled.class);
        assertThat(access.vmExits()).isZero();
        assertThat(access.machine()).isSameAs(m);
    }

    @Test
    @DisplayName("Boot, install the hypercall page, switch: a vCPU booted from real mode in shadow mode can SWITCH_MMU")
    void bootThenSwitch() {
        XenMachine m = boot(machine(), SHADOW, 0);
        m = Hypervisor.run(m, SHADOW, new GuestInstruction.Wrmsr(HypercallPage.MSR, 5L << 12)).machine();
        // direct-mode tables in machine frames 0x30–0x33 (gfns 8–11), as the kernel writes them with the machine
        // frames translate_gpfn returns; VA 0x5000 still maps gfn 4 = machine frame 0x2c
        m = m.withPaging(m.paging().write(0x30, 0, rw(0x31)).write(0x31, 0, rw(0x32)).write(0x32, 0, rw(0x33))
                .write(0x33, 5, rw(0x2c)));
        HvStep st = Hypervisor.hypercall(m, SHADOW, Hypercall.switchMmu(0x30));
        assertThat(st.outcome()).as(st.outcome().toString()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(st.machine().domain(3).mode()).isEqualTo(MmuMode.DIRECT);
        assertInvariants(st.machine());
        assertThat(firstAccess(st.machine(), SHADOW).vmExits()).isZero();
    }
}
