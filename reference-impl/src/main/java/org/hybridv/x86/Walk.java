package org.hybridv.x86;

import java.util.List;

/**
 * What the IA-32e page walk found for a linear address, independent of the access (Intel SDM Vol. 3A §4.5): the
 * entries it read, and either the page it reached or the entry that stopped it.
 *
 * @param path      the entries read, in order (1 to 4; fewer when the walk started from a paging-structure-cache
 *                  entry, {@link PageWalk#walkFrom})
 * @param end       how the walk ended
 * @param pageSize  the size of the page mapped ({@link End#MAPPED} only, else null)
 * @param physical  the physical address of the linear address ({@link End#MAPPED} only, else 0)
 * @param rights    the rights combined over {@code path} ({@link End#MAPPED} only, else null)
 */
public record Walk(List<VisitedEntry> path, End end, PageSize pageSize, long physical, Rights rights) {
    /** How a walk ends. */
    public enum End {
        /** Every entry present and without reserved bits; a page was reached. */
        MAPPED,
        /** The last entry read has P = 0 (SDM 4.5.4). */
        NOT_PRESENT,
        /** The last entry read is present and sets a reserved bit (SDM 4.5.4). */
        RESERVED_BIT,
        /**
         * The next entry could not be read (its guest-physical access caused an EPT violation or misconfiguration,
         * see {@link EntryReader}); {@code path} holds the entries read before it.
         */
        READ_REFUSED
    }

    public Walk {
        path = List.copyOf(path);
    }

    /** The entry that maps the page (the last one read), for a {@link End#MAPPED} walk. */
    public VisitedEntry leaf() {
        return path.get(path.size() - 1);
    }
}
