package org.hybridv.explore;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.HostState;
import org.hybridv.vmx.InterruptionInfo;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxMode;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.hybridv.xen.AtaDisk;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Domain;
import org.hybridv.xen.EmulatedDevices;
import org.hybridv.xen.EmulatedDevices.TimerInterrupt;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.PageType;
import org.hybridv.xen.Pcpu;
import org.hybridv.xen.ShadowState;
import org.hybridv.xen.TlbFlushClock;
import org.hybridv.xen.TlbFlushState;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Handwritten canonical encoders for the record types a step rebuilds (the machine, its pCPUs, the domain and vCPU
 * of the step, their VMCS, CPU state, TLB entries, and the frame table's entries): each writes exactly the words the
 * generic record walk of {@link CanonicalEncoder} writes — the class tag, then every component in declaration order,
 * a number or boolean as one word and anything else through {@link CanonicalEncoder#encode} — without its
 * reflective accessors. Same bytes, so the same fingerprints (checkpoints and counterexamples do not change);
 * {@code CanonicalEncoderTest} compares the two on every state of explorations.
 *
 * <p>An encoder is used only while its record still has the components it was written for (names, in order,
 * checked once when this class loads); a record that gained or lost a component is encoded by the generic walk
 * (never wrongly), and {@link #stale()} names it so that a test fails until the encoder is brought up to date.
 */
final class HandEncoders {
    private HandEncoders() {}

    static final int NONE = -1;
    private static final int XEN_MACHINE = 0;
    private static final int PCPU = 1;
    private static final int DOMAIN = 2;
    private static final int VCPU = 3;
    private static final int VCPU_ID = 4;
    private static final int VMCS = 5;
    private static final int GUEST_STATE = 6;
    private static final int HOST_STATE = 7;
    private static final int EXIT_INFORMATION = 8;
    private static final int INTERRUPTION_INFO = 9;
    private static final int CPU_STATE = 10;
    private static final int CR0 = 11;
    private static final int CR3 = 12;
    private static final int CR4 = 13;
    private static final int EFER = 14;
    private static final int SHADOW_STATE = 15;
    private static final int TLB_TAG = 16;
    private static final int TLB_ENTRY = 17;
    private static final int RIGHTS = 18;
    private static final int FRAME_INFO = 19;
    private static final int TLB_FLUSH_CLOCK = 20;
    private static final int CPUID_IDENTITY = 21;
    private static final int EMULATED_DEVICES = 22;
    private static final int TLB_FLUSH_STATE = 23;
    private static final int TIMER_INTERRUPT = 24;
    private static final int ATA_DISK = 25;

    /** Per handled record, its code and the components (in order) its encoder writes. */
    private static final Map<Class<?>, Object[]> WRITTEN_FOR = Map.ofEntries(
            Map.entry(XenMachine.class, new Object[] {XEN_MACHINE,
                "memory,pcpus,active,frames,guestTables,domains,faults,tlbFlush,pv"}),
            Map.entry(Pcpu.class, new Object[] {PCPU, "cpu,tlb,tlbTag,mode,vmcs,launched,current"}),
            Map.entry(Domain.class, new Object[] {DOMAIN,
                "id,mode,p2m,vcpus,eptp,hypercallPageInstalled,identity,devices"}),
            Map.entry(Vcpu.class, new Object[] {VCPU, "id,vmcs,launched,blocked,shadow,pcpu,continuation"}),
            Map.entry(VcpuId.class, new Object[] {VCPU_ID, "domain,vcpu"}),
            Map.entry(Vmcs.class, new Object[] {VMCS, "controls,guest,host,exitInformation"}),
            Map.entry(GuestState.class, new Object[] {GUEST_STATE, "cpu,rip"}),
            Map.entry(HostState.class, new Object[] {HOST_STATE, "cpu,rip"}),
            Map.entry(ExitInformation.class, new Object[] {EXIT_INFORMATION, "reason,entryFailure,qualification,"
                    + "guestLinearAddress,guestPhysicalAddress,interruption,interruptionErrorCode,instructionLength"}),
            Map.entry(InterruptionInfo.class, new Object[] {INTERRUPTION_INFO, "vector,type,errorCodeValid,valid"}),
            Map.entry(CpuState.class, new Object[] {CPU_STATE, "cr0,cr2,cr3,cr4,efer,ac,cpl,pkru,maxPhysAddr"}),
            Map.entry(Cr0.class, new Object[] {CR0, "pe,wp,pg"}),
            Map.entry(Cr3.class, new Object[] {CR3, "pml4Base,pcid"}),
            Map.entry(Cr4.class, new Object[] {CR4, "pse,pae,pge,pcide,smep,smap,pke"}),
            Map.entry(Efer.class, new Object[] {EFER, "lme,nxe"}),
            Map.entry(ShadowState.class, new Object[] {SHADOW_STATE, "guestCr3,root,tables"}),
            Map.entry(TlbTag.class, new Object[] {TLB_TAG, "vpid,ep4ta"}),
            Map.entry(TlbEntry.class, new Object[] {TLB_ENTRY,
                "tag,pcid,global,linearBase,pageSize,physicalBase,rights,dirty,stage2"}),
            Map.entry(Rights.class, new Object[] {RIGHTS, "writable,user,executeDisable,protectionKey"}),
            Map.entry(FrameInfo.class, new Object[] {FRAME_INFO,
                "owner,type,typeCount,count,validated,pinned,linearCount,tlbflushTimestamp"}),
            Map.entry(TlbFlushClock.class, new Object[] {TLB_FLUSH_CLOCK, "width,now,cpuTime"}),
            Map.entry(TlbFlushState.class, new Object[] {TLB_FLUSH_STATE,
                "clock,dirtyCpumasks,pendingFlushes,inFlight"}),
            Map.entry(CpuidIdentity.class, new Object[] {CPUID_IDENTITY,
                "personality,base,signature,leaves,hypervisorBit"}),
            Map.entry(EmulatedDevices.class, new Object[] {EMULATED_DEVICES,
                "lvtTimer,initCount,curCount,divConf,eois,uartTx,uartLcr,interrupt,ata,timerPhase"}),
            Map.entry(TimerInterrupt.class, new Object[] {TIMER_INTERRUPT,
                "requested,inService,pvEoi,pvEoiPending,injected"}),
            Map.entry(AtaDisk.class, new Object[] {ATA_DISK,
                "count,lba,device,status,error,command,pos,buffer,written"}));

    /** A record's components as the encoders name them: "a,b,c". */
    static String components(Class<?> c) {
        RecordComponent[] rc = c.getRecordComponents();
        return rc == null ? "" : Arrays.stream(rc).map(RecordComponent::getName).collect(Collectors.joining(","));
    }

    private static final ClassValue<Integer> CODE = new ClassValue<>() {
        @Override
        protected Integer computeValue(Class<?> c) {
            Object[] w = WRITTEN_FOR.get(c);
            return w != null && components(c).equals(w[1]) ? (Integer) w[0] : NONE;
        }
    };

    /** Per code, whether its record still has the components its encoder was written for. */
    private static final boolean[] ACTIVE = new boolean[ATA_DISK + 1];

    static {
        for (Class<?> c : WRITTEN_FOR.keySet()) {
            int code = CODE.get(c);
            if (code != NONE) {
                ACTIVE[code] = true;
            }
        }
    }

    /** The handled records whose components are no longer those their encoder was written for (generic walk). */
    static List<String> stale() {
        return WRITTEN_FOR.keySet().stream().filter(c -> CODE.get(c) == NONE || code(c) != CODE.get(c)).map(Class::getName).sorted().toList();
    }

    /** The handled record classes. */
    static java.util.Set<Class<?>> handled() {
        return WRITTEN_FOR.keySet();
    }

    private static final long T_XEN_MACHINE = Fingerprint.of(XenMachine.class.getName());
    private static final long T_PCPU = Fingerprint.of(Pcpu.class.getName());
    private static final long T_DOMAIN = Fingerprint.of(Domain.class.getName());
    private static final long T_VCPU = Fingerprint.of(Vcpu.class.getName());
    private static final long T_VCPU_ID = Fingerprint.of(VcpuId.class.getName());
    private static final long T_VMCS = Fingerprint.of(Vmcs.class.getName());
    private static final long T_GUEST_STATE = Fingerprint.of(GuestState.class.getName());
    private static final long T_HOST_STATE = Fingerprint.of(HostState.class.getName());
    private static final long T_EXIT_INFORMATION = Fingerprint.of(ExitInformation.class.getName());
    private static final long T_INTERRUPTION_INFO = Fingerprint.of(InterruptionInfo.class.getName());
    private static final long T_CPU_STATE = Fingerprint.of(CpuState.class.getName());
    private static final long T_CR0 = Fingerprint.of(Cr0.class.getName());
    private static final long T_CR3 = Fingerprint.of(Cr3.class.getName());
    private static final long T_CR4 = Fingerprint.of(Cr4.class.getName());
    private static final long T_EFER = Fingerprint.of(Efer.class.getName());
    private static final long T_SHADOW_STATE = Fingerprint.of(ShadowState.class.getName());
    private static final long T_TLB_TAG = Fingerprint.of(TlbTag.class.getName());
    private static final long T_TLB_ENTRY = Fingerprint.of(TlbEntry.class.getName());
    private static final long T_RIGHTS = Fingerprint.of(Rights.class.getName());
    private static final long T_FRAME_INFO = Fingerprint.of(FrameInfo.class.getName());
    private static final long T_TLB_FLUSH_CLOCK = Fingerprint.of(TlbFlushClock.class.getName());
    private static final long T_TLB_FLUSH_STATE = Fingerprint.of(TlbFlushState.class.getName());
    private static final long T_CPUID_IDENTITY = Fingerprint.of(CpuidIdentity.class.getName());
    private static final long T_EMULATED_DEVICES = Fingerprint.of(EmulatedDevices.class.getName());
    private static final long T_TIMER_INTERRUPT = Fingerprint.of(TimerInterrupt.class.getName());
    private static final long T_ATA_DISK = Fingerprint.of(AtaDisk.class.getName());

    /**
     * Encodes {@code v} (not null, a record) into {@code f} as the generic walk would with the identity relabelling,
     * if its class has an up-to-date encoder: whether it did.
     */
    static boolean encode(Object v, Fingerprint f) {
        int code = code(v.getClass());
        if (code == NONE || !ACTIVE[code]) {
            return false;
        }
        switch (code) {
            case XEN_MACHINE -> {
                XenMachine m = (XenMachine) v;
                f.add(T_XEN_MACHINE);
                any(m.memory(), f);
                List<Pcpu> pcpus = m.pcpus();
                if (pcpus == null) {
                    any(null, f);
                } else {
                    f.add(pcpus.size());
                    for (int i = 0; i < pcpus.size(); i++) {
                        any(pcpus.get(i), f);
                    }
                }
                f.add(m.active());
                any(m.frames(), f);
                any(m.guestTables(), f);
                any(m.domains(), f);
                any(m.faults(), f);
                any(m.tlbFlush(), f);
                any(m.pv(), f);
            }
            case PCPU -> {
                Pcpu p = (Pcpu) v;
                f.add(T_PCPU);
                cpuState(p.cpu(), f);
                any(p.tlb(), f);
                tlbTag(p.tlbTag(), f);
                enumConstant(p.mode(), f);
                any(p.vmcs(), f);
                f.add(p.launched());
                any(p.current(), f);
            }
            case DOMAIN -> {
                Domain d = (Domain) v;
                f.add(T_DOMAIN);
                f.add(d.id());
                enumConstant(d.mode(), f);
                any(d.p2m(), f);
                List<Vcpu> vcpus = d.vcpus();
                if (vcpus == null) {
                    any(null, f);
                } else {
                    f.add(vcpus.size());
                    for (int i = 0; i < vcpus.size(); i++) {
                        any(vcpus.get(i), f);
                    }
                }
                f.add(d.eptp());
                f.add(d.hypercallPageInstalled());
                cpuidIdentity(d.identity(), f);
                any(d.devices(), f); // memoised by identity: most steps leave a domain's devices alone
            }
            case VCPU -> {
                Vcpu c = (Vcpu) v;
                f.add(T_VCPU);
                vcpuId(c.id(), f);
                any(c.vmcs(), f);
                f.add(c.launched());
                f.add(c.blocked());
                shadowState(c.shadow(), f);
                f.add(c.pcpu());
                any(c.continuation(), f);
            }
            case VCPU_ID -> vcpuId((VcpuId) v, f);
            case VMCS -> {
                Vmcs c = (Vmcs) v;
                f.add(T_VMCS);
                any(c.controls(), f);
                guestState(c.guest(), f);
                hostState(c.host(), f);
                exitInformation(c.exitInformation(), f);
            }
            case GUEST_STATE -> guestState((GuestState) v, f);
            case HOST_STATE -> hostState((HostState) v, f);
            case EXIT_INFORMATION -> exitInformation((ExitInformation) v, f);
            case INTERRUPTION_INFO -> interruptionInfo((InterruptionInfo) v, f);
            case CPU_STATE -> cpuState((CpuState) v, f);
            case CR0 -> cr0((Cr0) v, f);
            case CR3 -> cr3((Cr3) v, f);
            case CR4 -> cr4((Cr4) v, f);
            case EFER -> efer((Efer) v, f);
            case SHADOW_STATE -> shadowState((ShadowState) v, f);
            case TLB_TAG -> tlbTag((TlbTag) v, f);
            case TLB_ENTRY -> tlbEntry((TlbEntry) v, f);
            case RIGHTS -> rights((Rights) v, f);
            case FRAME_INFO -> frameInfo((FrameInfo) v, f);
            case TLB_FLUSH_CLOCK -> tlbFlushClock((TlbFlushClock) v, f);
            case TLB_FLUSH_STATE -> {
                // its maps are private copies the record's constructor makes and wraps unmodifiable, never changed
                // afterwards: their sorted entry fingerprints are memoised by identity, as a frozen map's are
                TlbFlushState t = (TlbFlushState) v;
                f.add(T_TLB_FLUSH_STATE);
                tlbFlushClock(t.clock(), f);
                CanonicalEncoder.immutableMap(t.dirtyCpumasks(), f);
                CanonicalEncoder.immutableMap(t.pendingFlushes(), f);
                CanonicalEncoder.immutableMap(t.inFlight(), f);
            }
            case CPUID_IDENTITY -> cpuidIdentity((CpuidIdentity) v, f);
            case EMULATED_DEVICES -> emulatedDevices((EmulatedDevices) v, f);
            case TIMER_INTERRUPT -> timerInterrupt((TimerInterrupt) v, f);
            case ATA_DISK -> ataDisk((AtaDisk) v, f);
            default -> {
                return false;
            }
        }
        return true;
    }

    /**
     * The encoder of class {@code c}, by identity comparisons in the order of how often a step rebuilds each (cheaper
     * than a {@code ClassValue} lookup on this path).
     */
    private static int code(Class<?> c) {
        if (c == CpuState.class) {
            return CPU_STATE;
        } else if (c == FrameInfo.class) {
            return FRAME_INFO;
        } else if (c == Vmcs.class) {
            return VMCS;
        } else if (c == Vcpu.class) {
            return VCPU;
        } else if (c == Domain.class) {
            return DOMAIN;
        } else if (c == XenMachine.class) {
            return XEN_MACHINE;
        } else if (c == Pcpu.class) {
            return PCPU;
        } else if (c == TlbEntry.class) {
            return TLB_ENTRY;
        } else if (c == VcpuId.class) {
            return VCPU_ID;
        } else if (c == TlbFlushClock.class) {
            return TLB_FLUSH_CLOCK;
        } else if (c == TlbFlushState.class) {
            return TLB_FLUSH_STATE;
        } else if (c == TlbTag.class) {
            return TLB_TAG;
        } else if (c == ShadowState.class) {
            return SHADOW_STATE;
        } else if (c == ExitInformation.class) {
            return EXIT_INFORMATION;
        } else if (c == InterruptionInfo.class) {
            return INTERRUPTION_INFO;
        } else if (c == GuestState.class) {
            return GUEST_STATE;
        } else if (c == HostState.class) {
            return HOST_STATE;
        } else if (c == Cr0.class) {
            return CR0;
        } else if (c == Cr3.class) {
            return CR3;
        } else if (c == Cr4.class) {
            return CR4;
        } else if (c == Efer.class) {
            return EFER;
        } else if (c == Rights.class) {
            return RIGHTS;
        } else if (c == CpuidIdentity.class) {
            return CPUID_IDENTITY;
        } else if (c == EmulatedDevices.class) {
            return EMULATED_DEVICES;
        } else if (c == TimerInterrupt.class) {
            return TIMER_INTERRUPT;
        } else if (c == AtaDisk.class) {
            return ATA_DISK;
        }
        return NONE;
    }

    /** Any value, through the encoder's dispatch (memo, containers, enums, records). */
    private static void any(Object v, Fingerprint f) {
        CanonicalEncoder.encode(v, f);
    }

    private static void enumConstant(Enum<?> e, Fingerprint f) {
        if (e == null) {
            any(null, f);
        } else if (e.getClass() == PageType.class) {
            f.add(PAGE_TYPES[e.ordinal()]);
        } else if (e.getClass() == ExitReason.class) {
            f.add(EXIT_REASONS[e.ordinal()]);
        } else if (e.getClass() == VmxMode.class) {
            f.add(VMX_MODES[e.ordinal()]);
        } else {
            f.add(CanonicalEncoder.enumTag(e));
        }
    }

    /** The words of the page types (every frame-table entry has one), as {@link CanonicalEncoder#enumTag} gives them. */
    private static final long[] PAGE_TYPES = Arrays.stream(PageType.values()).mapToLong(CanonicalEncoder::enumTag)
            .toArray();
    /** The words of the exit reasons (every VMCS's exit information has one) and of the VMX modes (every pCPU's). */
    private static final long[] EXIT_REASONS = Arrays.stream(ExitReason.values())
            .mapToLong(CanonicalEncoder::enumTag).toArray();
    private static final long[] VMX_MODES = Arrays.stream(VmxMode.values()).mapToLong(CanonicalEncoder::enumTag)
            .toArray();

    /** A list of boxed longs, as the generic walk encodes a list. */
    private static void longs(List<Long> l, Fingerprint f) {
        if (l == null) {
            any(null, f);
            return;
        }
        f.add(l.size());
        for (int i = 0; i < l.size(); i++) {
            Long x = l.get(i);
            if (x == null) {
                any(null, f);
            } else {
                f.add(x.longValue());
            }
        }
    }

    private static void vcpuId(VcpuId v, Fingerprint f) {
        if (v == null || !ACTIVE[VCPU_ID]) {
            any(v, f);
            return;
        }
        f.add(T_VCPU_ID);
        f.add(v.domain());
        f.add(v.vcpu());
    }

    private static void guestState(GuestState g, Fingerprint f) {
        if (g == null || !ACTIVE[GUEST_STATE]) {
            any(g, f);
            return;
        }
        f.add(T_GUEST_STATE);
        cpuState(g.cpu(), f);
        f.add(g.rip());
    }

    private static void hostState(HostState h, Fingerprint f) {
        if (h == null || !ACTIVE[HOST_STATE]) {
            any(h, f);
            return;
        }
        f.add(T_HOST_STATE);
        cpuState(h.cpu(), f);
        f.add(h.rip());
    }

    private static void exitInformation(ExitInformation x, Fingerprint f) {
        if (x == null || !ACTIVE[EXIT_INFORMATION]) {
            any(x, f);
            return;
        }
        f.add(T_EXIT_INFORMATION);
        enumConstant(x.reason(), f);
        f.add(x.entryFailure());
        f.add(x.qualification());
        f.add(x.guestLinearAddress());
        f.add(x.guestPhysicalAddress());
        interruptionInfo(x.interruption(), f);
        f.add(x.interruptionErrorCode());
        f.add(x.instructionLength());
    }

    private static void interruptionInfo(InterruptionInfo x, Fingerprint f) {
        if (x == null || !ACTIVE[INTERRUPTION_INFO]) {
            any(x, f);
            return;
        }
        f.add(T_INTERRUPTION_INFO);
        f.add(x.vector());
        f.add(x.type());
        f.add(x.errorCodeValid());
        f.add(x.valid());
    }

    private static void cpuState(CpuState c, Fingerprint f) {
        if (c == null || !ACTIVE[CPU_STATE]) {
            any(c, f);
            return;
        }
        f.add(T_CPU_STATE);
        cr0(c.cr0(), f);
        f.add(c.cr2());
        cr3(c.cr3(), f);
        cr4(c.cr4(), f);
        efer(c.efer(), f);
        f.add(c.ac());
        f.add(c.cpl());
        f.add(c.pkru());
        f.add(c.maxPhysAddr());
    }

    private static void cr0(Cr0 c, Fingerprint f) {
        if (c == null || !ACTIVE[CR0]) {
            any(c, f);
            return;
        }
        f.add(T_CR0);
        f.add(c.pe());
        f.add(c.wp());
        f.add(c.pg());
    }

    private static void cr3(Cr3 c, Fingerprint f) {
        if (c == null || !ACTIVE[CR3]) {
            any(c, f);
            return;
        }
        f.add(T_CR3);
        f.add(c.pml4Base());
        f.add(c.pcid());
    }

    private static void cr4(Cr4 c, Fingerprint f) {
        if (c == null || !ACTIVE[CR4]) {
            any(c, f);
            return;
        }
        f.add(T_CR4);
        f.add(c.pse());
        f.add(c.pae());
        f.add(c.pge());
        f.add(c.pcide());
        f.add(c.smep());
        f.add(c.smap());
        f.add(c.pke());
    }

    private static void efer(Efer e, Fingerprint f) {
        if (e == null || !ACTIVE[EFER]) {
            any(e, f);
            return;
        }
        f.add(T_EFER);
        f.add(e.lme());
        f.add(e.nxe());
    }

    private static void shadowState(ShadowState s, Fingerprint f) {
        if (s == null || !ACTIVE[SHADOW_STATE]) {
            any(s, f);
            return;
        }
        f.add(T_SHADOW_STATE);
        f.add(s.guestCr3());
        f.add(s.root());
        longs(s.tables(), f);
    }

    private static void tlbTag(TlbTag t, Fingerprint f) {
        if (t == null || !ACTIVE[TLB_TAG]) {
            any(t, f);
            return;
        }
        f.add(T_TLB_TAG);
        f.add(t.vpid());
        f.add(t.ep4ta());
    }

    private static void tlbEntry(TlbEntry e, Fingerprint f) {
        f.add(T_TLB_ENTRY);
        tlbTag(e.tag(), f);
        f.add(e.pcid());
        f.add(e.global());
        f.add(e.linearBase());
        enumConstant(e.pageSize(), f);
        f.add(e.physicalBase());
        rights(e.rights(), f);
        f.add(e.dirty());
        f.add(e.stage2());
    }

    private static void rights(Rights r, Fingerprint f) {
        if (r == null || !ACTIVE[RIGHTS]) {
            any(r, f);
            return;
        }
        f.add(T_RIGHTS);
        f.add(r.writable());
        f.add(r.user());
        f.add(r.executeDisable());
        f.add(r.protectionKey());
    }

    /**
     * A frame-table entry (not null), as {@link #encode} writes it, called straight from the frame table's loop (about
     * 70 entries each time a frame table is encoded) without the encoder's dispatch.
     */
    static void frameTableEntry(FrameInfo i, Fingerprint f) {
        if (ACTIVE[FRAME_INFO]) {
            frameInfo(i, f);
        } else {
            any(i, f);
        }
    }

    private static void frameInfo(FrameInfo i, Fingerprint f) {
        f.add(T_FRAME_INFO);
        f.add(i.owner());
        enumConstant(i.type(), f);
        f.add(i.typeCount());
        f.add(i.count());
        f.add(i.validated());
        f.add(i.pinned());
        f.add(i.linearCount());
        f.add(i.tlbflushTimestamp());
    }

    private static void tlbFlushClock(TlbFlushClock c, Fingerprint f) {
        if (c == null || !ACTIVE[TLB_FLUSH_CLOCK]) {
            any(c, f);
            return;
        }
        f.add(T_TLB_FLUSH_CLOCK);
        f.add(c.width());
        f.add(c.now());
        longs(c.cpuTime(), f);
    }

    private static void cpuidIdentity(CpuidIdentity c, Fingerprint f) {
        if (c == null || !ACTIVE[CPUID_IDENTITY]) {
            any(c, f);
            return;
        }
        f.add(T_CPUID_IDENTITY);
        enumConstant(c.personality(), f);
        f.add(c.base());
        if (c.signature() == null) {
            any(null, f);
        } else {
            f.add(c.signature());
        }
        f.add(c.leaves());
        f.add(c.hypervisorBit());
    }

    private static void emulatedDevices(EmulatedDevices d, Fingerprint f) {
        if (d == null || !ACTIVE[EMULATED_DEVICES]) {
            any(d, f);
            return;
        }
        f.add(T_EMULATED_DEVICES);
        f.add(d.lvtTimer());
        f.add(d.initCount());
        f.add(d.curCount());
        f.add(d.divConf());
        f.add(d.eois());
        f.add(d.uartTx());
        f.add(d.uartLcr());
        timerInterrupt(d.interrupt(), f);
        ataDisk(d.ata(), f);
        f.add(d.timerPhase());
    }

    private static void timerInterrupt(TimerInterrupt t, Fingerprint f) {
        if (t == null || !ACTIVE[TIMER_INTERRUPT]) {
            any(t, f);
            return;
        }
        f.add(T_TIMER_INTERRUPT);
        f.add(t.requested());
        f.add(t.inService());
        f.add(t.pvEoi());
        f.add(t.pvEoiPending());
        f.add(t.injected());
    }

    /**
     * The ATA disk of a domain's devices: re-encoded whenever its domain is (a step that changes a vCPU rebuilds the
     * domain), 64 buffer words and the written sectors each time. Its map of written sectors is a private copy the
     * record's constructor makes and wraps unmodifiable, never changed afterwards: its sorted entry fingerprints are
     * memoised by identity, as a frozen map's are.
     */
    private static void ataDisk(AtaDisk a, Fingerprint f) {
        if (a == null || !ACTIVE[ATA_DISK]) {
            any(a, f);
            return;
        }
        f.add(T_ATA_DISK);
        f.add(a.count());
        f.add(a.lba());
        f.add(a.device());
        f.add(a.status());
        f.add(a.error());
        f.add(a.command());
        f.add(a.pos());
        longs(a.buffer(), f);
        CanonicalEncoder.immutableMap(a.written(), f);
    }
}
