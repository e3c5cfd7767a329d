package org.hybridv.check;

import java.util.List;

/** Every whole-system property of this build, by name: what {@code hybridv check} and the kill matrix run. */
public final class SystemProperties {
    private SystemProperties() {}

    public static List<SystemProperty<?>> all() {
        return List.of(new HybridKernelProperty(), new HypervisorProperty(), new WholeSystemProperty(),
                new MigrationProperty(),
                new PvInterfaceProperty(), new EmulationProperty());
    }

    /** The property named {@code name}; IllegalArgumentException naming the known ones otherwise. */
    public static SystemProperty<?> named(String name) {
        for (SystemProperty<?> p : all()) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("no property \"" + name + "\"; known: "
                + all().stream().map(SystemProperty::name).toList());
    }
}
