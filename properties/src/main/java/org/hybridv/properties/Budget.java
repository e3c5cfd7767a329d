package org.hybridv.properties;

/** The CI budget of the property tests: fixed seed (reproducible CI) and tries per property. */
public final class Budget {
    private Budget() {}

    /** The seed every property uses under {@code mvn verify}: same seed, same tries, same result. */
    public static final String SEED = "20261123";
    /** Tries for single-step properties (microseconds each). */
    static final int TRIES = 2000;
    /** Tries for properties that run a sequence of operations per try. */
    static final int SEQUENCE_TRIES = 1000;
    /** Tries for the whole-hypervisor stateful property (up to 14 steps, four invariants after each). */
    static final int HYPERVISOR_TRIES = 200;
    /** Tries for the hybrid-kernel lockstep property (up to 16 kernel operations, I1–I8 after each). */
    static final int HYBRID_TRIES = 300;
    /** Tries for the whole-system property (up to 20 operations of every layer, I1–I8 after each). */
    static final int WHOLE_SYSTEM_TRIES = 200;
    /** Tries for the PV-interface property (up to 10 ops or windows, I1, I2, I6, I9-I11, I11-blk after each). */
    static final int PV_TRIES = 100;
    /** Tries for the two-pCPU migration and shootdown property (I1, I2, I6 over every pCPU after every step). */
    static final int MIGRATION_TRIES = 50;
}
