package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * The grant tables of {@code xen/grant_table} and {@code org.hybridv.xen.GrantTables} agree on every enumerated trace
 * (docs/spec.md, "Conformance"); and the comparison can fail: a reference whose unmap does not flush (seeded fault
 * grant-unmap-no-flush) keeps a TLB entry the model's flushed, and one that maps a read-only grant writable accepts a
 * map the model's guard refuses.
 */
class GrantTableConformanceTest {
    @Test
    void grantMapUseUnmapAgreeWithTheModel() {
        Map<String, Integer> replayed = new TreeMap<>();
        Conformance c = GrantTableConformance.check(Faults.NONE, GrantTableConformance.LIMIT, replayed);
        System.out.printf("conformance %s: %s/%s, %d instances%s, %d disagreements; steps replayed as %s%n", c.check(),
                c.model(), c.command(), c.instances(), c.exhaustive() ? " (all)" : " (capped)",
                c.disagreements().size(), replayed);
        assertThat(c.disagreements()).as(() -> c.disagreements().stream().limit(3).map(Object::toString)
                .collect(Collectors.joining("\n\n"))).isEmpty();
        assertThat(c.exhaustive() || c.instances() == GrantTableConformance.LIMIT).isTrue();
        assertThat(replayed.keySet()).as("every operation is replayed on some trace")
                .contains("grant", "map", "read", "unmap", "end");
    }

    @Test
    void anUnmapWithoutTheFlushDisagrees() {
        Conformance c = GrantTableConformance.check(Faults.of(Fault.GRANT_UNMAP_NO_FLUSH), 20);
        assertThat(c.disagreements()).as("every trace unmaps a mapping a CPU has cached").isNotEmpty();
        assertThat(c.disagreements().get(0).what()).contains("→");
    }

    @Test
    void aReadOnlyGrantMappedWritableDisagrees() {
        Conformance c = GrantTableConformance.check(Faults.of(Fault.GRANT_READONLY_MAPPED_WRITABLE), 30);
        assertThat(c.disagreements()).as("some trace has a read-only grant the Java maps writable").isNotEmpty();
        assertThat(c.disagreements().get(0).what()).contains("map_grant_ref");
    }
}
