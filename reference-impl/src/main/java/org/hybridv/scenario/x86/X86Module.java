package org.hybridv.scenario.x86;

import org.hybridv.scenario.Component;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;
import org.hybridv.x86.X86Machine;

/**
 * The x86 layer's scenario operations, on a bare processor with its memory ({@link X86Machine}): paging-structure
 * entries, control registers, memory accesses, INVLPG, INVPCID, evictions, and inspection of entries, the TLB and
 * the paging-structure caches.
 */
public final class X86Module implements ScenarioModule {
    /** The bare machine: memory, CPU registers, TLB. Starts zeroed, at reset, empty (see {@code MachineSpec}). */
    public static final Component<X86Machine> MACHINE = Component.of("x86", X86Machine.class);

    @Override
    public String name() {
        return "x86";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        r.component(MACHINE, spec -> X86Machine.create(spec.memoryFrames(), spec.maxPhysAddr(), spec.tlb()));
        r.operation(Operation.of(X86Step.Pte.class,
                "store a paging-structure entry (a plain memory write; the TLB is not touched)",
                "{\"op\": \"pte\", \"table\": 4, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true,"
                        + " \"user\": true, \"frame\": 9}}",
                X86Executors::pte));
        r.operation(Operation.of(X86Step.Cpu.class,
                "set control registers (MOV to CR0/CR3/CR4, WRMSR EFER, at CPL 0), CR2, AC, PKRU, then CPL",
                "{\"op\": \"cpu\", \"cr3\": {\"frame\": 1}, \"cr4\": {\"pae\": true}, \"efer\": {\"lme\": true,"
                        + " \"nxe\": true}, \"cr0\": {\"pe\": true, \"wp\": true, \"pg\": true}, \"cpl\": 3}",
                X86Executors::cpu));
        r.operation(Operation.of(X86Step.MemoryAccess.class,
                "one aligned quadword read, write or fetch through the MMU (a #PF writes CR2)",
                "{\"op\": \"access\", \"linear\": \"0x0\", \"kind\": \"write\", \"cpl\": 3, \"expect\":"
                        + " {\"result\": \"pageFault\", \"errorCode\": \"0x7\", \"cr2\": \"0x0\"}}",
                X86Executors::access));
        r.operation(Operation.of(X86Step.Invlpg.class,
                "INVLPG at the current CPL: drop the TLB entries for one page",
                "{\"op\": \"invlpg\", \"linear\": \"0x0\"}",
                X86Executors::invlpg));
        r.operation(Operation.of(X86Step.MovToCr3.class,
                "MOV to CR3 of an exact 64-bit operand at the current CPL (bit 63: no-flush with PCIDE)",
                "{\"op\": \"movToCr3\", \"value\": \"0x8000000000001001\"}",
                X86Executors::movToCr3));
        r.operation(Operation.of(X86Step.Invpcid.class,
                "INVPCID at the current CPL: type 0..3, descriptor PCID (bits 63:0) and linear address",
                "{\"op\": \"invpcid\", \"type\": 1, \"pcid\": \"0x1\"}",
                X86Executors::invpcid));
        r.operation(Operation.of(X86Step.Evict.class,
                "the processor drops one cached entry (tlb, pml4, pdpte or pde) for a linear address",
                "{\"op\": \"evict\", \"cache\": \"tlb\", \"linear\": \"0x0\", \"evicted\": true}",
                X86Executors::evict));
        r.operation(Operation.of(X86Step.ExpectEntry.class,
                "check fields of a paging-structure entry in memory (e.g. accessed, dirty)",
                "{\"op\": \"expectEntry\", \"table\": 4, \"index\": 0, \"accessed\": true, \"dirty\": false}",
                X86Executors::expectEntry));
        r.operation(Operation.of(X86Step.ExpectCpu.class,
                "check register values (CR0, CR2, CR3, CR4, EFER, CPL, AC, PKRU)",
                "{\"op\": \"expectCpu\", \"cr2\": \"0x1000\", \"cpl\": 3}",
                X86Executors::expectCpu));
        r.operation(Operation.of(X86Step.ExpectTlb.class,
                "check the translation the TLB holds for a linear address and PCID (and VPID, EP4TA)",
                "{\"op\": \"expectTlb\", \"linear\": \"0x0\", \"vpid\": 1, \"cached\": true, \"physical\": \"0x9000\"}",
                X86Executors::expectTlb));
        r.operation(Operation.of(X86Step.ExpectPsc.class,
                "check the paging-structure-cache entry (pml4, pdpte, pde) a walk would use for a linear address",
                "{\"op\": \"expectPsc\", \"cache\": \"pde\", \"linear\": \"0x0\", \"cached\": true,"
                        + " \"table\": \"0x4000\"}",
                X86Executors::expectPsc));
    }
}
