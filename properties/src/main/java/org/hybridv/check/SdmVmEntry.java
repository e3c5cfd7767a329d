package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.EntryOutcome;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;

/**
 * VMLAUNCH and VMRESUME restated from Intel SDM Vol. 3C chapter 26 over the VMCS's raw fields, for the checks the
 * reference models (docs/vmx.md), without calling the reference's VM-entry code: what the instruction must do, and what
 * the processor must look like after it.
 * <ol>
 * <li>VMLAUNCH "VMfailValid(VMLAUNCH with non-clear VMCS)" (error 4) when the launch state is launched; VMRESUME
 * "VMfailValid(VMRESUME with non-launched VMCS)" (error 5) when it is clear (instruction reference, §30.4).</li>
 * <li>§26.2.1.1, checked first, a failure is VMfailValid 7: "The CR3-target count must not be greater than 4"; with
 * the secondary controls in effect only when "activate secondary controls" is 1 ("the logical processor operates as
 * if all the secondary processor-based VM-execution controls were 0" otherwise, §24.6.2): "If the 'enable VPID'
 * VM-execution control is 1, the value of the VPID VM-execution control field must not be 0000H"; with "enable
 * EPT", the EPTP's memory type (bits 2:0) must be one the processor supports — UC (0) or WB (6) — bits 5:3 must be 3
 * (a page-walk length of 4), bit 6 "must be 0 if bit 21 of the IA32_VMX_EPT_VPID_CAP MSR … is read as 0" (the
 * processor's {@code capabilities}), bits 11:7 and
 * bits 63:N (N = MAXPHYADDR) must be 0; "If the 'unrestricted guest' VM-execution control is 1, the 'enable EPT'
 * VM-execution control must also be 1".</li>
 * <li>§26.2.2, then, VMfailValid 8: the host's CR0.PE and PG are fixed to 1 (IA32_VMX_CR0_FIXED0), and a 64-bit host
 * ("host address-space size" 1) runs in IA-32e mode.</li>
 * <li>§26.3.1.1, last: the guest's CR0.PE and PG must be 1 unless "unrestricted guest" is in effect; a failure is a
 * VM-entry failure: a VM exit with basic reason 33 and bit 31 set (§26.8) that loads the host's state; CR2 and PKRU
 * are no VMCS fields and keep their values; the TLB keeps its entries (docs/vmx.md, "Entry failure and the TLB").</li>
 * <li>Otherwise the guest's state is loaded (CR2 and PKRU again kept), the launch state becomes launched, the
 * processor is in non-root operation with its translations tagged by the VPID ("enable VPID" in effect, else 0000H)
 * and, with EPT, the EP4TA (EPTP bits 51:12) (§28.1, §28.3.1); "If the 'enable VPID' VM-execution control is 0",
 * the entry invalidates the mappings of VPID 0000H (§28.3.3.1), and only those.</li>
 * </ol>
 * A VMfailValid changes nothing the reference holds (the VM-instruction error field is reported in the outcome).
 */
public final class SdmVmEntry {
    private SdmVmEntry() {}

    /** The outcome the SDM prescribes. */
    public sealed interface Expected {
        record Entered() implements Expected {}

        record VmFailValid(int error, String why) implements Expected {}

        record EntryFailure(String why) implements Expected {}
    }

    /** VMLAUNCH ({@code resume} false) or VMRESUME from {@code root}, by the SDM's checks in their order. */
    public static Expected expected(VmxProcessor root, boolean resume) {
        if (!resume && root.launched()) {
            return new Expected.VmFailValid(4, "VMLAUNCH with a launched VMCS");
        }
        if (resume && !root.launched()) {
            return new Expected.VmFailValid(5, "VMRESUME with a clear VMCS");
        }
        ExecutionControls c = root.vmcs().controls();
        CpuState guest = root.vmcs().guest().cpu();
        boolean secondary = c.primary().activateSecondaryControls();
        boolean vpid = secondary && c.secondary().enableVpid();
        boolean ept = secondary && c.secondary().enableEpt();
        boolean unrestricted = secondary && c.secondary().unrestrictedGuest();
        if (c.cr3TargetValues().size() > 4) {
            return new Expected.VmFailValid(7, "CR3-target count > 4");
        }
        if (vpid && c.vpid() == 0) {
            return new Expected.VmFailValid(7, "enable VPID with VPID 0000H");
        }
        if (ept) {
            String bad = eptpProblem(c.eptp(), guest.maxPhysAddr(), root.capabilities().eptAccessedDirty());
            if (bad != null) {
                return new Expected.VmFailValid(7, bad);
            }
        }
        if (unrestricted && !ept) {
            return new Expected.VmFailValid(7, "unrestricted guest without enable EPT");
        }
        CpuState host = root.vmcs().host().cpu();
        if (!host.cr0().pe() || !host.cr0().pg()) {
            return new Expected.VmFailValid(8, "host CR0.PE/PG not 1");
        }
        if (!(host.cr0().pg() && host.efer().lme())) {
            return new Expected.VmFailValid(8, "host not in IA-32e mode");
        }
        if (!unrestricted && !(guest.cr0().pe() && guest.cr0().pg())) {
            return new Expected.EntryFailure("guest CR0.PE/PG not 1 without unrestricted guest");
        }
        return new Expected.Entered();
    }

    /** The EPTP checks of §26.2.1.1 on the raw value, or null when it passes. */
    static String eptpProblem(long eptp, int maxPhysAddr, boolean accessedDirtySupported) {
        long memoryType = eptp & 7;
        if (memoryType != 0 && memoryType != 6) {
            return "EPTP memory type " + memoryType;
        }
        if (((eptp >>> 3) & 7) != 3) {
            return "EPTP page-walk length - 1 = " + ((eptp >>> 3) & 7);
        }
        if ((eptp & (1L << 6)) != 0 && !accessedDirtySupported) {
            return "EPTP bit 6 without EPT A/D support";
        }
        if ((eptp & 0xF80L) != 0) {
            return "EPTP bits 11:7 set";
        }
        if (maxPhysAddr < 64 && (eptp >>> maxPhysAddr) != 0) {
            return "EPTP bits 63:" + maxPhysAddr + " set";
        }
        return null;
    }

    /**
     * The words a refusal's explanation must contain to name the check that failed ({@code why} is one of
     * {@link #expected}'s): the instruction for the launch state, the field or control otherwise.
     */
    static String names(String why) {
        String[][] words = {{"VMLAUNCH with", "VMLAUNCH"}, {"VMRESUME with", "VMRESUME"},
            {"CR3-target", "CR3-target"}, {"enable VPID", "VPID 0000H"}, {"EPTP memory type", "memory type"},
            {"EPTP page-walk", "page-walk length"}, {"EPTP bit 6", "bit 6"}, {"EPTP bits 11:7", "11:7"},
            {"EPTP bits 63:", "63:"}, {"unrestricted guest without", "unrestricted guest"},
            {"host CR0", "CR0.PE/PG"}, {"host not in IA-32e", "IA-32e"}, {"guest CR0", "CR0.PE"}};
        for (String[] w : words) {
            if (why.startsWith(w[0])) {
                return w[1];
            }
        }
        throw new IllegalArgumentException("no check named for " + why);
    }

    /** What differs between the reference's {@code step} and the SDM for this entry (empty: it agrees). */
    public static List<String> judge(VmxProcessor root, boolean resume, EntryStep step) {
        List<String> bad = new ArrayList<>();
        Expected e = expected(root, resume);
        EntryOutcome o = step.outcome();
        VmxProcessor post = step.processor();
        CpuState before = root.machine().cpu();
        if (e instanceof Expected.VmFailValid f) {
            if (!(o instanceof EntryOutcome.VmFailValid v) || v.error() != f.error()) {
                bad.add("expected VMfailValid(" + f.error() + ") (" + f.why() + "), got " + o);
            } else if (!post.equals(root)) {
                bad.add("VMfailValid(" + f.error() + ") changed the processor");
            } else if (!v.reason().contains(names(f.why()))) {
                bad.add("VMfailValid(" + f.error() + ") for " + f.why() + " explained as \"" + v.reason()
                        + "\", which does not name the check (\"" + names(f.why()) + "\")");
            }
        } else if (e instanceof Expected.EntryFailure f) {
            if (!(o instanceof EntryOutcome.EntryFailed ef)) {
                bad.add("expected a VM-entry failure (" + f.why() + "), got " + o);
                return bad;
            }
            if (!ef.reason().contains(names(f.why()))) {
                bad.add("VM-entry failure for " + f.why() + " explained as \"" + ef.reason() + "\", which does not"
                        + " name the check (\"" + names(f.why()) + "\")");
            }
            ExitInformation x = post.vmcs().exitInformation();
            if (x == null || x.reason() != ExitReason.INVALID_GUEST_STATE || !x.entryFailure()) {
                bad.add("VM-entry failure: exit information " + x + ", not reason 33 with bit 31");
            }
            CpuState host = root.vmcs().host().cpu().withCr2(before.cr2()).withPkru(before.pkru());
            if (post.mode() != VmxMode.ROOT || !post.machine().cpu().equals(host)) {
                bad.add("VM-entry failure: not in root operation with the host's state (" + post.mode() + ", "
                        + post.machine().cpu() + ")");
            }
            if (!post.machine().tlbTag().equals(TlbTag.NATIVE) || !post.machine().tlb().equals(root.machine()
                    .tlb()) || post.launched() != root.launched()
                    || !post.machine().memory().equals(root.machine().memory())) {
                bad.add("VM-entry failure: the TLB, its tag, memory or the launch state changed");
            }
        } else {
            if (!(o instanceof EntryOutcome.Entered)) {
                bad.add("expected the VM entry to succeed, got " + o);
                return bad;
            }
            ExecutionControls c = root.vmcs().controls();
            boolean secondary = c.primary().activateSecondaryControls();
            boolean vpid = secondary && c.secondary().enableVpid();
            boolean ept = secondary && c.secondary().enableEpt();
            TlbTag tag = new TlbTag(vpid ? c.vpid() : 0, ept ? c.eptp() & 0x000F_FFFF_FFFF_F000L
                    : TlbTag.NO_EPT);
            CpuState guest = root.vmcs().guest().cpu().withCr2(before.cr2()).withPkru(before.pkru());
            if (post.mode() != VmxMode.NON_ROOT || !post.launched() || !post.machine().cpu().equals(guest)) {
                bad.add("entered: not in non-root operation, launched, with the guest's state");
            }
            if (!post.machine().tlbTag().equals(tag)) {
                bad.add("entered: translations tagged " + post.machine().tlbTag() + ", the SDM says " + tag);
            }
            if (!post.vmcs().equals(root.vmcs()) || !post.machine().memory().equals(root.machine().memory())) {
                bad.add("entered: the VMCS or memory changed");
            }
            List<TlbEntry> kept = new ArrayList<>();
            for (TlbEntry t : root.machine().tlb().entries()) {
                if (vpid || t.tag().vpid() != 0) {
                    kept.add(t);
                }
            }
            if (!post.machine().tlb().entries().equals(kept)) {
                bad.add("entered: TLB " + post.machine().tlb().entries() + ", the SDM keeps " + kept
                        + (vpid ? " (enable VPID: nothing invalidated)" : " (VPID 0000H invalidated)"));
            }
            List<PscEntry> keptPsc = new ArrayList<>();
            for (PscEntry t : root.machine().tlb().pscEntries()) {
                if (vpid || t.tag().vpid() != 0) {
                    keptPsc.add(t);
                }
            }
            if (!post.machine().tlb().pscEntries().equals(keptPsc)) {
                bad.add("entered: paging-structure caches " + post.machine().tlb().pscEntries() + ", the SDM"
                        + " keeps " + keptPsc);
            }
        }
        return bad;
    }
}
