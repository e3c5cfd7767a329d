package org.hybridv.scenario.modules;

import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.vmx.VmxModule;
import org.hybridv.scenario.x86.X86Module;
import org.hybridv.scenario.xen.XenModule;

/**
 * The scenario modules of this build, in layer order. A new layer adds its module here with one line; its
 * operations and state live in its own package.
 */
public final class Modules {
    private Modules() {}

    /** The registry with every layer's operations. */
    public static OperationRegistry standard() {
        return OperationRegistry.builder()
                .install(new X86Module())
                .install(new VmxModule())
                .install(new XenModule())
                .install(new org.hybridv.scenario.hybrid.HybridModule())
                .install(new org.hybridv.scenario.pv.PvModule())
                .install(new org.hybridv.scenario.pv.BlkModule())
                .build();
    }
}
