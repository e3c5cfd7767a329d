package org.hybridv.bench;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.gen.EptCase;
import org.hybridv.gen.EptCases;
import org.hybridv.gen.HybridCases;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.VmxSystems;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Lockstep;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Processor;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.Walk;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.XenMachine;

/**
 * The workloads that {@code hybridv bench} and the JMH benchmarks (module {@code bench}) measure, built once and
 * deterministically, so that both measure exactly the same thing:
 * <ul>
 * <li>{@link FourLevel}: a prepared IA-32e 4-level table (PML4 → PDPT → PD → PT, 4 KiB leaf) and a linear
 * address it maps; one unit of work is one {@link PageWalk#walk} (or one TLB-missing {@link Processor#access}: the machine is
 * immutable, so accessing from the same pre-state always misses its empty TLB).</li>
 * <li>{@link TwoD}: a launched guest under EPT (the simplest {@link EptCases} case: permissive guest tables, RWX EPT);
 * one unit is one guest read through {@link NonRoot#execute}, which misses the empty TLB and so performs the full
 * 2-dimensional walk (every guest paging-structure read translated through the EPT, then the data address).</li>
 * <li>{@link HypervisorActions}: runs of the 3-domain system of {@link HypervisorCases} (direct, HAP and shadow
 * domains with adversarial guests) generated from {@link Choices#random}; one unit is one {@link Hypervisor#run}
 * followed by I1, I2, I6 on the post-state and I7 on the step, exactly as {@code HypervisorProperties} checks.</li>
 * <li>{@link HybridActions}: runs of {@link HybridCases} (a hybrid kernel in a shadow or HAP domain in lockstep with
 * its native twin); one unit is one {@link Lockstep#step} followed by {@link HybridInvariants#check} (I1–I8).</li>
 * </ul>
 */
public final class Workloads {
    private Workloads() {}

    /** The 4-level walk: PML4 0x1 → PDPT 0x2 → PD 0x3 → PT 0x4 → frame 0x10, for a linear address in slot 1 of each
     * level. */
    public static final class FourLevel {
        public final PhysicalMemory memory;
        public final CpuState cpu;
        public final long linear;
        public final X86Machine machine;
        public final Access read;

        public FourLevel() {
            PhysicalMemory m = PhysicalMemory.ofFrames(32);
            m = m.write(1, 1, Entry.table(2, true, true).raw()).write(2, 1, Entry.table(3, true, true).raw())
                    .write(3, 1, Entry.table(4, true, true).raw()).write(4, 1, Entry.table(0x10, true, true).raw());
            memory = m;
            cpu = CpuState.longMode(1, 46);
            linear = (1L << 39) | (1L << 30) | (1L << 21) | (1L << 12) | 0x238;
            machine = new X86Machine(memory, cpu, Tlb.empty(TlbPolicy.ADVERSARIAL));
            read = Access.read(linear);
            Walk w = walk();
            if (w.end() != Walk.End.MAPPED || w.physical() != (0x10L << 12 | 0x238)) {
                throw new IllegalStateException("the prepared 4-level table does not map as intended: " + w);
            }
        }

        /** One walk. */
        public Walk walk() {
            return PageWalk.walk(memory, cpu, linear);
        }

        /** One access that misses the (empty) TLB: walk, A/D update, fill. */
        public AccessStep access() {
            return Processor.access(machine, read);
        }
    }

    /** The 2-D walk: a launched EPT guest; each access misses its empty TLB. */
    public static final class TwoD {
        public final VmxProcessor processor;
        public final GuestInstruction.MemoryAccess read;

        public TwoD() {
            // the first seeded case (seeds 1, 2, ...) whose access completes through a 4 KiB guest page and a 4-level
            // EPT: a full 2-D walk (the all-zero case of EptCases folds its guest tables onto one frame)
            for (long seed = 1; ; seed++) {
                EptCase k = EptCases.generate(Choices.random(seed), true);
                ExecutionControls c = VmxSystems.withEpt(ExecutionControls.none(), k.eptp());
                VmxProcessor p = VmxSystems.launch(k.machine(TlbPolicy.ADVERSARIAL), c);
                GuestInstruction.MemoryAccess a = new GuestInstruction.MemoryAccess(k.access());
                if (k.dataEptEntry() >= 0
                        && !NonRoot.execute(p, a).processor().machine().tlb().entries().isEmpty()) {
                    processor = p;
                    read = a;
                    return;
                }
                if (seed > 10_000) {
                    throw new IllegalStateException("no complete 2-D walk among the first 10,000 EPT cases");
                }
            }
        }

        /** One 2-D walk (through the guest read). */
        public GuestStep access() {
            return NonRoot.execute(processor, read);
        }
    }

    /** A violation found while benchmarking: the fault-free reference must never produce one. */
    public static final class ViolationFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ViolationFound(String message) {
            super(message);
        }
    }

    /**
     * Actions of the 3-domain system: {@code runs} runs of {@link HypervisorCases#generate} drawn from one
     * {@link Choices#random} stream (same seed, same runs), each from {@link HypervisorCases#initialMachine}.
     */
    public static final class HypervisorActions {
        public final List<HypervisorCases.Run> runs;
        public final int actions;

        public HypervisorActions(long seed, int runCount) {
            this(seed, runCount, 1);
        }

        /**
         * The ops of the same generated runs, every run on a machine of {@code pcpus} pCPUs (the generator draws 1
         * to 4 pCPUs per run; here the count is fixed so that two figures measure the same ops): on one pCPU the
         * machine of {@link HypervisorCases#initialMachine()}; on several, each domain's i-th vCPU placed on pCPU
         * i mod {@code pcpus} (d1's K on pCPU 0 and U on pCPU 1, and so on) before the first step, so the same ops
         * fill several TLBs, their domain-wide flushes reach remote pCPUs of the dirty masks and the invariants
         * quantify over every pCPU.
         */
        public HypervisorActions(long seed, int runCount, int pcpus) {
            List<HypervisorCases.Run> generated = runs(seed, runCount, HypervisorCases::generate);
            if (pcpus == 1) {
                runs = generated.stream().map(r -> new HypervisorCases.Run(HypervisorCases.initialMachine(),
                        r.ops())).toList();
            } else {
                List<Integer> placement = new ArrayList<>();
                for (int i = 0; i < HypervisorCases.VCPUS.size(); i++) {
                    placement.add(HypervisorCases.VCPUS.get(i).vcpu() % pcpus);
                }
                XenMachine placed = HypervisorCases.placed(
                        HypervisorCases.initialMachine(org.hybridv.xen.Faults.NONE, pcpus), placement);
                runs = generated.stream().map(r -> new HypervisorCases.Run(placed, r.ops(), pcpus, placement))
                        .toList();
            }
            actions = runs.stream().mapToInt(r -> r.ops().size()).sum();
        }

        /** Every run once, I1, I2, I6 after and I7 on every step; returns a checksum of the outcomes. */
        public long runAll() {
            long sum = 0;
            for (HypervisorCases.Run run : runs) {
                sum += run(run);
            }
            return sum;
        }

        /** One run, checked after every step. */
        public static long run(HypervisorCases.Run run) {
            long sum = 0;
            XenMachine m = run.initial();
            for (HypervisorCases.Op op : run.ops()) {
                HvStep s = step(m, op);
                sum += s.outcome().getClass().hashCode();
                m = s.machine();
            }
            return sum;
        }

        /** One action: {@link Hypervisor#run} and the checks of {@code hybridv check}'s hypervisor property. */
        public static HvStep step(XenMachine m, HypervisorCases.Op op) {
            HvStep s = org.hybridv.check.Completed.run(m, op).step();
            org.hybridv.check.Verdict v = org.hybridv.check.HypervisorProperty.checkStep(1, m, op, s);
            if (!v.holds()) {
                throw new ViolationFound("after " + op + ": " + v);
            }
            return s;
        }
    }

    /** Actions of the hybrid kernel in lockstep: {@code runs} runs of {@link HybridCases#generate}. */
    public static final class HybridActions {
        public final List<HybridCases.Run> runs;
        public final int actions;

        public HybridActions(long seed, int runCount) {
            runs = runs(seed, runCount, HybridCases::generate);
            actions = runs.stream().mapToInt(r -> r.ops().size()).sum();
        }

        /** Every run once (including its start), {@link HybridInvariants#check} after every step. */
        public long runAll() {
            long sum = 0;
            for (HybridCases.Run run : runs) {
                Lockstep l = run.start();
                for (GuestOp op : run.ops()) {
                    Lockstep.LockstepStep s = l.step(op);
                    List<HybridInvariants.Violation> v = HybridInvariants.check(s);
                    if (!v.isEmpty()) {
                        throw new ViolationFound(op + " on " + run.mode() + ": " + v);
                    }
                    sum += s.guest().result().getClass().hashCode();
                    l = s.post();
                }
            }
            return sum;
        }
    }

    /** {@code count} runs drawn from one {@link Choices#random} stream: the same seed gives the same runs. */
    static <R> List<R> runs(long seed, int count, java.util.function.Function<Choices, R> generator) {
        Choices c = Choices.random(seed);
        List<R> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(generator.apply(c));
        }
        return List.copyOf(out);
    }
}
