package org.hybridv.x86;

/**
 * The outcome of translating a linear address for one access (Intel SDM Vol. 3A §4.5–4.7): a physical address, a
 * page fault, or a general-protection fault (non-canonical address).
 */
public sealed interface Translation permits Translated, PageFault, GeneralProtection {
    default boolean isSuccess() {
        return this instanceof Translated;
    }
}
