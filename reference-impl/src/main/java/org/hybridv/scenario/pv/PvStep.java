package org.hybridv.scenario.pv;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.Values;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.xen.Errno;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * The steps of the para-virtual interface beyond the MMU (docs/pv-interfaces.md, docs/scenario-format.md "PV
 * interface"; rules EVT-, TIME-, GNT- of docs/rules/xen.md), run by {@link PvExecutors} on the hypervisor of the
 * {@code hypervisor} section. The hypercall steps load the registers and issue VMCALL through the hypervisor; the
 * guest steps are what the guest does without the hypervisor (stores to its own shared-info or grant-table frame,
 * CLI/STI); {@code advanceTime} moves machine time.
 */
public sealed interface PvStep extends Step {
    String DOMAIN_WHY = "domain ids 0..0x7fef";
    String VCPU_WHY = "vCPU indices";
    String PORT_WHY = "2-level event-channel ports 0..4095";
    String REF_WHY = "grant references 0..511 (one v1 grant-table frame)";

    /** Domain {@code d} and its vCPU {@code v} exist in the machine's hypervisor section (if it has one). */
    static void checkVcpu(MachineSpec machine, int d, int v) {
        XenMachine m = machine.section(XenModule.SECTION, XenMachine.class).orElse(null);
        if (m == null) {
            return;
        }
        if (!m.domains().containsKey(d)) {
            throw Bad.at("domain", "no domain d" + d + " in machine.hypervisor; domains: " + m.domains().keySet());
        }
        int n = m.domain(d).vcpus().size();
        if (v >= n) {
            throw Bad.at("vcpu", "d" + d + " has " + n + " vCPU" + (n == 1 ? "" : "s") + " (0.." + (n - 1) + ")");
        }
    }

    static String word(Enum<?> e) {
        return Values.word(e);
    }

    /** What a PV hypercall must do: {@code ok} or {@code refused} (errno, rule), and RAX (a port, a map handle). */
    record PvExpect(String result, Errno errno, String rule, @Dec(bits = 64) Long rax) {
        public PvExpect {
            Bad.required(result, "result", "expect");
            if (!result.equals("ok") && !result.equals("refused")) {
                throw Bad.at("result", "\"ok\" or \"refused\", not \"" + Values.quote(result) + "\"");
            }
            if (result.equals("ok") && (errno != null || rule != null)) {
                throw Bad.at(errno != null ? "errno" : "rule", "an \"ok\" result has no errno or rule");
            }
        }
    }

    /** {@code event_channel_op} commands ({@code xen/include/public/event_channel.h}). */
    enum EvtchnCmd {
        @JsonProperty("allocUnbound") ALLOC_UNBOUND(EventChannels.EVTCHNOP_ALLOC_UNBOUND, "remoteDomain"),
        @JsonProperty("bindInterdomain") BIND_INTERDOMAIN(EventChannels.EVTCHNOP_BIND_INTERDOMAIN, "remoteDomain",
                "remotePort"),
        @JsonProperty("bindVirq") BIND_VIRQ(EventChannels.EVTCHNOP_BIND_VIRQ, "virq", "notifyVcpu"),
        @JsonProperty("send") SEND(EventChannels.EVTCHNOP_SEND, "port"),
        @JsonProperty("close") CLOSE(EventChannels.EVTCHNOP_CLOSE, "port"),
        @JsonProperty("unmask") UNMASK(EventChannels.EVTCHNOP_UNMASK, "port");

        final int number;
        final List<String> takes;

        EvtchnCmd(int number, String... takes) {
            this.number = number;
            this.takes = List.of(takes);
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /**
     * {@code eventChannelOp}: vCPU {@code vcpu} of {@code domain} issues {@code event_channel_op} (hypercall 32)
     * command {@code cmd} with the operands it takes: {@code allocUnbound} ({@code remoteDomain}),
     * {@code bindInterdomain} ({@code remoteDomain}, {@code remotePort}), {@code bindVirq} ({@code virq},
     * {@code notifyVcpu}), {@code send}, {@code close}, {@code unmask} ({@code port}). For a send, I10 (the event
     * reaches only the bound peer) is evaluated and a violation noted and kept for {@code checkPv}.
     */
    @JsonTypeName("eventChannelOp")
    record EventChannelOp(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, EvtchnCmd cmd,
            @Dec(max = 0x7FF0, why = "domain ids 0..0x7fef, or DOMID_SELF 0x7ff0") Integer remoteDomain,
            @Dec(max = 4095, why = PORT_WHY) Integer remotePort, @Dec(max = 4095, why = PORT_WHY) Integer port,
            @Dec(max = 23, why = "VIRQs 0..23 (NR_VIRQS = 24)") Integer virq,
            @Dec(max = 31, why = "vCPUs with a vcpu_info: 0..31") Integer notifyVcpu, PvExpect expect)
            implements PvStep {
        static final List<String> OPERANDS = List.of("remoteDomain", "remotePort", "port", "virq", "notifyVcpu");

        public EventChannelOp {
            Bad.required(domain, "domain", "eventChannelOp step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(cmd, "cmd", "eventChannelOp step");
            Object[] values = {remoteDomain, remotePort, port, virq, notifyVcpu};
            for (int i = 0; i < OPERANDS.size(); i++) {
                if (cmd.takes.contains(OPERANDS.get(i))) {
                    Bad.required(values[i], OPERANDS.get(i), "eventChannelOp step (cmd " + cmd + ")");
                } else {
                    Bad.absent("eventChannelOp step (cmd " + cmd + ")", List.of(OPERANDS.get(i)), values[i]);
                }
            }
        }

        /** The registers the guest loads before VMCALL. */
        public Hypercall hypercall() {
            long a1 = 0;
            long a2 = 0;
            switch (cmd) {
                case ALLOC_UNBOUND -> {
                    a1 = EventChannels.DOMID_SELF;
                    a2 = remoteDomain;
                }
                case BIND_INTERDOMAIN -> {
                    a1 = remoteDomain;
                    a2 = remotePort;
                }
                case BIND_VIRQ -> {
                    a1 = virq;
                    a2 = notifyVcpu;
                }
                default -> a1 = port;
            }
            return Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP, cmd.number, a1, a2);
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + " event_channel_op " + cmd + " " + hypercall().args().subList(1, 3);
        }
    }

    /** {@code grant_table_op} commands ({@code grant_table.h}). */
    enum GnttabCmd {
        @JsonProperty("mapGrantRef") MAP_GRANT_REF(GrantTables.GNTTABOP_MAP_GRANT_REF),
        @JsonProperty("unmapGrantRef") UNMAP_GRANT_REF(GrantTables.GNTTABOP_UNMAP_GRANT_REF),
        @JsonProperty("copy") COPY(GrantTables.GNTTABOP_COPY);

        final int number;

        GnttabCmd(int number) {
            this.number = number;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /**
     * {@code grantTableOp}: {@code grant_table_op} (hypercall 20). {@code mapGrantRef}: {@code hostAddr},
     * {@code ref}, {@code grantDomain}, {@code readonly} (GNTMAP_host_map, plus GNTMAP_readonly); RAX the map handle.
     * {@code unmapGrantRef}: {@code hostAddr}, {@code handle}. {@code copy}: {@code sourceDomain} with
     * {@code sourceRef} or {@code sourceGfn}, {@code destDomain} with {@code destRef} or {@code destGfn}, {@code len}
     * in bytes (a multiple of 8, offsets 0).
     */
    @JsonTypeName("grantTableOp")
    record GrantTableOp(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, GnttabCmd cmd, @Hex Long hostAddr,
            @Dec(max = 511, why = REF_WHY) Integer ref,
            @Dec(max = 0x7FF0, why = "domain ids, or DOMID_SELF 0x7ff0") Integer grantDomain, Boolean readonly,
            @Dec(max = 0xFFFF, why = "map handles") Integer handle,
            @Dec(max = 0x7FF0, why = "domain ids, or DOMID_SELF 0x7ff0") Integer sourceDomain,
            @Dec(max = 511, why = REF_WHY) Integer sourceRef, @Dec(bits = 32) Long sourceGfn,
            @Dec(max = 0x7FF0, why = "domain ids, or DOMID_SELF 0x7ff0") Integer destDomain,
            @Dec(max = 511, why = REF_WHY) Integer destRef, @Dec(bits = 32) Long destGfn,
            @Dec(max = 4096, why = "bytes of one page") Integer len, PvExpect expect) implements PvStep {
        static final List<String> OPERANDS = List.of("hostAddr", "ref", "grantDomain", "readonly", "handle",
                "sourceDomain", "sourceRef", "sourceGfn", "destDomain", "destRef", "destGfn", "len");

        public GrantTableOp {
            Bad.required(domain, "domain", "grantTableOp step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(cmd, "cmd", "grantTableOp step");
            String form = "grantTableOp step (cmd " + cmd + ")";
            List<String> takes = switch (cmd) {
                case MAP_GRANT_REF -> List.of("hostAddr", "ref", "grantDomain", "readonly");
                case UNMAP_GRANT_REF -> List.of("hostAddr", "handle");
                case COPY -> List.of("sourceDomain", "sourceRef", "sourceGfn", "destDomain", "destRef", "destGfn",
                        "len");
            };
            Object[] values = {hostAddr, ref, grantDomain, readonly, handle, sourceDomain, sourceRef, sourceGfn,
                destDomain, destRef, destGfn, len};
            for (int i = 0; i < OPERANDS.size(); i++) {
                if (!takes.contains(OPERANDS.get(i))) {
                    Bad.absent(form, List.of(OPERANDS.get(i)), values[i]);
                }
            }
            switch (cmd) {
                case MAP_GRANT_REF -> {
                    Bad.required(hostAddr, "hostAddr", form);
                    Bad.required(ref, "ref", form);
                    Bad.required(grantDomain, "grantDomain", form);
                }
                case UNMAP_GRANT_REF -> {
                    Bad.required(hostAddr, "hostAddr", form);
                    Bad.required(handle, "handle", form);
                }
                case COPY -> {
                    Bad.required(sourceDomain, "sourceDomain", form);
                    Bad.required(destDomain, "destDomain", form);
                    Bad.required(len, "len", form);
                    if ((sourceRef == null) == (sourceGfn == null)) {
                        throw Bad.object("copy names its source by \"sourceRef\" or by \"sourceGfn\", one of them");
                    }
                    if ((destRef == null) == (destGfn == null)) {
                        throw Bad.object("copy names its destination by \"destRef\" or by \"destGfn\", one of them");
                    }
                }
            }
        }

        public Hypercall hypercall() {
            return switch (cmd) {
                case MAP_GRANT_REF -> Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd.number, hostAddr,
                        GrantTables.GNTMAP_HOST_MAP | (Boolean.TRUE.equals(readonly) ? GrantTables.GNTMAP_READONLY
                                : 0), ref, grantDomain);
                case UNMAP_GRANT_REF -> Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd.number, hostAddr,
                        handle);
                case COPY -> Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd.number,
                        ((long) sourceDomain << 32) | (sourceRef != null ? sourceRef : sourceGfn),
                        ((long) destDomain << 32) | (destRef != null ? destRef : destGfn),
                        (sourceRef != null ? GrantTables.GNTCOPY_SOURCE_GREF : 0)
                                | (destRef != null ? GrantTables.GNTCOPY_DEST_GREF : 0), len);
            };
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + " grant_table_op " + cmd + " " + switch (cmd) {
                case MAP_GRANT_REF -> "d" + grantDomain + " gref " + ref + " at " + Render.hex(hostAddr)
                        + (Boolean.TRUE.equals(readonly) ? " read-only" : "");
                case UNMAP_GRANT_REF -> "handle " + handle + " at " + Render.hex(hostAddr);
                case COPY -> len + " bytes";
            };
        }
    }

    /** {@code vcpu_op} commands ({@code vcpu.h}). */
    enum VcpuCmd {
        @JsonProperty("setSingleshotTimer") SET_SINGLESHOT_TIMER(VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER),
        @JsonProperty("stopSingleshotTimer") STOP_SINGLESHOT_TIMER(VirtualTime.VCPUOP_STOP_SINGLESHOT_TIMER);

        final int number;

        VcpuCmd(int number) {
            this.number = number;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /**
     * {@code vcpuOp}: {@code vcpu_op} (hypercall 24) for the calling vCPU ({@code target}, default the caller):
     * {@code setSingleshotTimer} with {@code deadline} (machine ticks) and {@code future} (VCPU_SSHOTTMR_future), or
     * {@code stopSingleshotTimer}.
     */
    @JsonTypeName("vcpuOp")
    record VcpuOp(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, VcpuCmd cmd,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer target, @Dec(bits = 62) Long deadline, Boolean future,
            PvExpect expect) implements PvStep {
        public VcpuOp {
            Bad.required(domain, "domain", "vcpuOp step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(cmd, "cmd", "vcpuOp step");
            if (cmd == VcpuCmd.SET_SINGLESHOT_TIMER) {
                Bad.required(deadline, "deadline", "vcpuOp step (cmd setSingleshotTimer)");
            } else {
                Bad.absent("vcpuOp step (cmd stopSingleshotTimer)", List.of("deadline", "future"), deadline, future);
            }
        }

        public Hypercall hypercall() {
            return Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP, cmd.number, target == null ? vcpu : target,
                    deadline == null ? 0 : deadline, Boolean.TRUE.equals(future) ? VirtualTime.VCPU_SSHOTTMR_FUTURE
                            : 0);
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + " vcpu_op " + cmd + (deadline == null ? "" : " deadline " + deadline);
        }
    }

    /** {@code sched_op} commands ({@code sched.h}). */
    enum SchedCmd {
        @JsonProperty("yield") YIELD(VirtualTime.SCHEDOP_YIELD),
        @JsonProperty("block") BLOCK(VirtualTime.SCHEDOP_BLOCK);

        final int number;

        SchedCmd(int number) {
            this.number = number;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** {@code schedOp}: {@code sched_op} (hypercall 29): {@code block} (PV idle, TIME-3) or {@code yield}. */
    @JsonTypeName("schedOp")
    record SchedOp(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, SchedCmd cmd, PvExpect expect) implements PvStep {
        public SchedOp {
            Bad.required(domain, "domain", "schedOp step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(cmd, "cmd", "schedOp step");
        }

        public Hypercall hypercall() {
            return Hypercall.of(PvHypercalls.HYPERVISOR_SCHED_OP, cmd.number);
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + " sched_op " + cmd;
        }
    }

    /**
     * {@code pvSetup}: the guest's bring-up hypercalls, in this order, each when given: {@code memory_op}
     * XENMEM_add_to_physmap of its shared-info page at gfn {@code sharedInfo} (EVT-1) and of its grant table at gfn
     * {@code grantTable} (GNT-1), then {@code hvm_op} HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ) with callback vector
     * {@code callbackVector} (EVT-9). The step's result is the first refusal, else ok.
     */
    @JsonTypeName("pvSetup")
    record PvSetup(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, @Dec(bits = 40) Long sharedInfo,
            @Dec(bits = 40) Long grantTable, @Dec(max = 255, why = "vectors 0..255") Integer callbackVector,
            PvExpect expect) implements PvStep {
        public PvSetup {
            Bad.required(domain, "domain", "pvSetup step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.requireAny("pvSetup step", List.of("sharedInfo", "grantTable", "callbackVector"), sharedInfo,
                    grantTable, callbackVector);
        }

        /** The hypercalls, in order. */
        public List<Hypercall> hypercalls() {
            List<Hypercall> l = new java.util.ArrayList<>();
            if (sharedInfo != null) {
                l.add(Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                        PvHypercalls.XENMAPSPACE_SHARED_INFO, sharedInfo));
            }
            if (grantTable != null) {
                l.add(Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                        PvHypercalls.XENMAPSPACE_GRANT_TABLE, grantTable));
            }
            if (callbackVector != null) {
                l.add(Hypercall.of(PvHypercalls.HYPERVISOR_HVM_OP, PvHypercalls.HVMOP_SET_PARAM,
                        PvHypercalls.HVM_PARAM_CALLBACK_IRQ, (PvHypercalls.HVM_PARAM_CALLBACK_TYPE_VECTOR << 56)
                                | callbackVector));
            }
            return l;
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + " PV bring-up" + (sharedInfo == null ? "" : ", shared info gfn "
                    + Render.hex(sharedInfo)) + (grantTable == null ? "" : ", grant table gfn "
                            + Render.hex(grantTable)) + (callbackVector == null ? "" : ", callback vector "
                                    + Render.hex(callbackVector));
        }
    }

    /** What a guest step must do: {@code ok} or {@code refused}, and its VM exits. */
    record GuestExpect(String result, @Dec(max = 5, why = "exits of one step") Integer exits) {
        public GuestExpect {
            Bad.requireAny("expect", List.of("result", "exits"), result, exits);
        }
    }

    /**
     * {@code grantAccess}: the granting guest's own store into its grant-table frame (GNT-1): grant {@code ref} lets
     * domain {@code to} use machine frame {@code frame}, read-only if {@code readonly}; with {@code end} it ends the
     * grant instead, which the guest does only while Xen's reading/writing marks are clear (GNT-7: refused otherwise).
     */
    @JsonTypeName("grantAccess")
    record GrantAccess(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 511, why = REF_WHY) Integer ref, @Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer to,
            @Dec(bits = 32) Long frame, Boolean readonly, Boolean end, GuestExpect expect) implements PvStep {
        public GrantAccess {
            Bad.required(domain, "domain", "grantAccess step");
            Bad.required(ref, "ref", "grantAccess step");
            if (Boolean.TRUE.equals(end)) {
                Bad.absent("grantAccess step (end)", List.of("to", "frame", "readonly"), to, frame, readonly);
            } else {
                Bad.required(to, "to", "grantAccess step");
                Bad.required(frame, "frame", "grantAccess step");
            }
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, 0);
        }

        @Override
        public String describe() {
            return "d" + domain + " grant " + ref + (Boolean.TRUE.equals(end) ? " ended" : " → d" + to + " frame "
                    + Render.hex(frame) + (Boolean.TRUE.equals(readonly) ? " read-only" : ""));
        }
    }

    /** What the guest does without the hypervisor. */
    enum GuestAction {
        /** Its upcall handler (EVT-10). */
        @JsonProperty("handleUpcall") HANDLE_UPCALL,
        /** A store setting {@code port}'s mask bit. */
        @JsonProperty("mask") MASK,
        /** CLI: RFLAGS.IF := 0 (EVT-9). */
        @JsonProperty("cli") CLI,
        /** STI: RFLAGS.IF := 1, an interrupt-window exit if one was requested (EVT-9). */
        @JsonProperty("sti") STI;

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** {@code guestEvent}: vCPU {@code vcpu} of {@code domain} does {@code action} ({@code mask} takes {@code port}). */
    @JsonTypeName("guestEvent")
    record GuestEvent(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, GuestAction action,
            @Dec(max = 4095, why = PORT_WHY) Integer port, GuestExpect expect) implements PvStep {
        public GuestEvent {
            Bad.required(domain, "domain", "guestEvent step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(action, "action", "guestEvent step");
            if (action == GuestAction.MASK) {
                Bad.required(port, "port", "guestEvent step (action mask)");
            } else {
                Bad.absent("guestEvent step (action " + action + ")", List.of("port"), port);
            }
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return "d" + domain + "v" + vcpu + " " + action + (port == null ? "" : " port " + port);
        }
    }

    /** {@code advanceTime}: machine time advances by {@code ticks}; due single-shot timers fire (TIME-1). */
    @JsonTypeName("advanceTime")
    record AdvanceTime(@Dec(max = 1L << 40, why = "ticks up to 2^40") Long ticks) implements PvStep {
        public AdvanceTime {
            Bad.required(ticks, "ticks", "advanceTime step");
        }

        @Override
        public String describe() {
            return "time += " + ticks;
        }
    }

    /**
     * {@code expectPv}: facts of the PV state, each optional (at least one): machine time {@code now}; of
     * {@code domain}'s vCPU {@code vcpu}: {@code upcallPending}, {@code injected} (callback injections so far),
     * {@code interruptFlag} (RFLAGS.IF), {@code interruptWindow} (interrupt-window exiting requested),
     * {@code blocked}, {@code timerArmed}, {@code timerDeadline} (when armed); of its port {@code port}: {@code pending}, {@code masked},
     * {@code binding} ("free", "unbound d2", "interdomain d2:1", "virq 0 v0"); {@code mappings} (its maptrack size);
     * of its grant {@code ref}: {@code grantFlags} (bits 15:0 of the entry).
     */
    @JsonTypeName("expectPv")
    record ExpectPv(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = VCPU_WHY) Integer vcpu, @Dec(max = 4095, why = PORT_WHY) Integer port,
            @Dec(max = 511, why = REF_WHY) Integer ref, @Dec(bits = 62) Long now, Boolean upcallPending,
            @Dec(max = Integer.MAX_VALUE, why = "a count") Integer injected, Boolean interruptFlag,
            Boolean interruptWindow, Boolean blocked, Boolean timerArmed, @Dec(bits = 62) Long timerDeadline, Boolean pending,
            Boolean masked, String binding, @Dec(max = Integer.MAX_VALUE, why = "a count") Integer mappings,
            @Hex(16) Long grantFlags) implements PvStep {
        public ExpectPv {
            Bad.requireAny("expectPv step", List.of("now", "upcallPending", "injected", "interruptFlag",
                    "interruptWindow", "blocked", "timerArmed", "timerDeadline", "pending", "masked", "binding",
                    "mappings", "grantFlags"), now, upcallPending, injected, interruptFlag, interruptWindow, blocked,
                    timerArmed, timerDeadline, pending, masked, binding, mappings, grantFlags);
            boolean needsDomain = upcallPending != null || injected != null || interruptFlag != null
                    || interruptWindow != null || blocked != null || timerArmed != null || timerDeadline != null
                    || pending != null
                    || masked != null || binding != null || mappings != null || grantFlags != null;
            if (needsDomain) {
                Bad.required(domain, "domain", "expectPv step");
            }
            if ((pending != null || masked != null || binding != null) && port == null) {
                throw Bad.at("port", "\"pending\", \"masked\" and \"binding\" are facts of a port: give \"port\"");
            }
            if (grantFlags != null && ref == null) {
                throw Bad.at("ref", "\"grantFlags\" is a fact of a grant: give \"ref\"");
            }
            vcpu = vcpu == null && domain != null ? Integer.valueOf(0) : vcpu;
        }

        @Override
        public void check(MachineSpec machine) {
            if (domain != null) {
                checkVcpu(machine, domain, vcpu);
            }
        }

        @Override
        public String describe() {
            return domain == null ? "machine time" : "d" + domain + "v" + vcpu + (port == null ? "" : " port " + port)
                    + (ref == null ? "" : " grant " + ref);
        }
    }

    /** An invariant's verdict. */
    enum Verdict {
        @JsonProperty("holds") HOLDS,
        @JsonProperty("violated") VIOLATED;

        static Verdict of(boolean holds) {
            return holds ? HOLDS : VIOLATED;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** The verdicts a {@code checkPv} step expects; at least one. */
    record PvInvariantsExpect(@JsonProperty("I9") Verdict I9, @JsonProperty("I10") Verdict I10,
            @JsonProperty("I11") Verdict I11) {
        public PvInvariantsExpect {
            Bad.requireAny("expect", List.of("I9", "I10", "I11"), I9, I10, I11);
        }
    }

    /**
     * {@code checkPv}: I9 event integrity and I11 grant hygiene on the state, and I10 event routing over every send so
     * far (docs/invariants.md); I1 (refined for grants) is {@code checkInvariants}'.
     */
    @JsonTypeName("checkPv")
    record CheckPv(PvInvariantsExpect expect) implements PvStep {
        @Override
        public String describe() {
            return "I9 event integrity, I10 event routing, I11 grant hygiene";
        }
    }
}
