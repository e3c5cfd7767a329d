package org.hybridv.vmx;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptPageWalk;
import org.hybridv.ept.EptSupport;
import org.hybridv.ept.EptTranslated;
import org.hybridv.ept.EptTranslation;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.GuestLinear;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.EntryReader;
import org.hybridv.x86.PhysicalMemory;

/**
 * Reads guest paging-structure entries through EPT for one guest walk (Intel SDM Vol. 3C §28.2.1): each read is a
 * guest-physical read of the entry, translated by EPT as an access "to a guest paging-structure entry" (qualification
 * bit 8 = 0), which EPT A/D flags turn into a write (§28.2.4). A refused read keeps its EPT outcome. Host memory is
 * threaded through, since successful EPT translations set EPT accessed flags.
 */
final class EptEntryReader implements EntryReader {
    private final Eptp eptp;
    private final EptSupport support;
    private final long linear;
    private PhysicalMemory host;
    private EptTranslation refusal;
    private final List<Long> hostAddresses = new ArrayList<>(4);

    EptEntryReader(PhysicalMemory host, Eptp eptp, EptSupport support, long linear) {
        this.host = host;
        this.eptp = eptp;
        this.support = support;
        this.linear = linear;
    }

    @Override
    public long read(long guestPhysical) {
        EptTranslation t = EptPageWalk.translate(host, eptp, support, guestPhysical, AccessKind.READ,
                GuestLinear.pagingStructureEntryFor(linear));
        if (t instanceof EptTranslated ok) {
            host = ok.memory();
            hostAddresses.add(ok.hostPhysical());
            refusal = null;
            return host.readPhysical(ok.hostPhysical());
        }
        refusal = t;
        return 0;
    }

    @Override
    public boolean refused() {
        return refusal != null;
    }

    /** The EPT violation or misconfiguration that refused the last read. */
    EptTranslation refusal() {
        return refusal;
    }

    /** Host memory after the EPT A/D updates of the reads so far. */
    PhysicalMemory host() {
        return host;
    }

    /** The host-physical address of each guest entry read, in walk order. */
    List<Long> hostAddresses() {
        return hostAddresses;
    }
}
