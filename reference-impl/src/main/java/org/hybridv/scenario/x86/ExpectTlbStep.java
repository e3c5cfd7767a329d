package org.hybridv.scenario.x86;

import org.hybridv.x86.PageSize;

/**
 * {@code {"op": "expectTlb", "linear": …, "pcid": …, "vpid": …, "ep4ta": …, "cached": …, "physical": …, …}}: check
 * the translation the TLB would use for a linear address (SDM Vol. 3A §4.10.2), by looking it up as the processor
 * would for the given PCID (default: the current one) in the given VMX context (SDM Vol. 3C §28.3.1: VPID and, for a
 * combined mapping, EP4TA; default VPID 0 without EPT, {@link org.hybridv.x86.TlbTag#NATIVE}, the context of every
 * translation made outside VMX non-root operation). Absent fields are not checked; the attributes other than
 * {@code cached} are checked only when a translation is cached.
 *
 * @param linear    a canonical linear address
 * @param pcid      the PCID to look up, or null for the current PCID
 * @param vpid      the VPID to look up, or null for 0000H
 * @param ep4ta     the EP4TA (EPT PML4 address, EPTP bits 51:12) of a combined mapping to look up, or null for a
 *                  linear mapping (EPT not in use)
 * @param cached    whether a translation is cached, or null
 * @param physical  the physical address {@code linear} translates to, or null
 * @param pageSize  the size of the cached page, or null
 * @param global    whether the cached translation is global, or null
 * @param writable  the cached R/W right, or null
 * @param user      the cached U/S right, or null
 * @param noExecute the cached XD, or null
 * @param dirty     the cached dirty flag, or null
 */
public record ExpectTlbStep(long linear, Integer pcid, Integer vpid, Long ep4ta, Boolean cached, Long physical, PageSize pageSize,
        Boolean global, Boolean writable, Boolean user, Boolean noExecute, Boolean dirty) implements X86Step {
    @Override
    public String op() {
        return "expectTlb";
    }

    @Override
    public String describe() {
        return Render.hex(linear) + (pcid == null ? "" : " pcid " + Render.hex(pcid))
                + (vpid == null ? "" : " vpid " + Render.hex(vpid)) + (ep4ta == null ? "" : " ep4ta " + Render.hex(ep4ta));
    }
}
