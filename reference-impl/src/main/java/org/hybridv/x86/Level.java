package org.hybridv.x86;

/**
 * The four levels of IA-32e paging (Intel SDM Vol. 3A §4.5), in walk order. Each selects its entry with nine bits of
 * the linear address: PML4 bits 47:39, PDPT 38:30, PD 29:21, PT 20:12 (SDM figure 4-8).
 */
public enum Level {
    /** Page-map level 4; its entries (PML4Es) reference page-directory-pointer tables. */
    PML4("PML4E", 39),
    /** Page-directory-pointer table; a PDPTE references a page directory or (PS = 1) maps a 1-GByte page. */
    PDPT("PDPTE", 30),
    /** Page directory; a PDE references a page table or (PS = 1) maps a 2-MByte page. */
    PD("PDE", 21),
    /** Page table; a PTE maps a 4-KByte page. */
    PT("PTE", 12);

    private final String entryName;
    private final int shift;

    Level(String entryName, int shift) {
        this.entryName = entryName;
        this.shift = shift;
    }

    /** The SDM's name for an entry of this level (PML4E, PDPTE, PDE, PTE). */
    public String entryName() {
        return entryName;
    }

    /** The lowest linear-address bit of this level's index. */
    public int shift() {
        return shift;
    }

    /** The 9-bit index this level takes from {@code linear} (SDM 4.5.4). */
    public int index(long linear) {
        return (int) ((linear >>> shift) & 0x1FF);
    }

    /** The page size of a leaf at this level, or null when this level cannot map a page (PML4). */
    public PageSize leafSize() {
        return switch (this) {
            case PML4 -> null;
            case PDPT -> PageSize.SIZE_1G;
            case PD -> PageSize.SIZE_2M;
            case PT -> PageSize.SIZE_4K;
        };
    }

    /** The next level down, or null after PT. */
    public Level next() {
        return this == PT ? null : values()[ordinal() + 1];
    }
}
