package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxMode;
import org.hybridv.x86.Access;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domains;
import org.hybridv.xen.Errno;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.PageType;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Booting with paging off is emulated exactly, in every MMU mode (BOOT-1; Intel SDM Vol. 3A §2.5, §9.8.5; Xen rules
 * MISC-1, MX-3, SH-1, SH-4, HAP-5). One vCPU of a direct, a HAP or a shadow domain starts in the reset state and runs
 * drawn boot instructions — mostly the SDM §9.8.5 sequence (CR0.PE, CR4.PAE, CR3, EFER.LME, CR0.PG), each step
 * sometimes replaced by a wrong or foreign one: PG without PE, PG with PAE = 0 or LME = 0, CR4.PCIDE, a CR3 with a bit
 * above MAXPHYADDR, another MSR, CPUID, a hypercall, a memory access, HLT; drawn WP, PGE, SMEP, NXE bits; roots that
 * validate and roots that do not (a foreign frame, Xen's, a frame that is not RAM, an L4 with a writable linear
 * entry, a gfn outside the p2m). The property keeps the guest's registers itself, from what it wrote, and judges
 * every step by the SDM's rule for the instruction and the mode's rule for where the value goes:
 * <ul>
 * <li>#GP(0) when the SDM says so (PG without PE; PG with LME = 1 and PAE = 0; PCIDE set outside IA-32e mode; CR3
 * bits above MAXPHYADDR; an MSR the hypervisor does not emulate), with no register changed;</li>
 * <li>otherwise the guest-visible CR0 (the hardware CR0 outside the guest/host mask, the read shadow inside it; SDM
 * Vol. 3C §24.6.6), CR4, EFER (LMA = PG ∧ LME) and CR3 are the ones the guest wrote; in shadow and direct modes
 * CR0.WP is host-owned and forced in the hardware CR0 (MISC-1), in HAP mode nothing is host-owned; the guest's CR3 is
 * kept in the shadow state with the hardware CR3 on the shadow root in shadow mode (SH-1), loaded as written in direct
 * and HAP modes;</li>
 * <li>paging on: in direct mode the root must be an L4 of the domain that validates (MX-3; else #GP(0), nothing
 * changed) and becomes the vCPU's guest table as a validated L4; in shadow mode a root whose gfn is not in the p2m is
 * a guest error, nothing changed (SH-1), else the shadows are empty (SH-4); in HAP mode the CR3 is used as is
 * (HAP-5);</li>
 * <li>every emulated instruction is one VM exit, recorded in the vCPU's VMCS with its reason; the processor stays in
 * root operation (the vCPU is never entered with PG = 0, SDM Vol. 3C §26.3.1.1); a memory access is not modelled and
 * changes nothing; HLT blocks the vCPU; {@code memory_op(XENMEM_translate_gpfn_list)} answers the p2m's frame (the
 * identity on the domain's frames in direct mode, POST-3); no word of any domain's memory changes;</li>
 * <li>after paging is on with the good root, the first read of the mapped page returns its word: the vCPU is
 * entered and runs on the tables it loaded.</li>
 * </ul>
 */
class PagingOffBootProperties {
    /** The vCPUs: d1 direct (frames 0x10–0x1f, identity), d2 HAP (0x20–0x27, gfn g → 0x20 + g), d3 shadow (0x28–0x33). */
    static final VcpuId[] VCPUS = {new VcpuId(1, 0), new VcpuId(2, 0), new VcpuId(3, 0)};
    static final MmuMode[] MODES = {MmuMode.DIRECT, MmuMode.HAP, MmuMode.SHADOW};
    /** Direct mode's roots (machine frames): the good L4, an empty frame, a linear L4 mapping itself writable, d2's frame, Xen's, not RAM. */
    static final long[] DIRECT_ROOTS = {0x10, 0x10, 0x10, 0x1c, 0x18, 0x20, 0x5, 0x50};
    /** Shadow and HAP roots (gfns): the good L4, an empty frame, a gfn outside the p2m. */
    static final long[] TRANSLATED_ROOTS = {0, 0, 0, 0xa, 0x30};
    static final long VA = 0x5000;
    static final long WORD = 0x1234_5678_9abcL;
    static final long PE = 1;
    static final long PG = 1L << 31;
    static final long WP = 1L << 16;
    static final long PAE = 1L << 5;
    static final long LME = 1L << 8;
    static final long NXE = 1L << 11;
    static final int MAXPHYADDR = XenMachine.MAX_PHYS_ADDR;

    /** The machine of the class comment, built once (machines are values). */
    static final XenMachine MACHINE = machine();

    static XenMachine machine() {
        XenMachine m = XenMachine.boot(64, Domains.range(0x1, 0xf));
        long[] f1 = Domains.range(0x10, 0x1f);
        m = done(Domains.create(m, 1, MmuMode.DIRECT, f1, Domains.identity(f1)));
        // d1: L4 0x10 → 0x11 → 0x12 → L1 0x13, VA 0x5000 → 0x14; L4 0x18 maps itself writable in slot 0 (LIN-1)
        m = m.withPaging(m.paging().write(0x10, 0, rw(0x11)).write(0x11, 0, rw(0x12)).write(0x12, 0, rw(0x13))
                .write(0x13, 5, rw(0x14)).write(0x14, 0, new Entry(WORD)).write(0x18, 0, rw(0x18)));
        for (int d = 3; d >= 2; d--) { // shadow first: the HAP domain's EPT takes free frames
            long base = d == 2 ? 0x20 : 0x28;
            long n = d == 2 ? 8 : 12;
            Map<Long, Long> p2m = new TreeMap<>();
            for (long g = 0; g < n; g++) {
                p2m.put(g, base + g);
            }
            m = done(Domains.create(m, d, MODES[d - 1], Domains.range(base, base + n - 1), p2m));
            m = m.withPaging(m.paging().write(base, 0, rw(1)).write(base + 1, 0, rw(2)).write(base + 2, 0, rw(3))
                    .write(base + 3, 5, rw(4)).write(base + 4, 0, new Entry(WORD)));
        }
        for (int d = 1; d <= 3; d++) {
            m = done(Domains.addVcpu(m, d, d, CpuState.reset(MAXPHYADDR)));
        }
        return m;
    }

    private static Entry rw(long frame) {
        return Entry.table(frame, true, false);
    }

    static XenMachine done(HvResult r) {
        assertThat(r).isInstanceOf(HvResult.Done.class);
        return ((HvResult.Done) r).machine();
    }

    /** The guest's registers as it wrote them. */
    record Regs(Cr0 cr0, long cr3, Cr4 cr4, Efer efer) {}

    @Property(seed = Budget.SEED, tries = 100)
    void theBootPathIsEmulatedAsTheSdmAndTheModeSay(@ForAll @IntRange(min = 0, max = 0xFFFF) int which,
            @ForAll @Size(min = 3, max = 12) List<@IntRange(min = 0, max = 0xFFFFF) Integer> ops,
            @ForAll @IntRange(min = 0, max = 0xFFFF) int then) {
        XenMachine m = MACHINE;
        VcpuId id = VCPUS[which % 3];
        MmuMode mode = MODES[which % 3];
        Regs r = new Regs(new Cr0(false, false, false), 0, Cr4.ofBits(0), Efer.ofBits(0));
        int canonical = 0; // the next step of the SDM 9.8.5 sequence
        int step = 0;
        for (int drawn : ops) {
            step++;
            int n = Integer.rotateLeft(drawn * 0x9E3779B1, 11); // jqwik favours small integers: spread their bits
            GuestInstruction insn = instruction(n, canonical, mode);
            Hypercall regs = Hypercall.translateGpfn((n >>> 12) & 0x3f);
            XenMachine pre = m;
            HvStep st = Hypervisor.run(pre, id, insn, regs);
            XenMachine post = st.machine();
            VcpuOutcome o = st.outcome();
            String at = mode + " step " + step + " " + insn + " with " + r + " → " + o;
            assertThat(changedDomainWord(pre, post)).as("no domain word changes: %s", at).isNull();
            Regs next = judge(pre, post, id, mode, r, insn, regs, st, at);
            if ((n & 0xF) < 12 && next != r && !(o instanceof VcpuOutcome.Injected)) {
                canonical++;
            }
            r = next;
            assertVisible(post, id, mode, r, at);
            m = post;
            if (o instanceof VcpuOutcome.Blocked || r.cr0().pg()) {
                break;
            }
        }
        Statistics.label("mode").collect(mode.toString());
        if (r.cr0().pg()) {
            Statistics.label("boot").collect("paging on " + mode);
            XenMachine read = firstRead(m, id, mode, r);
            if (read != null) {
                afterBoot(read, id, mode, r, Integer.rotateLeft(then * 0x9E3779B1, 11) >>> 1);
            }
        }
        Statistics.label("boot").coverage(cov -> {
            for (MmuMode md : MODES) {
                cov.check("paging on " + md).percentage(p -> p >= 3);
            }
            cov.check("good root read").percentage(p -> p >= 3);
        });
        Statistics.label("after boot").coverage(cov -> {
            for (String c : new String[] {"MOV to CR0 WP", "MOV to CR0 #GP", "IN no device", "OUT no device",
                    "CPUID Xen"}) {
                cov.check(c).percentage(p -> p > 0);
            }
        });
        Statistics.label("step").coverage(cov -> {
            cov.check("#GP PG without PE").percentage(p -> p > 0);
            cov.check("#GP PG without PAE").percentage(p -> p > 0);
            cov.check("#GP PCIDE").percentage(p -> p > 0);
            cov.check("#GP CR3 reserved").percentage(p -> p > 0);
            cov.check("#GP other MSR").percentage(p -> p > 0);
            cov.check("PG with LME = 0").percentage(p -> p > 0);
            cov.check("direct root refused").percentage(p -> p > 0);
            cov.check("direct root accepted").percentage(p -> p > 0);
            cov.check("shadow root outside the p2m").percentage(p -> p > 0);
            cov.check("CR0 without PG").percentage(p -> p >= 5);
            cov.check("CR4").percentage(p -> p >= 5);
            cov.check("CR3").percentage(p -> p >= 5);
            cov.check("EFER").percentage(p -> p >= 5);
            cov.check("CPUID").percentage(p -> p > 0);
            cov.check("HLT").percentage(p -> p > 0);
            cov.check("memory access").percentage(p -> p > 0);
            cov.check("memory_op").percentage(p -> p > 0);
        });
    }

    /**
     * The instruction {@code n} stands for: low nibble 0–11 the next step of the SDM §9.8.5 sequence with drawn
     * extras, 12–15 one drawn instruction of any kind.
     */
    static GuestInstruction instruction(int n, int canonical, MmuMode mode) {
        int kind = (n & 0xF) < 12 ? Math.min(canonical, 4) : 5 + ((n >>> 4) & 0xF) % 11;
        long wp = ((n >>> 8) & 1) != 0 ? WP : 0;
        long[] roots = mode == MmuMode.DIRECT ? DIRECT_ROOTS : TRANSLATED_ROOTS;
        long root = roots[((n >>> 9) & 0xF) % roots.length] << 12;
        switch (kind) {
            case 0:
                return new GuestInstruction.MovToCr(0, PE | wp, 0);
            case 1: // PAE left out one time in eight
                return new GuestInstruction.MovToCr(4, (((n >>> 15) & 7) != 0 ? PAE : 0) | (((n >>> 13) & 1) != 0 ? 1L << 7 : 0)
                        | (((n >>> 14) & 1) != 0 ? 1L << 20 : 0), 0);
            case 2:
                return new GuestInstruction.MovToCr(3, root | ((n >>> 13) & 0x18), 0);
            case 3: // LME left out one time in eight
                return new GuestInstruction.Wrmsr(Efer.MSR_INDEX, (((n >>> 15) & 7) != 0 ? LME : 0) | (((n >>> 13) & 1) != 0 ? NXE : 0));
            case 4: // PE left out one time in eight
                return new GuestInstruction.MovToCr(0, (((n >>> 15) & 7) != 0 ? PE : 0) | PG | wp, 0);
            case 5: // CR0 drawn: any of PE, WP, PG
                return new GuestInstruction.MovToCr(0, ((n >>> 13) & 1) | wp | (((n >>> 14) & 1) != 0 ? PG : 0), 0);
            case 6: // CR4 drawn: PAE, PGE, PCIDE, SMEP
                return new GuestInstruction.MovToCr(4, ((n >>> 13) & 1) * PAE | ((n >>> 14) & 1) * (1L << 7)
                        | ((n >>> 15) & 1) * (1L << 17) | ((n >>> 16) & 1) * (1L << 20), 0);
            case 7: // CR3 drawn, sometimes with a bit above MAXPHYADDR
                return new GuestInstruction.MovToCr(3, root | (((n >>> 13) & 3) == 0 ? 1L << MAXPHYADDR : 0), 0);
            case 8:
                return new GuestInstruction.Wrmsr(Efer.MSR_INDEX, ((n >>> 13) & 1) * LME | ((n >>> 14) & 1) * NXE);
            case 9:
                return new GuestInstruction.Wrmsr(0x174 + ((n >>> 13) & 1), 0); // SYSENTER MSRs: not emulated
            case 10:
                return new GuestInstruction.Cpuid(((n >>> 13) & 1) != 0 ? 0x4000_0000L : 0, 0);
            case 11:
            case 12:
                return new GuestInstruction.Vmcall();
            case 13:
                return new GuestInstruction.MemoryAccess(((n >>> 13) & 1) != 0 ? Access.write(VA, n) : Access.read(VA));
            case 14:
                return new GuestInstruction.Hlt();
            default:
                return new GuestInstruction.MovToCr(0, PE | wp, 0);
        }
    }

    /** One step judged; returns the guest's registers after it. */
    private static Regs judge(XenMachine pre, XenMachine post, VcpuId id, MmuMode mode, Regs r, GuestInstruction insn,
            Hypercall regs, HvStep st, String at) {
        VcpuOutcome o = st.outcome();
        if (insn instanceof GuestInstruction.MemoryAccess) {
            Statistics.label("step").collect("memory access");
            assertThat(o).as("only the boot path is emulated: %s", at).isInstanceOf(VcpuOutcome.NotModelled.class);
            assertThat(st.vmExits()).as(at).isZero();
            assertThat(post.vcpu(id)).as("nothing changes: %s", at).isEqualTo(pre.vcpu(id));
            return r;
        }
        assertThat(st.vmExits()).as("one VM exit per emulated instruction: %s", at).isEqualTo(1);
        assertThat(post.processor().mode()).as("never entered with PG = 0: %s", at).isEqualTo(VmxMode.ROOT);
        assertThat(post.vcpu(id).vmcs().exitInformation().reason()).as("the exit recorded: %s", at)
                .isEqualTo(reason(insn));
        if (insn instanceof GuestInstruction.Hlt) {
            Statistics.label("step").collect("HLT");
            assertThat(o).as(at).isInstanceOf(VcpuOutcome.Blocked.class);
            assertThat(post.vcpu(id).blocked()).as(at).isTrue();
            HvStep again = Hypervisor.run(post, id, new GuestInstruction.MovToCr(0, PE, 0));
            assertThat(again.outcome()).as("a blocked vCPU runs nothing: %s", at).isInstanceOf(VcpuOutcome.Blocked.class);
            assertThat(again.vmExits()).isZero();
            return r;
        }
        if (insn instanceof GuestInstruction.Cpuid) {
            Statistics.label("step").collect("CPUID");
            assertThat(o).as(at).isInstanceOf(VcpuOutcome.CpuidResult.class);
            assertSameRegisters(pre, post, id, at);
            return r;
        }
        if (insn instanceof GuestInstruction.Vmcall) {
            Statistics.label("step").collect("memory_op");
            long gfn = regs.arg(1);
            long want = mode == MmuMode.DIRECT ? (gfn >= 0x10 && gfn <= 0x1f ? gfn : -1)
                    : mode == MmuMode.HAP ? (gfn < 8 ? 0x20 + gfn : -1) : (gfn < 12 ? 0x28 + gfn : -1);
            if (want < 0) {
                assertThat(o).as("a gfn that is not the domain's RAM: -EINVAL: %s", at)
                        .isInstanceOf(VcpuOutcome.HypercallRefused.class);
                assertThat(((VcpuOutcome.HypercallRefused) o).errno()).as(at).isEqualTo(Errno.EINVAL);
            } else {
                assertThat(o).as("memory_op answers the p2m's frame: %s", at)
                        .isEqualTo(new VcpuOutcome.HypercallDone(regs, List.of(), want));
            }
            assertSameRegisters(pre, post, id, at);
            return r;
        }
        if (insn instanceof GuestInstruction.Wrmsr w) {
            if (w.msr() != Efer.MSR_INDEX) {
                Statistics.label("step").collect("#GP other MSR");
                assertGp(pre, post, id, o, at);
                return r;
            }
            Statistics.label("step").collect("EFER");
            assertThat(o).as("WRMSR IA32_EFER with PG = 0 retires (SDM 9.8.5): %s", at)
                    .isInstanceOf(VcpuOutcome.Resumed.class);
            return new Regs(r.cr0(), r.cr3(), r.cr4(), Efer.ofBits(w.value()));
        }
        GuestInstruction.MovToCr mov = (GuestInstruction.MovToCr) insn;
        long v = mov.value();
        if (mov.cr() == 4) {
            if (((v >>> 17) & 1) != 0) {
                Statistics.label("step").collect("#GP PCIDE");
                assertGp(pre, post, id, o, at); // SDM 4.10.1: PCIDE only in IA-32e mode
                return r;
            }
            Statistics.label("step").collect("CR4");
            assertThat(o).as(at).isInstanceOf(VcpuOutcome.Resumed.class);
            return new Regs(r.cr0(), r.cr3(), Cr4.ofBits(v), r.efer());
        }
        if (mov.cr() == 3) {
            if ((v >>> MAXPHYADDR) != 0) {
                Statistics.label("step").collect("#GP CR3 reserved");
                assertGp(pre, post, id, o, at); // SDM Vol. 2B MOV: bits 63:MAXPHYADDR are reserved
                return r;
            }
            Statistics.label("step").collect("CR3");
            assertThat(o).as("MOV to CR3 with PG = 0 is only recorded: %s", at).isInstanceOf(VcpuOutcome.Resumed.class);
            return new Regs(r.cr0(), v, r.cr4(), r.efer());
        }
        Cr0 cr0 = Cr0.ofBits(v);
        if (!cr0.pg()) {
            Statistics.label("step").collect("CR0 without PG");
            assertThat(o).as(at).isInstanceOf(VcpuOutcome.Resumed.class);
            return new Regs(cr0, r.cr3(), r.cr4(), r.efer());
        }
        if (!cr0.pe()) {
            Statistics.label("step").collect("#GP PG without PE");
            assertGp(pre, post, id, o, at); // SDM 2.5
            return r;
        }
        if (!r.efer().lme()) {
            Statistics.label("step").collect("PG with LME = 0");
            assertThat(o).as("32-bit and PAE paging are not modelled: %s", at)
                    .isInstanceOf(VcpuOutcome.NotModelled.class);
            assertSameRegisters(pre, post, id, at);
            return r;
        }
        if (!r.cr4().pae()) {
            Statistics.label("step").collect("#GP PG without PAE");
            assertGp(pre, post, id, o, at); // SDM 9.8.5
            return r;
        }
        long rootFrame = Cr3.ofBits(r.cr3()).pml4Base() >>> 12;
        if (mode == MmuMode.DIRECT) {
            boolean good = rootFrame == 0x10 || rootFrame == 0x1c;
            if (!good) {
                Statistics.label("step").collect("direct root refused");
                assertGp(pre, post, id, o, at); // MX-3: the root must validate as an L4 of the domain
                assertThat(post.paging()).as("MX-3: nothing changed: %s", at).isEqualTo(pre.paging());
                return r;
            }
            Statistics.label("step").collect("direct root accepted");
            assertThat(o).as(at).isInstanceOf(VcpuOutcome.Resumed.class);
            assertThat(post.paging().guestTables().get(id)).as("MX-3: the root is the guest table: %s", at)
                    .isEqualTo(rootFrame);
            assertThat(post.frames().get(rootFrame).type()).as(at).isEqualTo(PageType.L4);
            assertThat(post.frames().get(rootFrame).validated()).as(at).isTrue();
        } else if (mode == MmuMode.SHADOW && rootFrame >= 12) {
            Statistics.label("step").collect("shadow root outside the p2m");
            assertThat(o).as("SH-1: a root outside the p2m: %s", at).isInstanceOf(VcpuOutcome.GuestError.class);
            assertSameRegisters(pre, post, id, at);
            return r;
        } else {
            assertThat(o).as(at).isInstanceOf(VcpuOutcome.Resumed.class);
            if (mode == MmuMode.SHADOW) {
                assertThat(post.vcpu(id).shadow().tables()).as("SH-4: the shadows dropped: %s", at).isEmpty();
            }
        }
        return new Regs(cr0, r.cr3(), r.cr4(), r.efer());
    }

    static ExitReason reason(GuestInstruction insn) {
        if (insn instanceof GuestInstruction.MovToCr) {
            return ExitReason.CR_ACCESS;
        }
        if (insn instanceof GuestInstruction.Wrmsr) {
            return ExitReason.MSR_WRITE;
        }
        if (insn instanceof GuestInstruction.Cpuid) {
            return ExitReason.CPUID;
        }
        if (insn instanceof GuestInstruction.Vmcall) {
            return ExitReason.VMCALL;
        }
        return ExitReason.HLT;
    }

    /** #GP(0) injected, and the vCPU's registers as they were. */
    private static void assertGp(XenMachine pre, XenMachine post, VcpuId id, VcpuOutcome o, String at) {
        assertThat(o instanceof VcpuOutcome.Injected i && i.vector() == 13 && i.errorCodeValid() && i.errorCode() == 0)
                .as("#GP(0) injected: %s", at).isTrue();
        assertSameRegisters(pre, post, id, at);
    }

    private static void assertSameRegisters(XenMachine pre, XenMachine post, VcpuId id, String at) {
        Vcpu a = pre.vcpu(id);
        Vcpu b = post.vcpu(id);
        assertThat(b.vmcs().guest()).as("the guest state unchanged: %s", at).isEqualTo(a.vmcs().guest());
        assertThat(b.vmcs().controls()).as("the controls unchanged: %s", at).isEqualTo(a.vmcs().controls());
        assertThat(b.shadow()).as("the shadow state unchanged: %s", at).isEqualTo(a.shadow());
    }

    /** The registers the guest sees are the ones it wrote, with the mode's host-owned bits forced (MISC-1). */
    private static void assertVisible(XenMachine m, VcpuId id, MmuMode mode, Regs r, String at) {
        Vcpu v = m.vcpu(id);
        Vmcs vmcs = v.vmcs();
        CpuState hw = vmcs.guest().cpu();
        long mask = vmcs.controls().cr0GuestHostMask();
        long wantMask = mode == MmuMode.HAP ? 0 : WP;
        assertThat(Long.toHexString(mask)).as("CR0 guest/host mask (MISC-1): %s", at)
                .isEqualTo(Long.toHexString(wantMask));
        long visible = (hw.cr0().bits() & ~mask) | (vmcs.controls().cr0ReadShadow() & mask);
        assertThat(Long.toHexString(visible)).as("the CR0 the guest reads (SDM 24.6.6): %s", at)
                .isEqualTo(Long.toHexString(r.cr0().bits()));
        if (mode != MmuMode.HAP) {
            assertThat(hw.cr0().wp()).as("MISC-1: the hardware WP forced: %s", at).isTrue();
        }
        assertThat(hw.cr4()).as("CR4: %s", at).isEqualTo(r.cr4());
        assertThat(hw.efer()).as("EFER: %s", at).isEqualTo(r.efer());
        assertThat(hw.ia32eMode()).as("LMA = PG ∧ LME: %s", at).isEqualTo(r.cr0().pg() && r.efer().lme());
        if (mode == MmuMode.SHADOW) {
            assertThat(Long.toHexString(v.shadow().guestCr3())).as("SH-1: the guest's CR3 kept: %s", at)
                    .isEqualTo(Long.toHexString(r.cr3()));
            assertThat(hw.cr3().pml4Frame()).as("SH-1: the hardware CR3 on the shadow root: %s", at)
                    .isEqualTo(v.shadow().root());
        } else {
            assertThat(Long.toHexString(hw.cr3().bits())).as("CR3 as loaded: %s", at)
                    .isEqualTo(Long.toHexString(Cr3.ofBits(r.cr3()).bits()));
        }
    }

    /**
     * Paging on: a read of VA 0x5000 through the tables the guest loaded returns the word there. Returns the machine
     * after it, or null when the root is not the boot L4.
     */
    private static XenMachine firstRead(XenMachine m, VcpuId id, MmuMode mode, Regs r) {
        long rootFrame = Cr3.ofBits(r.cr3()).pml4Base() >>> 12;
        if (rootFrame != (mode == MmuMode.DIRECT ? 0x10 : 0)) {
            return null;
        }
        Statistics.label("boot").collect("good root read");
        HvStep st = Hypervisor.run(m, id, new GuestInstruction.MemoryAccess(Access.read(VA)));
        assertThat(st.outcome()).as("the first read with paging on (%s, %s)", mode, r)
                .isEqualTo(new VcpuOutcome.Retired(WORD));
        return st.machine();
    }

    /**
     * One instruction of the booted vCPU, now entered, judged by its exit's handler: MOV to CR0 flipping WP (PE
     * sometimes cleared: #GP(0), SDM 2.5) — in shadow and direct modes WP is host-owned, so it exits and the guest
     * then reads the CR0 it wrote while the hardware keeps WP (MISC-1); in HAP mode it retires in the guest; IN / OUT
     * of port 0x80, which no device claims (all ones of the operand size read, nothing written); CPUID 0x40000000
     * (Xen's signature, BOOT-2).
     */
    private static void afterBoot(XenMachine m, VcpuId id, MmuMode mode, Regs r, int k) {
        String at = mode + " after boot with " + r + ", " + k;
        int kind = k % 5 < 2 ? 0 : k % 5 < 4 ? 1 : 2;
        if (kind == 0) {
            boolean pe = ((k >>> 3) & 3) != 0;
            Cr0 written = new Cr0(pe, !r.cr0().wp(), true);
            HvStep st = Hypervisor.run(m, id, new GuestInstruction.MovToCr(0, written.bits(), 0));
            VcpuOutcome o = st.outcome();
            if (!pe) {
                Statistics.label("after boot").collect("MOV to CR0 #GP");
                int vector = o instanceof VcpuOutcome.Injected i && i.errorCode() == 0 ? i.vector()
                        : o instanceof VcpuOutcome.Delivered d && d.errorCode() == 0 ? d.vector() : -1;
                assertThat(vector).as("PG with PE clear is #GP(0) (SDM 2.5): %s → %s", at, o).isEqualTo(13);
                assertVisible(st.machine(), id, mode, r, at);
                return;
            }
            Statistics.label("after boot").collect("MOV to CR0 WP");
            assertThat(o).as("%s → %s", at, o).isInstanceOf(mode == MmuMode.HAP ? VcpuOutcome.Retired.class
                    : VcpuOutcome.Resumed.class);
            Vcpu v = st.machine().vcpu(id);
            long mask = v.vmcs().controls().cr0GuestHostMask();
            CpuState hw = st.machine().guestCpu(id);
            long visible = (hw.cr0().bits() & ~mask) | (v.vmcs().controls().cr0ReadShadow() & mask);
            assertThat(Long.toHexString(visible)).as("the CR0 the guest reads: %s", at)
                    .isEqualTo(Long.toHexString(written.bits()));
            assertThat(hw.cr0().wp()).as("MISC-1: %s", at).isEqualTo(mode == MmuMode.HAP ? written.wp() : true);
            return;
        }
        if (kind == 1) {
            int size = new int[] {1, 2, 4, 1}[(k >>> 3) & 3];
            boolean in = ((k >>> 5) & 1) == 0;
            Statistics.label("after boot").collect(in ? "IN no device" : "OUT no device");
            HvStep st = Hypervisor.run(m, id, new GuestInstruction.Io(0x80, size, in, false, false, true, k));
            long ones = size == 4 ? 0xFFFF_FFFFL : (1L << (8 * size)) - 1;
            assertThat(st.outcome() instanceof VcpuOutcome.Resumed res && res.reason() == ExitReason.IO_INSTRUCTION
                    && res.value() == (in ? ones : 0)).as("port 0x80 has no device: %s → %s", at, st.outcome())
                    .isTrue();
            assertThat(changedDomainWord(m, st.machine())).as("no domain word changes: %s", at).isNull();
            return;
        }
        Statistics.label("after boot").collect("CPUID Xen");
        HvStep st = Hypervisor.run(m, id, new GuestInstruction.Cpuid(0x4000_0000L, 0));
        assertThat(st.outcome() instanceof VcpuOutcome.CpuidResult c && c.ebx() == 0x566e6558L
                && c.ecx() == 0x65584d4dL && c.edx() == 0x4d4d566eL).as("\"XenVMMXenVMM\" (BOOT-2): %s → %s", at,
                st.outcome()).isTrue();
    }

    /** The first word of the domains' frames 0x10–0x33 that differs between {@code a} and {@code b}, or null. */
    static String changedDomainWord(XenMachine a, XenMachine b) {
        PhysicalMemory x = a.memory();
        PhysicalMemory y = b.memory();
        for (long f = 0x10; f < 0x34; f++) {
            for (PhysicalMemory[] p : new PhysicalMemory[][] {{x, y}, {y, x}}) {
                for (int i = p[0].nextNonZero(f, 0); i < PhysicalMemory.WORDS_PER_FRAME; i = p[0].nextNonZero(f, i + 1)) {
                    if (p[0].read(f, i) != p[1].read(f, i)) {
                        return "frame " + Long.toHexString(f) + " word " + i + ": " + Long.toHexString(x.read(f, i))
                                + " → " + Long.toHexString(y.read(f, i));
                    }
                }
            }
        }
        return null;
    }
}
