package org.hybridv.x86;

/**
 * A successful translation.
 *
 * @param physicalAddress the physical address of the accessed byte
 * @param pageSize        the size of the page that maps it
 * @param rights          the effective rights of the translation (SDM 4.6)
 */
public record Translated(long physicalAddress, PageSize pageSize, Rights rights) implements Translation {
    public Translated {
        Checks.notNull("page size", pageSize);
        Checks.notNull("rights", rights);
    }
}
