package org.hybridv.gen;

import java.util.List;
import org.hybridv.ept.InveptType;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.InvpcidType;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;

/**
 * A TLB-invalidation case (Intel SDM Vol. 3A §4.10.4.1, Vol. 3C §28.3.3): the translations cached, in fill order, by
 * earlier steps of the sequence (under several VPIDs, EP4TAs and PCIDs, global or not, 4-KByte and 2-MByte pages), the
 * paging-structure-cache entries cached (PML4-, PDPTE- and PDE-cache, §4.10.3, under the same tags), and one
 * invalidating operation together with the context it runs in. Each {@link Op} carries what the SDM's rule for it
 * needs, so that a judge can state the rule without running the reference.
 */
public record TlbScopeCase(List<TlbEntry> fills, List<PscEntry> pscFills, Op op) {
    public TlbScopeCase {
        fills = List.copyOf(fills);
        pscFills = List.copyOf(pscFills);
    }

    /** A case with no paging-structure-cache entries. */
    public TlbScopeCase(List<TlbEntry> fills, Op op) {
        this(fills, List.of(), op);
    }

    /** An invalidating operation and its context. */
    public sealed interface Op {}

    /** INVLPG of {@code linear} at CPL 0 in context {@code tag} with {@code pcid} current. */
    public record Invlpg(TlbTag tag, int pcid, long linear) implements Op {}

    /**
     * MOV to CR3 in context {@code tag}: with {@code pcide} the operand names {@code newPcid} and, with
     * {@code noFlush}, sets bit 63; without PCIDE the PCID is 000H and bit 63 is clear.
     */
    public record MovToCr3(TlbTag tag, boolean pcide, int newPcid, boolean noFlush) implements Op {}

    /**
     * MOV to CR4 from {@code old} to {@code next} in context {@code tag} with {@code currentPcid}; {@code paging}
     * false: CR0.PG = 0 (outside IA-32e mode, where PAE may change).
     */
    public record MovToCr4(TlbTag tag, int currentPcid, Cr4 old, Cr4 next, boolean paging) implements Op {}

    /** MOV to CR0 clearing PG (CR4.PCIDE = 0) in context {@code tag}. */
    public record MovToCr0ClearingPg(TlbTag tag) implements Op {}

    /** A read at CPL 3 of {@code linear} that page-faults, in context {@code tag} with {@code pcid} current. */
    public record PageFault(TlbTag tag, int pcid, long linear) implements Op {}

    /** INVVPID in root operation. */
    public record Invvpid(InvvpidType type, int vpid, long linear) implements Op {}

    /** INVEPT in root operation with a valid EPTP whose bits 51:12 are {@code ep4ta}. */
    public record Invept(InveptType type, long ep4ta) implements Op {}

    /** VMLAUNCH with "enable VPID" = {@code vpidEnabled} (VPID {@code vpid}) and EPT with {@code ep4ta} if combined. */
    public record VmEntry(boolean vpidEnabled, int vpid, long ep4ta) implements Op {}

    /** A VM exit (CPUID) from a guest running in context {@code tag} with "enable VPID" = {@code vpidEnabled}. */
    public record VmExit(boolean vpidEnabled, TlbTag tag) implements Op {}

    /**
     * A guest write to {@code linear} under EPT (context {@code tag}, PCID 000H) whose EPT has nothing present: an
     * EPT violation on the translation of the address ({@code translatedAccess}: guest CR0.PG = 0, qualification
     * bit 8 = 1) or on the guest's first paging-structure read (bit 8 = 0); then the VM exit.
     */
    public record EptViolation(boolean vpidEnabled, TlbTag tag, boolean translatedAccess, long linear) implements Op {}

    /**
     * INVPCID {@code type} at CPL 0 in context {@code tag} with CR4.PCIDE = {@code pcide} and {@code currentPcid}
     * current, for descriptor PCID {@code pcid} and linear address {@code linear}; the operands never fault (with
     * PCIDE = 0, types 0 and 1 name PCID 000H).
     */
    public record Invpcid(TlbTag tag, boolean pcide, int currentPcid, InvpcidType type, int pcid, long linear)
            implements Op {}
}
