package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hybridv.cli.RepoRoot;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The handwritten encoders ({@link HandEncoders}) against the generic record walk of {@link CanonicalEncoder}: the
 * same fingerprint — the same words — for every state an exploration of the shipped configurations finds (one and
 * several pCPUs, the three MMU modes, new vCPUs, the hybrid worlds), and for the records the encoders handle
 * inside every fourth of those states, one by one.
 */
class HandEncodersTest {
    private static final Path CONFIGS = RepoRoot.find().resolve("spec/configs");
    private static final int STATES = 200;

    @ParameterizedTest
    @ValueSource(strings = {"direct-paging", "isolation", "spare-frames", "direct-mmu", "shadow-mmu", "hap-mmu",
        "new-vcpu", "smp-disjoint", "smp-race", "smp-shootdown", "hybrid-switch", "hybrid-smp-switch",
        "mmu-batch", "pv-grant", "pv-evtchn", "detect", "bench/combined"})
    void theHandwrittenEncodingIsTheGenericWalkOnEveryExploredState(String name) throws Exception {
        ExploreConfig config = ExploreConfig.read(CONFIGS.resolve(name + ".json"), name + ".json");
        @SuppressWarnings("unchecked")
        ExploredSystem<Object> system = (ExploredSystem<Object>) ExploredSystem.of(config, Faults.NONE, false);
        List<Object> states = new ArrayList<>();
        Explorer.run(system, new Explorer.Options(1, config.ciDepth(), STATES, false), p -> { },
                (s, fp) -> states.add(s));
        Set<Class<?>> seen = new HashSet<>();
        Set<Long> distinct = new HashSet<>();
        for (int i = 0; i < states.size(); i++) {
            // a hybrid world's state: the lockstep pair is what the encoder encodes (the workload contract's model,
            // when it is part of the state, is hashed after it by HybridSystem.fingerprint)
            Object s = states.get(i) instanceof HybridSystem.State h ? h.lockstep() : states.get(i);
            long fast = CanonicalEncoder.fingerprint(s);
            assertThat(fast).as("%s: a state's fingerprint, handwritten vs generic", name)
                    .isEqualTo(CanonicalEncoder.fingerprintGeneric(s));
            distinct.add(fast);
            // the records one by one on every fourth state (the machine's fingerprint above covers the others)
            for (Object part : i % 4 == 0 ? parts(s) : List.of()) {
                seen.add(part.getClass());
                assertThat(CanonicalEncoder.fingerprint(part)).as("%s: %s", name, part)
                        .isEqualTo(CanonicalEncoder.fingerprintGeneric(part));
            }
        }
        assertThat(distinct).as(name + ": distinct states compared").hasSize(states.size());
        assertThat(states.size()).as(name + ": states compared").isGreaterThan(5);
        if (!config.hybrid()) {
            // not vacuous: every handled record type occurs in the states compared
            assertThat(seen).as(name + ": record types compared").containsAll(HandEncoders.handled());
        }
    }

    @Test
    void everyHandwrittenEncoderMatchesItsRecordsComponents() {
        // a record that gained, lost or reordered a component is encoded by the generic walk (still correct, slower)
        // until its encoder in HandEncoders is brought up to date
        assertThat(HandEncoders.stale()).isEmpty();
    }

    /** The records of a hypervisor state that the encoders handle, collected by walking its components. */
    private static List<Object> parts(Object s) {
        List<Object> out = new ArrayList<>();
        collect(s, out, 0);
        return out;
    }

    private static void collect(Object v, List<Object> out, int depth) {
        if (v == null || depth > 12) {
            return;
        }
        if (HandEncoders.handled().contains(v.getClass())) {
            out.add(v);
        }
        if (v instanceof Record r) {
            for (java.lang.reflect.RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    collect(c.getAccessor().invoke(r), out, depth + 1);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        } else if (v instanceof java.util.Map<?, ?> m) {
            m.values().forEach(x -> collect(x, out, depth + 1));
        } else if (v instanceof java.util.Collection<?> c) {
            c.forEach(x -> collect(x, out, depth + 1));
        } else if (v instanceof java.util.Optional<?> o) {
            o.ifPresent(x -> collect(x, out, depth + 1));
        } else if (v instanceof org.hybridv.x86.Tlb t) {
            collect(t.entries(), out, depth + 1);
        } else if (v instanceof org.hybridv.xen.FrameTable t) {
            for (int i = 0; i < t.size(); i++) {
                collect(t.get(i), out, depth + 1);
            }
        }
    }
}
