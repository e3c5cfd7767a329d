package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Every CPUID leaf a guest asks is answered as the hypervisor's identity says (rules BOOT-2 and BOOT-7,
 * docs/rules/hybrid.md), restated here over the raw registers: leaf 1 has ECX[31] exactly when the identity presents
 * a hypervisor; leaf base has EAX = base + leaves and the twelve signature bytes in EBX, ECX, EDX, four
 * little-endian bytes each; Xen's base+1 is its version and base+2 is (one hypercall page, the MSR 0x40000000, or
 * 0x40000200 with Viridian); KVM's base+1 offers CLOCKSOURCE2 (bit 3) and PV_EOI (bit 6); with Xen above
 * 0x40000000 leaf 0x40000000 is Viridian's ("Microsoft Hv", max leaf 0x40000006, as Xen's
 * {@code cpuid_viridian_leaves} answers); every other leaf is zeros.
 * The kernel reads only some of these (the scan stops at the first match), so a slip in the others — a feature
 * leaf at the wrong place, the hypercall MSR of the wrong Viridian case, a count of leaves off by one — would pass
 * every property that watches the kernel; this one asks the leaves directly, through the hypervisor's CPUID exit.
 */
class CpuidProperties {
    private static final long FIRST = 0x4000_0000L;
    private static final long HYPERVISOR_BIT = 1L << 31;
    /** The version the model's Xen reports at leaf base+1, 4.17 (EAX: major in bits 31:16, minor in 15:0). */
    private static final long XEN_VERSION = (4L << 16) | 17;

    @Provide
    Arbitrary<CpuidIdentity> identities() {
        Arbitrary<CpuidIdentity.Personality> who = Arbitraries.of(CpuidIdentity.Personality.class);
        Arbitrary<Long> base = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.just(FIRST)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(FIRST + 0x100)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(2, 255).map(k -> FIRST + 0x100L * k)));
        Arbitrary<String> signature = Arbitraries.oneOf(Arbitraries.of("XenVMMXenVMM", "KVMKVMKVM\0\0\0",
                "Microsoft Hv", "VMwareVMware"), Arbitraries.strings().withCharRange('\0', '\u00FF').ofLength(12));
        Arbitrary<Long> leaves = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(0, 5)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(6, 0xFF)));
        return Combinators.combine(who, base, signature, leaves, Arbitraries.of(true, false))
                .as(CpuidIdentity::new);
    }

    @Provide
    Arbitrary<Long> offsets() {
        // a leaf near the base (base-1 .. base+6, base+leaves, +1), near 0x40000000, leaf 0/1/2, or any 32-bit leaf
        return Arbitraries.longs().between(-3, 8);
    }

    @Property(seed = Budget.SEED, tries = Budget.TRIES)
    void everyLeafIsAnsweredAsTheIdentitySays(@ForAll("identities") CpuidIdentity id, @ForAll("offsets") long pick,
            @ForAll long any) {
        long leaf;
        if (pick == -3) {
            leaf = any & 0xFFFF_FFFFL;
        } else if (pick == -2) {
            leaf = Math.floorMod(any, 3); // leaves 0, 1, 2
        } else if (pick == -1) {
            leaf = FIRST + Math.floorMod(any, 3) - 1; // around 0x40000000
        } else if (pick == 8) {
            leaf = id.base() + id.leaves() + Math.floorMod(any, 2); // the last leaf and the one after it
        } else {
            leaf = id.base() + pick - 1; // base-1 .. base+6
        }
        // KVM domains are HAP only: d2 (HAP) carries the identity under test
        XenMachine m = HypervisorCases.initialMachine();
        m = m.withDomain(m.domain(HypervisorCases.H.domain()).withIdentity(id));
        HvStep st = Hypervisor.run(m, HypervisorCases.H, new GuestInstruction.Cpuid(leaf, 0));
        assertThat(st.outcome()).as("CPUID %x", leaf).isInstanceOf(VcpuOutcome.CpuidResult.class);
        VcpuOutcome.CpuidResult got = (VcpuOutcome.CpuidResult) st.outcome();
        long[] expected = expected(id, leaf);
        assertThat(new long[] {got.eax(), got.ebx(), got.ecx(), got.edx()}).as("CPUID %x under %s", leaf, id)
                .containsExactly(expected);
        Statistics.label("leaf").collect(leaf == 1 ? "leaf 1" : leaf == id.base() ? "base"
                : leaf > id.base() && leaf <= id.base() + id.leaves() ? "a leaf after the base"
                : leaf == FIRST && id.base() > FIRST ? "Viridian" : "zeros");
        Statistics.label("leaf").coverage(c -> {
            for (String k : new String[] {"leaf 1", "base", "a leaf after the base", "Viridian", "zeros"}) {
                c.check(k).count(n -> n >= 40);
            }
        });
    }

    /** The answer BOOT-2 and BOOT-7 give, as (EAX, EBX, ECX, EDX). */
    private static long[] expected(CpuidIdentity id, long leaf) {
        long base = id.base();
        if (leaf == 1) {
            return new long[] {0, 0, id.hypervisorBit() ? HYPERVISOR_BIT : 0, 0};
        }
        if (leaf == base) {
            return new long[] {base + id.leaves(), bytes(id.signature(), 0), bytes(id.signature(), 4),
                bytes(id.signature(), 8)};
        }
        if (leaf > base && leaf <= base + id.leaves()) {
            if (id.personality() == CpuidIdentity.Personality.XEN && leaf == base + 1) {
                return new long[] {XEN_VERSION, 0, 0, 0};
            }
            if (id.personality() == CpuidIdentity.Personality.XEN && leaf == base + 2) {
                return new long[] {1, base == FIRST ? 0x4000_0000L : 0x4000_0200L, 0, 0};
            }
            if (id.personality() == CpuidIdentity.Personality.KVM && leaf == base + 1) {
                return new long[] {(1L << 3) | (1L << 6), 0, 0, 0};
            }
        }
        if (leaf == FIRST && base > FIRST) {
            return new long[] {0x4000_0006L, bytes("Microsoft Hv", 0), bytes("Microsoft Hv", 4),
                bytes("Microsoft Hv", 8)};
        }
        return new long[] {0, 0, 0, 0};
    }

    /** Four characters of {@code s} from {@code at}, the first in the lowest byte. */
    private static long bytes(String s, int at) {
        return (s.charAt(at) & 0xFFL) | (s.charAt(at + 1) & 0xFFL) << 8 | (s.charAt(at + 2) & 0xFFL) << 16
                | (s.charAt(at + 3) & 0xFFL) << 24;
    }
}
