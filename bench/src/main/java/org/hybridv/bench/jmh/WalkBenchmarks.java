package org.hybridv.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.hybridv.bench.Workloads;
import org.hybridv.vmx.GuestStep;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Walk;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Translation throughput on one thread, on the workloads of {@link Workloads} (the same ones {@code hybridv bench}
 * times): the IA-32e 4-level walk to a 4 KiB page, a bare-metal access that misses the TLB (walk, accessed/dirty
 * update, TLB fill), and a guest access under EPT that misses the TLB (the 2-D walk). Results are returned to JMH,
 * which consumes them, so nothing is optimised away.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class WalkBenchmarks {
    private final Workloads.FourLevel fourLevel = new Workloads.FourLevel();
    private final Workloads.TwoD twoD = new Workloads.TwoD();

    /** PageWalk.walk on the prepared 4-level table. */
    @Benchmark
    public Walk walk4Level() {
        return fourLevel.walk();
    }

    /** Processor.access from a state with an empty TLB: always a miss. */
    @Benchmark
    public AccessStep accessTlbMiss() {
        return fourLevel.access();
    }

    /** A guest read under EPT from a state with an empty TLB: the full 2-D walk. */
    @Benchmark
    public GuestStep walk2D() {
        return twoD.access();
    }
}
