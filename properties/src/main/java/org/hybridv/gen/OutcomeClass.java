package org.hybridv.gen;

import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;

/**
 * The outcome classes a generated case falls into, for coverage statistics: success, #GP, and a #PF by the error-code
 * bit that best explains it.
 */
public enum OutcomeClass {
    OK, GENERAL_PROTECTION, NOT_PRESENT, RESERVED_BIT, PROTECTION_KEY, INSTRUCTION_FETCH, WRITE_PROTECTION,
    OTHER_PROTECTION;

    public static OutcomeClass of(Translation t) {
        if (t instanceof Translated) {
            return OK;
        }
        if (t instanceof GeneralProtection) {
            return GENERAL_PROTECTION;
        }
        ErrorCode e = ((PageFault) t).errorCode();
        if (!e.p()) {
            return NOT_PRESENT;
        }
        if (e.rsvd()) {
            return RESERVED_BIT;
        }
        if (e.pk()) {
            return PROTECTION_KEY;
        }
        if (e.id()) {
            return INSTRUCTION_FETCH;
        }
        return e.wr() ? WRITE_PROTECTION : OTHER_PROTECTION;
    }
}
