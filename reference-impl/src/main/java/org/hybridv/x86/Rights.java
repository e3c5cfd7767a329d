package org.hybridv.x86;

/**
 * The access rights of a translation, combined over every paging-structure entry that controls it (Intel SDM
 * Vol. 3A §4.6: "the access rights … are determined by the paging-structure entries that were used").
 *
 * @param writable       R/W = 1 in every entry ("writes may be allowed")
 * @param user           U/S = 1 in every entry: the address is a <em>user-mode address</em>; otherwise a
 *                       supervisor-mode address (SDM 4.6)
 * @param executeDisable XD = 1 in some entry (meaningful only with IA32_EFER.NXE = 1)
 * @param protectionKey  bits 62:59 of the entry that maps the page (SDM 4.6.2)
 */
public record Rights(boolean writable, boolean user, boolean executeDisable, int protectionKey) {
    /** The identity of the combination: what a walk starts from before it reads any entry. */
    public static final Rights UNRESTRICTED = new Rights(true, true, false, 0);

    public Rights {
        Checks.inRange("protection key", protectionKey, 0, 15);
    }

    /** These rights narrowed by one more entry of the walk (AND of R/W and U/S, OR of XD). */
    public Rights narrowedBy(Entry e) {
        return new Rights(writable && e.writable(), user && e.user(), executeDisable || e.noExecute(),
                protectionKey);
    }

    /** These rights with the protection key taken from the entry that maps the page. */
    public Rights withKeyOf(Entry leaf) {
        return new Rights(writable, user, executeDisable, leaf.protectionKey());
    }
}
