package org.hybridv.gen;

import java.util.List;

/**
 * A paging case for TLB properties: a machine and access (the access fills the TLB), then rewrites of entries on
 * that access's walk path (what a kernel does to its tables), after which cached translations may be stale.
 */
public record TlbCase(PagingCase paging, List<Rewrite> rewrites) {
    public TlbCase {
        rewrites = List.copyOf(rewrites);
    }
}
