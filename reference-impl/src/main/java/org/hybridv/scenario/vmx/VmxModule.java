package org.hybridv.scenario.vmx;

import java.util.List;
import java.util.Locale;
import org.hybridv.scenario.Component;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.StepExecutor;
import org.hybridv.scenario.StepResult;
import org.hybridv.vmx.VmxCapabilities;
import org.hybridv.vmx.VmxMode;

/**
 * The VMX and EPT layer's scenario operations (Intel SDM Vol. 3C chapters 24–28): the VMCS, VM entry, the guest's
 * instructions in VMX non-root operation, EPT entries, INVVPID, INVEPT, and inspection of the VMX state.
 *
 * <p>State: the x86 machine ({@link org.hybridv.scenario.x86.X86Module#MACHINE}) stays the machine; this module adds
 * {@link #VMX}, the rest of a {@link org.hybridv.vmx.VmxProcessor}. Which ops may run depends on the mode, and this
 * module says so with preconditions: the VMCS is written and guests are entered in root operation; guest instructions
 * run in non-root operation; and the x86 layer's bare-processor instructions ({@code access}, {@code invlpg},
 * {@code movToCr3}, {@code cpu}) are refused in non-root operation, pointing at the guest op to use instead — the
 * guest ops have names of their own ({@code guestAccess} …) because op names are unique and the bare ones keep
 * their meaning.
 */
public final class VmxModule implements ScenarioModule {
    /** Root or non-root operation, the current VMCS, its launch state. Starts as {@link VmxState#initial}. */
    public static final Component<VmxState> VMX = Component.of("vmx", VmxState.class);

    /** The guest instructions: run only in VMX non-root operation. */
    static final List<String> GUEST_OPS = List.of("guestAccess", "guestInvlpg", "guestInvpcid", "guestMovToCr",
            "guestMovFromCr", "io", "rdmsr", "wrmsr", "cpuid", "vmcall", "hlt");
    /** The hypervisor's operations: run only in VMX root operation. */
    static final List<String> ROOT_OPS = List.of("vmcs", "vmlaunch", "vmresume", "invvpid", "invept");

    /** The machine section naming what the processor reports in IA32_VMX_EPT_VPID_CAP ({@link CapabilitiesSection}). */
    static final String CAPABILITIES = "vmxCapabilities";

    @Override
    public String name() {
        return "vmx";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        r.machineSection(CAPABILITIES, CapabilitiesSection::build);
        r.component(VMX, spec -> VmxState.initial(spec.maxPhysAddr(), spec.section(CAPABILITIES,
                VmxCapabilities.class).orElse(VmxCapabilities.FULL)));
        r.operation(Operation.of(VmxStep.Vmcs.class, "write VMCS fields by SDM name (controls, bitmaps, EPTP, VPID, guest and host"
                + " state), in root operation",
                "{\"op\": \"vmcs\", \"primary\": {\"hltExiting\": true}, \"exceptionBitmap\": \"0x4000\","
                        + " \"pfecMask\": \"0x4\", \"pfecMatch\": \"0x0\", \"guest\": {\"cr3\": {\"frame\": 1}}}",
                VmxExecutors::vmcs));
        r.operation(Operation.of(VmxStep.Vmlaunch.class, "VMLAUNCH: VM entry with a clear VMCS (checks, then the guest state is"
                + " loaded)",
                "{\"op\": \"vmlaunch\", \"expect\": {\"result\": \"vmFail\", \"error\": 7}}",
                VmxExecutors::enter));
        r.operation(Operation.of(VmxStep.Vmresume.class, "VMRESUME: VM entry with a launched VMCS",
                "{\"op\": \"vmresume\"}",
                VmxExecutors::enter));
        r.operation(Operation.of(VmxStep.GuestAccess.class, "a guest's aligned quadword access through its paging (and"
                + " EPT); a #PF is delivered or exits",
                "{\"op\": \"guestAccess\", \"linear\": \"0x1000\", \"kind\": \"write\", \"expect\": {\"result\":"
                        + " \"vmExit\", \"reason\": \"EXCEPTION_OR_NMI\", \"qualification\": \"0x1000\","
                        + " \"interruption\": \"0x80000b0e\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.GuestInvlpg.class, "the guest's INVLPG (exits with INVLPG exiting)",
                "{\"op\": \"guestInvlpg\", \"linear\": \"0x1000\", \"expect\": {\"result\": \"vmExit\", \"reason\":"
                        + " \"INVLPG\", \"qualification\": \"0x1000\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.GuestInvpcid.class, "the guest's INVPCID (#UD without enable INVPCID;"
                + " exits with INVLPG exiting)",
                "{\"op\": \"guestInvpcid\", \"type\": 1, \"pcid\": \"0x0\", \"expect\": {\"result\": \"vmExit\","
                        + " \"reason\": \"INVPCID\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.GuestMovToCr.class, "the guest's MOV to CR0, CR3 or CR4 (guest/host masks,"
                + " CR3-load exiting)",
                "{\"op\": \"guestMovToCr\", \"cr\": 3, \"value\": \"0x2000\", \"register\": 0, \"expect\":"
                        + " {\"result\": \"vmExit\", \"reason\": \"CR_ACCESS\", \"qualification\": \"0x3\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.GuestMovFromCr.class, "the guest's MOV from CR0, CR3 or CR4 (read shadows,"
                + " CR3-store exiting)",
                "{\"op\": \"guestMovFromCr\", \"cr\": 0, \"register\": 3, \"expect\": {\"result\": \"retired\","
                        + " \"value\": \"0x80010001\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Io.class, "the guest's IN, OUT, INS or OUTS (I/O exiting, I/O bitmaps A and B)",
                "{\"op\": \"io\", \"port\": \"0x80\", \"size\": 1, \"direction\": \"out\", \"value\": \"0x1\","
                        + " \"expect\": {\"result\": \"vmExit\", \"reason\": \"IO_INSTRUCTION\", \"qualification\":"
                        + " \"0x800000\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Rdmsr.class, "the guest's RDMSR (MSR bitmaps; MSRs outside the bitmap always exit)",
                "{\"op\": \"rdmsr\", \"msr\": \"0xc0000080\", \"expect\": {\"result\": \"retired\", \"value\":"
                        + " \"0x500\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Wrmsr.class, "the guest's WRMSR (MSR bitmaps; MSRs outside the bitmap always exit)",
                "{\"op\": \"wrmsr\", \"msr\": \"0x40000000\", \"value\": \"0x1\", \"expect\": {\"result\":"
                        + " \"vmExit\", \"reason\": \"MSR_WRITE\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Cpuid.class, "the guest's CPUID (always exits)",
                "{\"op\": \"cpuid\", \"leaf\": \"0x40000000\", \"expect\": {\"result\": \"vmExit\", \"reason\":"
                        + " \"CPUID\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Vmcall.class, "the guest's VMCALL (always exits, at any CPL)",
                "{\"op\": \"vmcall\", \"expect\": {\"result\": \"vmExit\", \"reason\": \"VMCALL\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Hlt.class, "the guest's HLT (#GP at CPL > 0; exits with HLT exiting)",
                "{\"op\": \"hlt\", \"expect\": {\"result\": \"vmExit\", \"reason\": \"HLT\"}}",
                VmxExecutors::guest));
        r.operation(Operation.of(VmxStep.Ept.class, "store an EPT paging-structure entry (a plain memory write)",
                "{\"op\": \"ept\", \"table\": 20, \"index\": 0, \"entry\": {\"read\": true, \"write\": true,"
                        + " \"execute\": true, \"frame\": 21}}",
                VmxExecutors::ept));
        r.operation(Operation.of(VmxStep.Invvpid.class, "INVVPID in root operation: invalidate translations by VPID",
                "{\"op\": \"invvpid\", \"type\": \"individualAddress\", \"vpid\": 1, \"linear\": \"0x1000\"}",
                VmxExecutors::invvpid));
        r.operation(Operation.of(VmxStep.Invept.class, "INVEPT in root operation: invalidate translations derived from EPT",
                "{\"op\": \"invept\", \"type\": \"singleContext\", \"eptp\": {\"frame\": 20}}",
                VmxExecutors::invept));
        r.operation(Operation.of(VmxStep.ExpectVmcs.class, "check the VMX mode, the launch state, the last exit's"
                + " information and the VMCS guest-state area",
                "{\"op\": \"expectVmcs\", \"mode\": \"root\", \"launched\": true, \"exit\": {\"reason\":"
                        + " \"VMCALL\"}, \"guest\": {\"cpl\": 0}}",
                VmxExecutors::expectVmcs));

        for (String op : ROOT_OPS) {
            r.precondition(op, s -> mode(s) == VmxMode.NON_ROOT ? rootOnly(op) : null);
        }
        for (String op : GUEST_OPS) {
            r.precondition(op, s -> mode(s) == VmxMode.ROOT ? guestOnly(op, s.get(VMX).launched()) : null);
        }
        bareProcessorOnly(r, "access", "the guest's accesses are guestAccess steps");
        bareProcessorOnly(r, "invlpg", "the guest's INVLPG is guestInvlpg");
        bareProcessorOnly(r, "invpcid", "the guest's INVPCID is guestInvpcid");
        bareProcessorOnly(r, "evict", "evict acts on the bare processor's caches; make the guest exit first");
        bareProcessorOnly(r, "movToCr3", "the guest's MOV to CR3 is guestMovToCr with \"cr\": 3");
        bareProcessorOnly(r, "cpu", "set the guest's registers with vmcs \"guest\" before the VM entry, or run"
                + " guestMovToCr or wrmsr in the guest");
    }

    private static VmxMode mode(MachineState s) {
        return s.get(VMX).mode();
    }

    static String rootOnly(String op) {
        String what = switch (op) {
            case "vmcs" -> "vmcs writes the VMCS, which the hypervisor does in VMX root operation";
            case "vmlaunch" -> "VMLAUNCH enters a guest from VMX root operation";
            case "vmresume" -> "VMRESUME enters a guest from VMX root operation";
            default -> op.toUpperCase(Locale.ROOT) + " is executed by the hypervisor in VMX root operation";
        };
        return what + "; the processor is in VMX non-root operation (a guest's VMX instruction causes a VM exit, SDM"
                + " §25.1.2): make the guest exit first, e.g. with vmcall";
    }

    static String guestOnly(String op, boolean launched) {
        return op + " is a guest instruction: it runs only in VMX non-root operation; enter the guest with "
                + (launched ? "vmresume" : "vmlaunch");
    }

    private static void bareProcessorOnly(OperationRegistry.Builder r, String op, String instead) {
        r.precondition(op, s -> mode(s) == VmxMode.NON_ROOT ? op + " runs on the bare processor and is refused in"
                + " VMX non-root operation: " + instead : null);
    }
}
