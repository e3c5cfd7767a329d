package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.HostState;
import org.hybridv.vmx.SecondaryControls;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxCapabilities;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;

/**
 * Generates {@link VmEntryCase}s around each VM-entry check the reference models (Intel SDM Vol. 3C §26.1–§26.3): the
 * launch state against the instruction; CR3-target counts 0..6 (the limit is 4); "activate secondary controls" on or
 * off with each secondary control (enable VPID with VPID 0 or not, enable EPT with EPTPs whose memory type, page-walk
 * length, A/D bit, bits 11:7 and bits above MAXPHYADDR vary one at a time or together, unrestricted guest with and
 * without EPT); host states in IA-32e mode or with paging or protection off; guest CR0 with PE and PG in every
 * allowed combination; a processor with or without EPT A/D support (IA32_VMX_EPT_VPID_CAP bit 21); and a TLB holding translations of VPID 0 and of another VPID, so what the entry invalidates
 * shows.
 *
 * <p>Choice 0 everywhere gives a valid VMLAUNCH of a clear VMCS with no secondary controls.
 */
public final class VmEntryCases {
    private VmEntryCases() {}

    /** The MAXPHYADDRs generated (EPT needs at most 48 in this reference). */
    static final int[] MAX_PHYS_ADDR = {40, 36, 46, 48};

    public static VmEntryCase generate(Choices c) {
        int max = MAX_PHYS_ADDR[c.weighted(70, 10, 10, 10)];
        boolean resume = c.flag(false, 40);
        boolean launched = c.flag(resume, 15);
        ExecutionControls x = ExecutionControls.none();
        int targets = c.weighted(70, 6, 6, 6, 6, 3, 3);
        List<Long> values = new ArrayList<>();
        for (int i = 0; i < targets; i++) {
            values.add((long) (i + 1) << 12);
        }
        x = x.withCr3TargetValues(values);
        boolean activate = c.flag(false, 60);
        SecondaryControls s = new SecondaryControls(c.flag(false, 50), c.flag(false, 50), c.flag(false, 25),
                c.flag(false, 15));
        x = x.withPrimary(x.primary().withActivateSecondaryControls(activate)).withSecondary(s);
        x = x.withVpid(c.flag(true, 25) ? 1 + c.below(0xFFFF) : 0);
        x = x.withEptp(eptp(c, max));
        CpuState guest = guest(c, max);
        CpuState host = host(c, max);
        Vmcs vmcs = new Vmcs(x, new GuestState(guest, 0x40_0000L), new HostState(host, VmxSystems.HOST_RIP), null);
        CpuState running = VmxSystems.host(max).cpu().withCr2(0x1234_5000L).withPkru(c.flag(false, 20) ? 4 : 0);
        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(64), running, tlb(c), TlbTag.NATIVE);
        VmxCapabilities caps = c.flag(true, 25) ? VmxCapabilities.FULL : new VmxCapabilities(true, false,
                VmxCapabilities.FULL.inveptTypes(), VmxCapabilities.FULL.invvpidTypes());
        return new VmEntryCase(new VmxProcessor(m, VmxMode.ROOT, vmcs, launched, caps), resume);
    }

    /** An EPTP: mostly valid (WB, walk length 4, frame 0x20), else one field or several fields off. */
    static long eptp(Choices c, int max) {
        long frame = 0x20L << 12;
        int memoryType = c.weighted(60, 20, 4, 4, 4, 4, 2, 2) == 1 ? 0 : 6;
        int kind = c.weighted(55, 8, 8, 8, 8, 8, 5);
        long walk = 3;
        long ad = 0;
        long low = 0;
        long high = 0;
        switch (kind) {
            case 1 -> memoryType = c.oneOf(1, 2, 3, 4, 5, 7);
            case 2 -> walk = c.oneOf(0L, 1L, 2L, 4L, 7L);
            case 3 -> ad = 1L << 6;
            case 4 -> low = 1L << (7 + c.below(5));
            case 5 -> high = 1L << (max + c.below(64 - max));
            case 6 -> {
                memoryType = c.oneOf(0, 6, 7);
                walk = c.oneOf(3L, 2L);
                low = c.flag(false, 50) ? 1L << 11 : 0;
                high = c.flag(false, 50) ? 1L << 63 : 0;
            }
            default -> { }
        }
        return frame | high | low | ad | (walk << 3) | memoryType;
    }

    /** A guest state: mostly IA-32e mode, else protected mode without paging, or real mode. */
    static CpuState guest(Choices c, int max) {
        CpuState g = CpuState.longMode(0x10, max);
        return switch (c.weighted(70, 15, 15)) {
            case 1 -> g.withCr0(new Cr0(true, false, false)).withEfer(new Efer(false, false));
            case 2 -> g.withCr0(new Cr0(false, false, false)).withEfer(new Efer(false, false));
            default -> g;
        };
    }

    /**
     * A host state: mostly IA-32e mode, else protection without paging (EFER.LME set or clear), or neither. (Paging
     * without IA-32e mode is no state the reference holds: it models IA-32e paging only.)
     */
    static CpuState host(Choices c, int max) {
        CpuState h = VmxSystems.host(max).cpu();
        return switch (c.weighted(70, 10, 10, 10)) {
            case 1 -> h.withCr0(new Cr0(true, h.cr0().wp(), false));
            case 2 -> h.withCr0(new Cr0(true, h.cr0().wp(), false)).withEfer(new Efer(false, h.efer().nxe()));
            case 3 -> h.withCr0(new Cr0(false, false, false)).withEfer(new Efer(false, h.efer().nxe()));
            default -> h;
        };
    }

    /** A TLB with a translation of VPID 0 (the host's) and, often, one of VPID 1 (a guest's). */
    static Tlb tlb(Choices c) {
        Tlb t = Tlb.empty(TlbPolicy.ADVERSARIAL).fill(TlbEntry.linear(TlbTag.NATIVE, 0, c.flag(false, 30), 0x7000,
                PageSize.SIZE_4K, 0x9000, Rights.UNRESTRICTED, true));
        if (c.flag(true, 30)) {
            t = t.fill(TlbEntry.linear(new TlbTag(1, TlbTag.NO_EPT), 0, false, 0x7000, PageSize.SIZE_4K, 0xA000,
                    Rights.UNRESTRICTED, true));
        }
        return t;
    }
}
