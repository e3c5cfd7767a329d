package org.hybridv.scenario.x86;

import org.hybridv.x86.PageSize;

/**
 * {@code {"op": "expectTlb", "linear": …, "pcid": …, "cached": …, "physical": …, …}}: check the translation the
 * TLB would use for a linear address (SDM Vol. 3A §4.10.2), by looking it up as the processor would for the given
 * PCID (default: the current one). Absent fields are not checked; the attributes other than {@code cached} are
 * checked only when a translation is cached.
 *
 * @param linear    a canonical linear address
 * @param pcid      the PCID to look up, or null for the current PCID
 * @param cached    whether a translation is cached, or null
 * @param physical  the physical address {@code linear} translates to, or null
 * @param pageSize  the size of the cached page, or null
 * @param global    whether the cached translation is global, or null
 * @param writable  the cached R/W right, or null
 * @param user      the cached U/S right, or null
 * @param noExecute the cached XD, or null
 * @param dirty     the cached dirty flag, or null
 */
public record ExpectTlbStep(long linear, Integer pcid, Boolean cached, Long physical, PageSize pageSize,
        Boolean global, Boolean writable, Boolean user, Boolean noExecute, Boolean dirty) implements X86Step {
    @Override
    public String op() {
        return "expectTlb";
    }

    @Override
    public String describe() {
        return Render.hex(linear) + (pcid == null ? "" : " pcid " + Render.hex(pcid));
    }
}
