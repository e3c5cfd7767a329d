package org.hybridv.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelState;
import org.hybridv.guest.Loader;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;

/**
 * The whole system (issue 8): the hybrid kernel (in lockstep with its native twin) and up to two adversarial
 * domains on one machine, operations of every layer interleaved ({@link WholeSystemCases}); after every operation
 * I1, I2, I6 on the machine, I7 on every instruction, and I3, I4, I5, I8 on every kernel operation. Its
 * counterexamples are scenarios with a {@code hypervisor} section whose domain 4 runs the kernel.
 */
public final class WholeSystemProperty implements SystemProperty<WholeSystemCases.Run> {
    @Override
    public String name() {
        return "whole-system";
    }

    @Override
    public String description() {
        return "the hybrid kernel beside adversarial direct and HAP domains on one machine; I1-I8 after every"
                + " operation";
    }

    @Override
    public WholeSystemCases.Run generate(Choices c) {
        return WholeSystemCases.generate(c);
    }

    @Override
    public int length(WholeSystemCases.Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(WholeSystemCases.Run run, Faults faults) {
        return check(run, faults, new Observer() { });
    }

    /** Sees each operation (statistics of the jqwik property). */
    public interface Observer {
        default void kernel(Lockstep.LockstepStep step) { }

        default void vcpu(XenMachine pre, org.hybridv.gen.HypervisorCases.Op op, HvStep step) { }
    }

    /** {@link #check(WholeSystemCases.Run, Faults)}, showing each operation to {@code observer}. */
    public Verdict check(WholeSystemCases.Run run, Faults faults, Observer observer) {
        XenMachine m = run.machine(faults);
        KernelState kernel = KernelState.initial(WholeSystemCases.KERNEL_FRAMES);
        Lockstep l = new Lockstep(new GuestSystem(kernel, new XenPlatform(m, WholeSystemCases.KERNEL)),
                Loader.onBareMetal(WholeSystemCases.KERNEL_FRAMES), false);
        int step = 0;
        for (WholeSystemCases.Op op : run.ops()) {
            step++;
            if (op instanceof WholeSystemCases.Op.Kernel k) {
                Lockstep.LockstepStep s = l.step(k.op());
                observer.kernel(s);
                List<HybridInvariants.Violation> v = HybridInvariants.check(s);
                if (!v.isEmpty()) {
                    return new Verdict.Violated(v.get(0).invariant(), v.get(0).violation().rule(), step, k.op()
                            + " (guest " + s.guest().result() + ", natively " + s.twin().result() + "): "
                            + v.get(0).violation().explanation());
                }
                l = s.post();
                continue;
            }
            org.hybridv.gen.HypervisorCases.Op x = ((WholeSystemCases.Op.Vcpu) op).op();
            XenMachine pre = ((XenPlatform) l.guest().platform()).machine();
            HvStep s = Hypervisor.run(pre, x.vcpu(), x.insn(), x.regs());
            observer.vcpu(pre, x, s);
            Verdict v = HypervisorProperty.checkStep(step, pre, x, s);
            if (!v.holds()) {
                return v;
            }
            XenMachine post = s.machine();
            l = new Lockstep(new GuestSystem(l.guest().kernel(), new XenPlatform(post, WholeSystemCases.KERNEL)),
                    l.twin(), l.diverged());
        }
        return Verdict.HOLDS;
    }

    /** The scenario machine of a run: the hypervisor section with the adversaries and the kernel's domain. */
    static ObjectNode machine(MmuMode mode, int adversaries, int kernelVpid) {
        ObjectNode adversarial;
        try {
            adversarial = (ObjectNode) new ObjectMapper().readTree(HypervisorProperty.MACHINE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode machine = JsonNodeFactory.instance.objectNode();
        machine.put("memoryFrames", WholeSystemCases.MEMORY_FRAMES);
        machine.put("maxPhysAddr", 40);
        ObjectNode hv = machine.putObject("hypervisor");
        hv.set("xenFrames", adversarial.get("hypervisor").get("xenFrames"));
        ArrayNode domains = hv.putArray("domains");
        for (int i = 0; i < adversaries; i++) {
            domains.add(adversarial.get("hypervisor").get("domains").get(i));
        }
        ObjectNode k = domains.addObject();
        k.put("id", WholeSystemCases.KERNEL_DOMAIN);
        k.put("mode", mode == MmuMode.HAP ? "hap" : "shadow");
        k.putArray("frames").addObject().put("from", WholeSystemCases.KERNEL_FIRST).put("to",
                WholeSystemCases.KERNEL_FIRST + WholeSystemCases.KERNEL_FRAMES - 1);
        k.putObject("kernel").put("vpid", kernelVpid);
        machine.putObject("kernel").put("domain", WholeSystemCases.KERNEL_DOMAIN);
        return machine;
    }

    @Override
    public ObjectNode scenario(WholeSystemCases.Run run, Faults faults, Verdict.Violated violation) {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        // The VPID the kernel's vCPU got: the one asked for, or the fallback if this hypervisor refused it.
        int vpid = run.machine(faults).vcpu(WholeSystemCases.KERNEL).vpid();
        doc.set("machine", machine(run.kernelMode(), run.adversaries(), vpid));
        ArrayNode steps = doc.putArray("steps");
        int n = Math.min(run.ops().size(), violation.step());
        for (int i = 0; i < n; i++) {
            WholeSystemCases.Op op = run.ops().get(i);
            steps.add(op instanceof WholeSystemCases.Op.Kernel k ? HybridKernelProperty.step(k.op())
                    : HypervisorProperty.step(((WholeSystemCases.Op.Vcpu) op).op()));
        }
        boolean kernelStep = n > 0 && run.ops().get(n - 1) instanceof WholeSystemCases.Op.Kernel;
        steps.addObject().put("op", kernelStep ? "checkHybrid" : "checkInvariants").putObject("expect")
                .put(violation.invariant(), "violated");
        return doc;
    }
}
