package org.hybridv.xen;

import org.hybridv.x86.Hex;

/**
 * A TLB obligation a successful operation hands to its caller, who owns the TLBs (the x86 layer's adversarial
 * {@code Tlb}, tagged by VPID). The direct-paging core records what Xen would flush; the dispatch layer performs it.
 */
public sealed interface Effect {
    /** The rule that requires the flush. */
    String rule();

    /**
     * Flush every translation of {@code domain} on every CPU that may cache it ({@code flush_mask(pt_owner->
     * dirty_cpumask, FLUSH_TLB)}) before the hypercall returns: MU-5 / TLB-3 (XSA-286) after an L2–L4 update;
     * also {@code MMUEXT_TLB_FLUSH_ALL} (MX-5) and {@code UVMF_TLB_FLUSH|UVMF_ALL} (UVA-2).
     */
    record FlushDomain(int domain, String rule) implements Effect {}

    /** Flush the calling vCPU's TLB ({@code MMUEXT_TLB_FLUSH_LOCAL}, {@code UVMF_TLB_FLUSH|UVMF_LOCAL}). */
    record FlushLocal(VcpuId vcpu, String rule) implements Effect {}

    /** Invalidate one page for the calling vCPU (a canonical {@code linear}; TLB-6). */
    record InvlpgLocal(VcpuId vcpu, long linear, String rule) implements Effect {
        @Override
        public String toString() {
            return "InvlpgLocal[" + vcpu + ", " + Hex.of(linear) + ", " + rule + "]";
        }
    }

    /** Invalidate one page on every CPU of {@code domain} ({@code MMUEXT_INVLPG_ALL}, {@code UVMF_INVLPG|UVMF_ALL}). */
    record InvlpgDomain(int domain, long linear, String rule) implements Effect {
        @Override
        public String toString() {
            return "InvlpgDomain[d" + domain + ", " + Hex.of(linear) + ", " + rule + "]";
        }
    }

    /**
     * Flush the translations of the vCPUs of {@code domain} named by {@code vcpumask} (bit i: vCPU i) on the pCPUs
     * they run on ({@code MMUEXT_TLB_FLUSH_MULTI}: {@code vcpumask_to_pcpumask}, then {@code flush_tlb_mask}; MX-7).
     */
    record FlushMulti(int domain, long vcpumask, String rule) implements Effect {
        @Override
        public String toString() {
            return "FlushMulti[d" + domain + ", vCPUs " + Hex.of(vcpumask) + ", " + rule + "]";
        }
    }

    /**
     * Invalidate one page for the vCPUs of {@code domain} named by {@code vcpumask}, on the pCPUs they run on
     * ({@code MMUEXT_INVLPG_MULTI}: {@code vcpumask_to_pcpumask}, then {@code flush_tlb_one_mask}; MX-7).
     */
    record InvlpgMulti(int domain, long vcpumask, long linear, String rule) implements Effect {
        @Override
        public String toString() {
            return "InvlpgMulti[d" + domain + ", vCPUs " + Hex.of(vcpumask) + ", " + Hex.of(linear) + ", " + rule + "]";
        }
    }

    /**
     * The vCPU's CR3 now points at {@code mfn}: the caller loads it ({@code write_ptbase}), which flushes the
     * non-global translations of the vCPU's context (MX-3, TLB-4).
     */
    record LoadBase(VcpuId vcpu, long mfn, String rule) implements Effect {}

    /**
     * A frame changed type ({@code from} had no reference left, TYP-2): before the new type is relied on, no CPU may
     * keep a translation made under the old type — the vital case is a stale writable mapping of a frame that becomes
     * a page table (TLB-1, {@code _get_page_type}). The model has no TLB-clock timestamps, so the obligation is
     * recorded for every change from a type that may have left translations behind (conservative).
     */
    record TypeChange(long mfn, PageType from, PageType to, String rule) implements Effect {
        @Override
        public String toString() {
            return "TypeChange[" + Hex.of(mfn) + " " + from + "→" + to + ", " + rule + "]";
        }
    }
}
