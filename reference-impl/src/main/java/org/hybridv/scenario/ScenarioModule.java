package org.hybridv.scenario;

/**
 * A layer's contribution to the scenario format: its operations and the state they run on. The x86 layer's module
 * is {@code org.hybridv.scenario.x86.X86Module}; the VMX, EPT, hypervisor and guest layers add theirs, each
 * registering its own ops, so no central switch grows with every layer.
 */
public interface ScenarioModule {
    /** A short name for messages ("x86"). */
    String name();

    /** Registers this module's components and operations. */
    void register(OperationRegistry.Builder registry);
}
