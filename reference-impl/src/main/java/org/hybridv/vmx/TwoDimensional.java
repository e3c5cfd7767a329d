package org.hybridv.vmx;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptMisconfiguration;
import org.hybridv.ept.EptPageWalk;
import org.hybridv.ept.EptSupport;
import org.hybridv.ept.EptTranslated;
import org.hybridv.ept.EptTranslation;
import org.hybridv.ept.EptViolation;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.GuestLinear;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.AccessedDirty;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.Walk;
import org.hybridv.x86.X86Machine;

/**
 * A guest memory access with EPT: the 2-dimensional walk (Intel SDM Vol. 3C §28.2.1). Step by step:
 * <ol>
 * <li>Guest CR0.PG = 0: the linear address is the guest-physical address. Otherwise a non-canonical address is #GP.</li>
 * <li>A combined mapping cached for (EP4TA, VPID, PCID) decides the access when it hits (§28.3.1) and its cached EPT
 * permissions allow the access: the guest rights are checked against the current control registers (#PF). A hit
 * whose EPT permissions deny the access, or a write through a mapping not yet dirty, is treated as a miss: the
 * processor re-walks (it may always do so), which reports the EPT violation with its guest-physical address.</li>
 * <li>Otherwise the guest walk, each entry read being an EPT-translated guest-physical access to a paging-structure
 * entry ({@link EptEntryReader}); an EPT violation or misconfiguration there exits with qualification bit 8 = 0.</li>
 * <li>The guest's #PF rules are unchanged and decided next, before the final EPT translation of the data access.</li>
 * <li>Setting the guest's accessed/dirty flags writes guest paging-structure entries: a guest-physical write that EPT
 * must permit (qualification bit 8 = 0, write). The reference makes these writes after a successful walk (it sets
 * A/D only for completed accesses, see {@link AccessedDirty}).</li>
 * <li>The final guest-physical address is translated for the access itself (bit 8 = 1); then memory is accessed,
 * the EPT A/D flags set, and the combined mapping cached.</li>
 * </ol>
 * Guest-physical mappings (EPT-only cached translations) are not modelled: only combined mappings are cached.
 */
final class TwoDimensional {
    private TwoDimensional() {}

    static GuestStep access(VmxProcessor p, Access a) {
        X86Machine m = p.machine();
        CpuState cpu = m.cpu();
        ExecutionControls c = p.vmcs().controls();
        Eptp eptp = new Eptp(c.eptp());
        EptSupport support = p.capabilities().eptSupport(cpu.maxPhysAddr());
        long linear = a.linear();
        org.hybridv.x86.Checks.aligned("linear address", linear, 8);
        if (!cpu.pagingEnabled()) {
            return finalAccess(p, m.memory(), m.memory(), eptp, support, a, linear, null, null);
        }
        if (!Canonical.isCanonical(linear)) {
            return NonRoot.raise(p, GeneralProtection.VECTOR, 0, 0);
        }
        int pcid = cpu.currentPcid();
        TlbEntry cached = m.tlb().lookup(m.tlbTag(), pcid, linear);
        if (cached != null && !(a.isWrite() && !cached.dirty())
                && org.hybridv.ept.EptPermissions.ofBits(cached.stage2()).permits(a.kind())) {
            return viaCombinedMapping(p, cached, a);
        }
        EptEntryReader reader = new EptEntryReader(m.memory(), eptp, support, linear);
        Walk walk = PageWalk.walk(reader, cpu, linear);
        PhysicalMemory host = reader.host();
        if (walk.end() == Walk.End.READ_REFUSED) {
            return eptExit(p.withMachine(m.withMemory(host)), reader.refusal());
        }
        Translation t = PageWalk.decide(walk, cpu, a);
        if (t instanceof PageFault pf) {
            VmxProcessor after = p.withMachine(m.withMemory(host)
                    .withTlb(m.tlb().invalidateOnPageFault(m.tlbTag().vpid(), pcid, linear)));
            return NonRoot.raise(after, PageFault.VECTOR, pf.errorCode().bits(), linear);
        }
        Translated guest = (Translated) t;
        // Step 5: guest A/D writes, each a guest-physical write to a paging-structure entry.
        List<VisitedEntry> hostPath = new ArrayList<>();
        for (int i = 0; i < walk.path().size(); i++) {
            VisitedEntry v = walk.path().get(i);
            boolean leaf = i == walk.path().size() - 1;
            boolean needsWrite = !v.entry().accessed() || (leaf && a.isWrite() && !v.entry().dirty());
            if (needsWrite) {
                EptTranslation w = EptPageWalk.translate(host, eptp, support, v.address(), AccessKind.WRITE,
                        GuestLinear.pagingStructureEntryFor(linear));
                if (!(w instanceof EptTranslated ok)) {
                    return eptExit(p.withMachine(m.withMemory(host)), w);
                }
                host = ok.memory();
            }
            hostPath.add(new VisitedEntry(v.level(), reader.hostAddresses().get(i), v.entry()));
        }
        PhysicalMemory beforeGuestFlags = host;
        host = AccessedDirty.update(host, new Walk(hostPath, Walk.End.MAPPED, walk.pageSize(), walk.physical(),
                walk.rights()), a.isWrite());
        Entry leafAfter = new Entry(host.readPhysical(hostPath.get(hostPath.size() - 1).address()));
        return finalAccess(p, host, beforeGuestFlags, eptp, support, a, guest.physicalAddress(), guest,
                new LeafInfo(leafAfter, walk.rights()));
    }

    private record LeafInfo(Entry leaf, Rights rights) {}

    /**
     * Step 6: the EPT translation of the final guest-physical address, then the data access and the TLB fill. If
     * that translation fails, the guest's accessed/dirty flags are not kept ({@code onFailure} is the memory without
     * them): as in the x86 layer, only a completed access sets them.
     */
    private static GuestStep finalAccess(VmxProcessor p, PhysicalMemory host, PhysicalMemory onFailure, Eptp eptp,
            EptSupport support, Access a, long guestPhysical, Translated guest, LeafInfo leaf) {
        X86Machine m = p.machine();
        EptTranslation t = EptPageWalk.translate(host, eptp, support, guestPhysical, a.kind(),
                GuestLinear.translationOf(a.linear()));
        if (!(t instanceof EptTranslated ok)) {
            return eptExit(p.withMachine(m.withMemory(onFailure)), t);
        }
        PhysicalMemory memory = ok.memory();
        long hpa = ok.hostPhysical();
        long value;
        if (a.isWrite()) {
            memory = memory.writePhysical(hpa & ~7L, a.value());
            value = a.value();
        } else {
            value = memory.readPhysical(hpa & ~7L);
        }
        Tlb tlb = m.tlb();
        if (guest != null) {
            PageSize size = guest.pageSize().bytes() <= ok.pageSize().bytes() ? guest.pageSize() : ok.pageSize();
            boolean eptDirty = !eptp.accessedDirtyEnabled() || new org.hybridv.ept.EptEntry(
                    memory.readPhysical(ok.path().get(ok.path().size() - 1).address())).dirty();
            tlb = tlb.fill(new TlbEntry(m.tlbTag(), m.cpu().currentPcid(),
                    leaf.leaf().global() && m.cpu().cr4().pge(), size.base(a.linear()), size, size.base(hpa),
                    leaf.rights(), leaf.leaf().dirty() && eptDirty, ok.permissions().bits()));
        }
        return new GuestStep(new GuestOutcome.Retired(value), p.withMachine(m.withMemory(memory).withTlb(tlb)));
    }

    /** Step 2: a hit on a combined mapping that EPT permits — the guest rights decide. */
    private static GuestStep viaCombinedMapping(VmxProcessor p, TlbEntry cached, Access a) {
        X86Machine m = p.machine();
        Translation t = PageWalk.checkRights(cached.translate(a.linear()), cached.pageSize(), cached.rights(),
                m.cpu(), a);
        if (t instanceof PageFault pf) {
            VmxProcessor after = p.withMachine(m.withTlb(
                    m.tlb().invalidateOnPageFault(m.tlbTag().vpid(), m.cpu().currentPcid(), a.linear())));
            return NonRoot.raise(after, PageFault.VECTOR, pf.errorCode().bits(), a.linear());
        }
        long hpa = cached.translate(a.linear());
        if (a.isWrite()) {
            return new GuestStep(new GuestOutcome.Retired(a.value()),
                    p.withMachine(m.withMemory(m.memory().writePhysical(hpa & ~7L, a.value()))));
        }
        return new GuestStep(new GuestOutcome.Retired(m.memory().readPhysical(hpa & ~7L)), p);
    }

    /**
     * A VM exit for an EPT violation (§27.2.1 table 27-7, guest-physical and guest-linear fields) or misconfiguration.
     * An EPT violation first makes the invalidation of {@link #eptViolationInvalidation}; the SDM states none for an
     * EPT misconfiguration (§28.3.3.1 lists EPT violations only), so that exit leaves the TLB alone.
     */
    static GuestStep eptExit(VmxProcessor p, EptTranslation t) {
        if (t instanceof EptViolation v) {
            p = p.withMachine(p.machine().withTlb(eptViolationInvalidation(p.machine(), v)));
            return NonRoot.exit(p, new ExitInformation(ExitReason.EPT_VIOLATION, false, v.qualification().bits(),
                    v.linear().valid() ? v.linear().linearAddress() : 0, v.guestPhysical(), InterruptionInfo.NONE,
                    0, 0));
        }
        EptMisconfiguration mc = (EptMisconfiguration) t;
        return NonRoot.exit(p, new ExitInformation(ExitReason.EPT_MISCONFIG, false, 0, 0, mc.guestPhysical(),
                InterruptionInfo.NONE, 0, 0));
    }

    /**
     * The cached mappings an EPT violation invalidates (Intel SDM Vol. 3C §28.3.3.1), in the context of the guest at
     * the moment of the violation ({@code m}'s tag and current PCID):
     * <ul>
     * <li>the guest-physical mappings of the current EP4TA that would translate the faulting guest-physical address:
     * this reference does not model guest-physical mappings (it caches combined mappings only), so there is nothing
     * to remove;</li>
     * <li>if that guest-physical address was the translation of a linear address (exit qualification bit 8 = 1,
     * {@link GuestLinear#translatedAccess()}; not for an access to a guest paging-structure entry), the combined
     * mappings for that linear address associated with the current PCID, the current VPID and the current EP4TA
     * ({@link Tlb#invalidateCombined}).</li>
     * </ul>
     */
    static Tlb eptViolationInvalidation(X86Machine m, EptViolation v) {
        GuestLinear linear = v.linear();
        if (!linear.valid() || !linear.translatedAccess()) {
            return m.tlb();
        }
        return m.tlb().invalidateCombined(m.tlbTag(), m.cpu().currentPcid(), linear.linearAddress());
    }
}
