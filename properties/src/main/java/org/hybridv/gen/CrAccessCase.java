package org.hybridv.gen;

import java.util.List;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.PrimaryControls;
import org.hybridv.x86.CpuState;

/**
 * A control-register access in VMX non-root operation: the guest (IA-32e paging at CPL {@code cpl}, its CR0 and CR4
 * as generated), the CR-access controls (CR0 and CR4 guest/host masks and read shadows, CR3-load exiting with up to
 * four CR3-target values, CR3-store exiting), whether #GP (vector 13) is in the exception bitmap, and one MOV to or
 * from CR0, CR2, CR3 or CR4.
 */
public record CrAccessCase(CpuState guest, long cr0Mask, long cr0Shadow, long cr4Mask, long cr4Shadow,
        boolean cr3LoadExiting, boolean cr3StoreExiting, List<Long> cr3Targets, boolean gpExits,
        GuestInstruction insn) {
    public CrAccessCase {
        cr3Targets = List.copyOf(cr3Targets);
    }

    /** The VM-execution controls of the case. */
    public ExecutionControls controls() {
        PrimaryControls p = PrimaryControls.NONE.withCr3LoadExiting(cr3LoadExiting)
                .withCr3StoreExiting(cr3StoreExiting);
        return ExecutionControls.none().withPrimary(p).withCr0Ownership(cr0Mask, cr0Shadow)
                .withCr4Ownership(cr4Mask, cr4Shadow).withCr3TargetValues(cr3Targets)
                .withExceptionControls(gpExits ? 1 << 13 : 0, 0, 0);
    }
}
