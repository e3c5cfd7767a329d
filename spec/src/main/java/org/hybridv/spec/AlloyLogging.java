package org.hybridv.spec;

/**
 * Quiets the logging of the Alloy jar before its first class loads: it bundles slf4j-simple, which logs every
 * translation step (and every native-library probe) at INFO unless told otherwise. Every class of this package that
 * is an entry into Alloy calls {@link #quiet()} from its static initializer.
 */
final class AlloyLogging {
    private AlloyLogging() {}

    static void quiet() {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // A native solver whose instance is left to the garbage collector warns from the finalizer; that is expected.
        if (System.getProperty("org.slf4j.simpleLogger.log.kodkod.engine.satlab.NativeSolver") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.kodkod.engine.satlab.NativeSolver", "error");
        }
    }
}
