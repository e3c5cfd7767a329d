package org.hybridv.xen;

import java.util.List;

/**
 * The para-virtual hypercalls beyond the MMU (docs/pv-interfaces.md), dispatched from {@link Hypervisor#vmcall} after
 * its CPL check: {@code grant_table_op} (20, {@link GrantTables}), {@code vcpu_op} (24) and {@code sched_op} (29)
 * ({@link VirtualTime}), {@code event_channel_op} (32, {@link EventChannels}), {@code hvm_op} (34:
 * {@code HVMOP_set_param} of {@code HVM_PARAM_CALLBACK_IRQ}) and {@code memory_op}'s {@code XENMEM_add_to_physmap}
 * (the shared-info page and the grant table). Arguments by value in RDI, RSI, RDX, R10, R8 ({@link Hypercall}).
 */
public final class PvHypercalls {
    private PvHypercalls() {}

    public static final int HYPERVISOR_GRANT_TABLE_OP = 20;
    public static final int HYPERVISOR_VCPU_OP = 24;
    public static final int HYPERVISOR_SCHED_OP = 29;
    public static final int HYPERVISOR_EVENT_CHANNEL_OP = 32;
    public static final int HYPERVISOR_HVM_OP = 34;
    /** {@code XENMEM_add_to_physmap} ({@code memory.h}) and its spaces. */
    public static final int XENMEM_ADD_TO_PHYSMAP = 7;
    public static final int XENMAPSPACE_SHARED_INFO = 0;
    public static final int XENMAPSPACE_GRANT_TABLE = 1;
    /** {@code HVMOP_set_param}, {@code HVM_PARAM_CALLBACK_IRQ} ({@code hvm_op.h}, {@code params.h}). */
    public static final int HVMOP_SET_PARAM = 0;
    public static final int HVM_PARAM_CALLBACK_IRQ = 0;
    /** {@code HVM_PARAM_CALLBACK_TYPE_VECTOR} in bits 63:56 of the parameter's value; the vector in bits 7:0. */
    public static final long HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;

    /** Whether {@link #vmcall} handles hypercall {@code call} (else the MMU path of {@link Hypervisor} does). */
    static boolean handles(Hypercall call) {
        long nr = call.number();
        return nr == HYPERVISOR_GRANT_TABLE_OP || nr == HYPERVISOR_VCPU_OP || nr == HYPERVISOR_SCHED_OP
                || nr == HYPERVISOR_EVENT_CHANNEL_OP || nr == HYPERVISOR_HVM_OP
                || (nr == Hypercalls.HYPERVISOR_MEMORY_OP && call.arg(0) == XENMEM_ADD_TO_PHYSMAP);
    }

    /** The hypercall {@code call} of vCPU {@code id} (one of {@link #handles}); its result as a vCPU outcome. */
    static HvStep vmcall(XenMachine m, VcpuId id, Hypercall call) {
        long nr = call.number();
        PvResult r;
        if (nr == HYPERVISOR_EVENT_CHANNEL_OP) {
            r = EventChannels.op(m, id, call.arg(0), call.arg(1), call.arg(2));
        } else if (nr == HYPERVISOR_GRANT_TABLE_OP) {
            r = GrantTables.op(m, id, call.arg(0), call.arg(1), call.arg(2), call.arg(3), call.arg(4));
        } else if (nr == HYPERVISOR_VCPU_OP) {
            r = VirtualTime.vcpuOp(m, id, call.arg(0), call.arg(1), call.arg(2), call.arg(3));
        } else if (nr == HYPERVISOR_SCHED_OP) {
            r = VirtualTime.schedOp(m, id, call.arg(0));
        } else if (nr == HYPERVISOR_HVM_OP) {
            r = setCallbackIrq(m, id.domain(), call.arg(0), call.arg(1), call.arg(2));
        } else {
            r = addToPhysmap(m, id.domain(), call.arg(1), call.arg(2));
        }
        if (r instanceof PvResult.Refused x) {
            return Hypervisor.refused(m, call, x.errno(), x.rule(), x.reason());
        }
        PvResult.Done ok = (PvResult.Done) r;
        return new HvStep(new VcpuOutcome.HypercallDone(call, List.of(), ok.rax()), ok.machine());
    }

    /**
     * EVT-1 {@code XENMEM_add_to_physmap} (args: {@code space}, {@code gfn}; index 0): makes guest frame {@code gfn}
     * of {@code d} its shared-info page ({@code XENMAPSPACE_shared_info}) or its grant-table frame
     * ({@code XENMAPSPACE_grant_table}, GNT-1). In Xen both pages are the hypervisor's, shared into the guest's
     * physical map at {@code gfn}; here the frame stays the domain's own — the same bytes, read and written by both,
     * and no frame of another owner in the domain's reach. The frame must be the domain's RAM (-EINVAL), not a page
     * table or a frame already used for the other page (-EINVAL); its contents start cleared.
     */
    static PvResult addToPhysmap(XenMachine m, int d, long space, long gfn) {
        if (space != XENMAPSPACE_SHARED_INFO && space != XENMAPSPACE_GRANT_TABLE) {
            return PvResult.refuse(Errno.EINVAL, "EVT-1", "XENMAPSPACE " + space + " is not modelled");
        }
        long mfn = Hypervisor.translateGpfn(m, m.domain(d), gfn);
        String rule = space == XENMAPSPACE_SHARED_INFO ? "EVT-1" : "GNT-1";
        if (mfn < 0) {
            return PvResult.refuse(Errno.EINVAL, rule, "gfn " + gfn + " is not RAM of d" + d);
        }
        FrameInfo f = m.frames().get(mfn);
        DomainPv dp = m.pv().domain(d);
        if (f.typeCount() > 0 && f.type() != PageType.WRITABLE || mfn == dp.sharedInfo() || mfn == dp.grantTable()) {
            return PvResult.refuse(Errno.EINVAL, rule, "frame " + mfn + " of d" + d + " is in use (" + f + ")");
        }
        if (space == XENMAPSPACE_SHARED_INFO ? dp.sharedInfo() >= 0 : dp.grantTable() >= 0) {
            return PvResult.refuse(Errno.EINVAL, rule, "d" + d + " has placed that page already");
        }
        org.hybridv.x86.PhysicalMemory mem = m.memory();
        for (int i = 0; i < org.hybridv.x86.PhysicalMemory.WORDS_PER_FRAME; i++) {
            mem = mem.read(mfn, i) == 0 ? mem : mem.write(mfn, i, 0);
        }
        XenMachine after = EventChannels.withMemory(m, mem);
        DomainPv nu = space == XENMAPSPACE_SHARED_INFO ? dp.withSharedInfo(mfn) : dp.withGrantTable(mfn);
        return new PvResult.Done(after.withPv(after.pv().with(d, nu)), 0);
    }

    /**
     * EVT-9 {@code HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)} (args: {@code HVMOP_set_param}, the parameter, its value):
     * the value's type (bits 63:56) must be {@code HVM_PARAM_CALLBACK_TYPE_VECTOR} and its vector (bits 7:0) one of
     * 0x20..0xFF (vectors 0-31 are the processor's exceptions and reserved, Intel SDM Vol. 3A §6.2); the domain's upcalls
     * are then injected with that vector. The other commands, parameters and callback types: not modelled (-EINVAL).
     */
    static PvResult setCallbackIrq(XenMachine m, int d, long cmd, long param, long value) {
        int vector = (int) (value & 0xFF);
        if (cmd != HVMOP_SET_PARAM || param != HVM_PARAM_CALLBACK_IRQ || value >>> 56 != HVM_PARAM_CALLBACK_TYPE_VECTOR
                || (value & 0x00FF_FFFF_FFFF_FF00L) != 0 || vector < 0x20) {
            return PvResult.refuse(Errno.EINVAL, "EVT-9", "only HVMOP_set_param of HVM_PARAM_CALLBACK_IRQ with a"
                    + " vector callback (type 2 in bits 63:56, vector 0x20..0xff) is modelled");
        }
        return new PvResult.Done(m.withPv(m.pv().with(d, m.pv().domain(d).withCallbackVector(vector))), 0);
    }
}
