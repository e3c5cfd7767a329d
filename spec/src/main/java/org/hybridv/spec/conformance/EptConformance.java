package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.hybridv.ept.EptEntry;
import org.hybridv.ept.EptMisconfiguration;
import org.hybridv.ept.EptPageWalk;
import org.hybridv.ept.EptPermissions;
import org.hybridv.ept.EptSupport;
import org.hybridv.ept.EptTranslated;
import org.hybridv.ept.EptTranslation;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.GuestLinear;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;

/**
 * The EPT translation of one guest-physical access in {@code ept} ({@code translated}, {@code violation},
 * {@code misconfiguration}; SDM 28.2.2, 28.2.3.1, 28.2.3.2) against {@link EptPageWalk#translate}, on every instance
 * of the run {@code eptTable} (one HAP domain, one GFN, no leaf or a leaf with any permissions), for each access kind.
 *
 * <p>Translation: the model's one-level EPT becomes a 4-level EPT in host frames 1–4 (PML4 → PDPT → PD → PT, upper
 * entries RWX, {@link EptEntry#table}); the GFN atom is guest-physical page 0, its leaf the PTE in slot 0 of the PT
 * ({@link EptEntry#pte}: the leaf's permissions, write-back); frame atom k is host frame 16 + k. The processor
 * supports execute-only translations (the model has no execute-only capability: only W without R is misconfigured),
 * EPT A/D off; a fetch is the translated access of linear 0, reads and writes are data accesses.
 */
public final class EptConformance {
    static final long PML4 = 1;
    static final long FIRST_DATA_FRAME = 16;
    static final int MAXPHYADDR = 40;

    private EptConformance() {}

    public static Conformance check() {
        return check(EptSupport.full(MAXPHYADDR).withAccessedDirty(false));
    }

    /** The check against a processor with {@code support} (one without execute-only translations must disagree). */
    public static Conformance check(EptSupport support) {
        Instances in = Instances.of("ept", "eptTable");
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(Integer.MAX_VALUE, i -> compare(i, support, bad));
        return new Conformance("EPT translation (translated/violation/misconfiguration vs EptPageWalk.translate)",
                "ept", "eptTable", n.instances(), n.exhaustive(), bad);
    }

    private static void compare(Instances i, EptSupport support, List<Disagreement> bad) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        PhysicalMemory host = PhysicalMemory.ofFrames(32);
        host = host.write(PML4, 0, EptEntry.table(PML4 + 1).raw()).write(PML4 + 1, 0, EptEntry.table(PML4 + 2).raw())
                .write(PML4 + 2, 0, EptEntry.table(PML4 + 3).raw());
        Set<String> leaf = i.atoms("HapDomain.ept[Gfn]");
        String leafText = "no leaf";
        if (!leaf.isEmpty()) {
            Set<String> perms = i.atoms("HapDomain.ept[Gfn].perms");
            EptPermissions p = new EptPermissions(perms.contains("R"), perms.contains("W"), perms.contains("X"));
            long mfn = FIRST_DATA_FRAME + frames.indexOf(EntryConformance.only(i.atoms("HapDomain.ept[Gfn].mfn")));
            EptEntry e = EptEntry.pte(mfn, p);
            host = host.write(PML4 + 3, 0, e.raw());
            leafText = "leaf " + e;
        }
        Eptp eptp = Eptp.ofFrame(PML4, false);
        for (String kind : List.of("Read", "Write", "Fetch")) {
            String alloy;
            if (i.holds("translated[HapDomain, Gfn, " + kind + "]")) {
                alloy = "translated to frame " + (FIRST_DATA_FRAME
                        + frames.indexOf(EntryConformance.only(i.atoms("HapDomain.ept[Gfn].mfn"))));
            } else if (i.holds("misconfiguration[HapDomain, Gfn]")) {
                alloy = "EPT misconfiguration";
            } else if (i.holds("violation[HapDomain, Gfn, " + kind + "]")) {
                alloy = "EPT violation";
            } else {
                alloy = "none of translated, violation, misconfiguration";
            }
            AccessKind k = AccessKind.valueOf(kind.toUpperCase(java.util.Locale.ROOT));
            GuestLinear linear = k == AccessKind.FETCH ? GuestLinear.translationOf(0) : GuestLinear.NOT_VALID;
            EptTranslation t = EptPageWalk.translate(host, eptp, support, 0, k, linear);
            String java = t instanceof EptTranslated ok ? "translated to frame " + (ok.hostPhysical() >>> 12)
                    : t instanceof EptMisconfiguration ? "EPT misconfiguration" : "EPT violation";
            if (!alloy.equals(java)) {
                bad.add(new Disagreement(kind + " of GFN 0 with " + leafText, alloy, java, i.text()));
            }
        }
    }
}
