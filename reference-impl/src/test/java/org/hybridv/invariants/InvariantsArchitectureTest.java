package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * An invariant that calls the function it checks cannot catch that function's bug. The invariants
 * (org.hybridv.invariants) may use java.*, their own package and the state types of the layers below (records and
 * value types of x86, vmx, ept, xen, guest — the machine, its memory, CPU and VMCS fields, frames, domains, vCPUs,
 * the lockstep steps, and the architectural page walk of x86 that defines what a translation is), but none of the
 * decision code they judge. The layering of docs/architecture.md (x86 ← ept ← vmx ← xen ← guest ← invariants ←
 * scenario) holds for the whole reference: no package imports a package above it.
 */
class InvariantsArchitectureTest {
    static final JavaClasses MAIN = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.hybridv");

    /** The decision classes of the VMX layer: exit decisions, non-root execution, the VMCS setup per MMU mode. */
    static final String[] VMX_DECISIONS = {"org.hybridv.vmx.NonRoot", "org.hybridv.vmx.ExceptionExits",
        "org.hybridv.vmx.IoExits", "org.hybridv.vmx.MsrExits", "org.hybridv.vmx.CrAccessExits",
        "org.hybridv.vmx.InstructionExits", "org.hybridv.vmx.TwoDimensional", "org.hybridv.vmx.VmEntries",
        "org.hybridv.vmx.VmExits", "org.hybridv.vmx.Invept", "org.hybridv.vmx.Invvpid"};

    /** The decision classes of the hypervisor: entry rules, page types, direct/shadow paging, SWITCH_MMU, handlers. */
    static final String[] XEN_DECISIONS = {"org.hybridv.xen.VmcsSetup", "org.hybridv.xen.EntryRules",
        "org.hybridv.xen.PageTypes", "org.hybridv.xen.DirectPaging", "org.hybridv.xen.ShadowPaging",
        "org.hybridv.xen.SwitchMmu", "org.hybridv.xen.Hypervisor", "org.hybridv.xen.TlbDiscipline",
        "org.hybridv.xen.PagingOffEmulation", "org.hybridv.xen.Domains", "org.hybridv.xen.EventChannels",
        "org.hybridv.xen.EventDelivery", "org.hybridv.xen.GrantTables", "org.hybridv.xen.VirtualTime",
        "org.hybridv.xen.PvHypercalls", "org.hybridv.xen.SharedInfo", "org.hybridv.xen.Blkif", "org.hybridv.xen.BlkBack",
        "org.hybridv.xen.AtaDisk", "org.hybridv.xen.AtaEmulation"};

    /** The decision classes of the EPT layer: the EPT walk and its violation/misconfiguration decisions. */
    static final String[] EPT_DECISIONS = {"org.hybridv.ept.EptPageWalk", "org.hybridv.ept.EptMisconfigurations",
        "org.hybridv.ept.EptPermissions", "org.hybridv.ept.EptViolationQualification"};

    /** The classes that implement the boot (BOOT-1..6): the CPUID leaves, the hypercall page, the kernel itself. */
    static final String[] BOOT_DECISIONS = {"org.hybridv.xen.CpuidLeaves", "org.hybridv.xen.HypercallPage",
        "org.hybridv.guest.Kernel", "org.hybridv.guest.PvOps"};

    @Test
    @DisplayName("invariants call none of the boot's implementation: CpuidLeaves, HypercallPage, Kernel, PvOps (I8)")
    void invariantsDoNotCallTheBoot() {
        noClasses().that().resideInAPackage("org.hybridv.invariants").should().dependOnClassesThat()
                .haveNameMatching(alternatives(BOOT_DECISIONS)).check(MAIN);
    }

    @Test
    @DisplayName("invariants use the boot stage as a value, never its transition rules (BootStage.next, hypercallsAllowed)")
    void invariantsDoNotAskTheStageMachine() {
        for (String m : new String[] {"next", "hypercallsAllowed"}) {
            noClasses().that().resideInAPackage("org.hybridv.invariants").should()
                    .callMethod(org.hybridv.guest.BootStage.class, m).check(MAIN);
        }
    }

    @Test
    @DisplayName("invariants call no VMX exit decision, no VMCS setup, no EPT decision (I7, I5 restated)")
    void invariantsDoNotCallVmxOrEptDecisions() {
        noClasses().that().resideInAPackage("org.hybridv.invariants").should().dependOnClassesThat()
                .haveNameMatching(alternatives(VMX_DECISIONS, EPT_DECISIONS)).check(MAIN);
    }

    @Test
    @DisplayName("invariants call none of the hypervisor's decision code (I2 entry rules, I5 setup, shadow handler)")
    void invariantsDoNotCallHypervisorDecisions() {
        noClasses().that().resideInAPackage("org.hybridv.invariants").should().dependOnClassesThat()
                .haveNameMatching(alternatives(XEN_DECISIONS)).check(MAIN);
    }

    @Test
    @DisplayName("invariants depend only on java.*, their own package and the layers below, never on scenario")
    void invariantsDependOnlyOnStateBelow() {
        noClasses().that().resideInAPackage("org.hybridv.invariants").should().dependOnClassesThat()
                .resideOutsideOfPackages("java..", "org.hybridv.invariants..", "org.hybridv.x86..",
                        "org.hybridv.ept..", "org.hybridv.vmx..", "org.hybridv.xen..", "org.hybridv.guest..")
                .check(MAIN);
    }

    @Test
    @DisplayName("layering x86 ← ept ← vmx ← xen ← guest ← invariants ← scenario: no upward imports")
    void noUpwardImports() {
        String[] layers = {"org.hybridv.x86..", "org.hybridv.ept..", "org.hybridv.vmx..", "org.hybridv.xen..",
            "org.hybridv.guest..", "org.hybridv.invariants..", "org.hybridv.scenario.."};
        for (int i = 0; i < layers.length - 1; i++) {
            String[] above = java.util.Arrays.copyOfRange(layers, i + 1, layers.length);
            noClasses().that().resideInAPackage(layers[i]).should().dependOnClassesThat().resideInAnyPackage(above)
                    .check(MAIN);
        }
    }

    @Test
    @DisplayName("the rules have teeth: the hypervisor, which does call NonRoot and VmcsSetup, fails them")
    void rulesCatchARealDependency() {
        assertThatThrownBy(() -> noClasses().that().haveFullyQualifiedName("org.hybridv.xen.Hypervisor").should()
                .dependOnClassesThat().haveNameMatching(alternatives(VMX_DECISIONS)).check(MAIN))
                .isInstanceOf(AssertionError.class).hasMessageContaining("org.hybridv.vmx.NonRoot");
        assertThatThrownBy(() -> noClasses().that().haveFullyQualifiedName("org.hybridv.xen.SwitchMmu").should()
                .dependOnClassesThat().haveNameMatching(alternatives(XEN_DECISIONS)).check(MAIN))
                .isInstanceOf(AssertionError.class).hasMessageContaining("org.hybridv.xen.VmcsSetup");
        assertThatThrownBy(() -> noClasses().that().haveFullyQualifiedName("org.hybridv.xen.Hypervisor").should()
                .dependOnClassesThat().haveNameMatching(alternatives(BOOT_DECISIONS)).check(MAIN))
                .isInstanceOf(AssertionError.class).hasMessageContaining("org.hybridv.xen.HypercallPage");
        assertThatThrownBy(() -> noClasses().that().haveFullyQualifiedName("org.hybridv.guest.Kernel").should()
                .callMethod(org.hybridv.guest.BootStage.class, "next").orShould()
                .callMethod(org.hybridv.guest.BootStage.class, "hypercallsAllowed").check(MAIN))
                .isInstanceOf(AssertionError.class);
    }

    private static String alternatives(String[]... names) {
        StringBuilder b = new StringBuilder();
        for (String[] group : names) {
            for (String n : group) {
                b.append(b.length() == 0 ? "" : "|").append(java.util.regex.Pattern.quote(n)).append("(\\$.*)?");
            }
        }
        return b.toString();
    }
}
