package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.hybridv.guest.BootStage;

/**
 * The boot of {@code guest/hybrid_boot} against the Java reference's boot-stage machine ({@link BootStage}: the
 * transitions {@link BootStage#next()} allows, which invariant I8 enforces on every kernel step, and
 * {@link BootStage#hypercallsAllowed()}): every step of every trace of the runs {@code hybridBoot} and
 * {@code nativeBoot} (the first {@link #LIMIT} traces of each) is replayed as a Java stage transition.
 *
 * <p>Translation of a state: {@code RealMode} → REAL, {@code ProtectedMode} → PROTECTED; in {@code LongMode}:
 * native → NATIVE, else direct MMU → DIRECT, else hypercall page → HYPERCALL_PAGE_INSTALLED, else detected →
 * HYPERVISOR_DETECTED, else LONG. An event moves the Java stage to: EnterProtected → PROTECTED, EnterLong → LONG,
 * DetectHypervisor → HYPERVISOR_DETECTED, InstallHypercallPage → HYPERCALL_PAGE_INSTALLED, SwitchMmu → DIRECT,
 * FinishNative → NATIVE; a Hypercall or no event leaves it. Java's verdict on a step: the move is an edge of
 * {@code next()} (or no move), and a Hypercall or SwitchMmu is issued from a stage whose {@code hypercallsAllowed()}.
 * Alloy's verdict: the trace takes the step, and its post-state translates to the stage the event names.
 */
public final class HybridBootConformance {
    /** At most this many traces of each run. */
    public static final int LIMIT = 200;

    private HybridBootConformance() {}

    public static List<Conformance> check() {
        return List.of(check("hybridBoot", LIMIT), check("nativeBoot", LIMIT));
    }

    /** The traces of command {@code label} of guest/hybrid_boot (a run, or a check's counterexamples). */
    public static Conformance check(String label, int limit) {
        Instances in = Instances.of("guest/hybrid_boot", label);
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(limit, i -> compare(i, bad));
        return new Conformance("hybrid boot stages (trace steps vs BootStage.next, hypercallsAllowed)",
                "guest/hybrid_boot", label, n.instances(), n.exhaustive(), bad);
    }

    private static void compare(Instances i, List<Disagreement> bad) {
        for (int s = 0; s < i.traceLength(); s++) {
            int t = i.successor(s);
            BootStage from = stage(i, s);
            BootStage after = stage(i, t);
            Set<String> event = i.atoms("Trace.happened", t);
            String e = event.isEmpty() ? "idle" : EntryConformance.only(event);
            BootStage target = switch (e) {
                case "EnterProtected" -> BootStage.PROTECTED;
                case "EnterLong" -> BootStage.LONG;
                case "DetectHypervisor" -> BootStage.HYPERVISOR_DETECTED;
                case "InstallHypercallPage" -> BootStage.HYPERCALL_PAGE_INSTALLED;
                case "SwitchMmu" -> BootStage.DIRECT;
                case "FinishNative" -> BootStage.NATIVE;
                case "Hypercall", "idle" -> from;
                default -> throw new IllegalStateException("unknown event " + e);
            };
            boolean hypercall = e.equals("Hypercall") || e.equals("SwitchMmu");
            boolean java = (target == from || from.next().contains(target))
                    && (!hypercall || from.hypercallsAllowed());
            String alloy = "step taken, to " + after;
            String javaText = java ? "step taken, to " + target : "step refused from " + from;
            if (!alloy.equals(javaText)) {
                bad.add(new Disagreement("state " + s + " → " + t + ": " + e + " from " + from, alloy, javaText,
                        i.text()));
            }
        }
    }

    private static BootStage stage(Instances i, int s) {
        String stage = EntryConformance.only(i.atoms("Kernel.stage", s));
        return switch (stage) {
            case "RealMode" -> BootStage.REAL;
            case "ProtectedMode" -> BootStage.PROTECTED;
            case "LongMode" -> i.holds("Kernel.native = True", s) ? BootStage.NATIVE
                    : i.holds("Kernel.mmu = Direct", s) ? BootStage.DIRECT
                    : i.holds("Kernel.hypercallPage = True", s) ? BootStage.HYPERCALL_PAGE_INSTALLED
                    : i.holds("Kernel.detected = True", s) ? BootStage.HYPERVISOR_DETECTED
                    : BootStage.LONG;
            default -> throw new IllegalStateException("unknown stage " + stage);
        };
    }
}
