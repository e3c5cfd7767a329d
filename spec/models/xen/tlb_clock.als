module xen/tlb_clock

/*
 * Xen's TLB-flush clock: how the hypervisor knows which physical CPUs may still cache a translation of a frame whose
 * last use has ended, so that a type change (TLB-1) or a re-allocation (TLB-5) flushes only those CPUs. A global
 * counter ticks once per TLB flush; each CPU keeps the value its TLB was last flushed at; each frame keeps the value
 * the counter had when its last use ended (its stamp). A CPU needs a flush for a frame iff the counter is in a wrap
 * (0), or its flush is not later than the stamp and the stamp is not later than the counter.
 *
 * Sources: docs/rules/xen.md TLB-2 (the stamp is taken when the use ends), TLB-8 (the need-flush test, the tick per
 * flush, the wrap and the global flush that starts a new period). Java: org.hybridv.xen.TlbFlushClock.
 *
 * Abstractions: the counter is 2 bits wide (0..3), so a trace of a few flushes wraps; Xen's is 32 bits, and the
 * rules do not depend on the width. Caching is a ghost relation (cached): which CPUs may hold a translation of which
 * frame, filled by a use and emptied only by that CPU's flush — what the clock has to over-approximate. A frame's
 * use ending makes it "ended" (its stamp is what a type change would consult); using it again begins a new use.
 */
-- solver: sat4j

-- The counter, 2 bits: 0..3 (Alloy integers of 3 bits, -4..3, hold it).
fun MAX: Int { 3 }
fun tick[t: Int]: Int { t = MAX implies 0 else t.plus[1] }

one sig Clock { var now: one Int }
sig Cpu {
  var time: one Int,                 -- the counter value this CPU's TLB was last flushed at
  var cached: set Page               -- ghost: the frames this CPU may still hold a translation of
}
sig Page { var stamp: one Int }      -- the counter value when the frame's last use ended
var sig Ended in Page {}             -- frames whose last use has ended (their stamp is the one consulted)

-- TLB-8: must a CPU last flushed at c be flushed for a frame stamped p?
pred needFlush[c, p: Int] { Clock.now = 0 or (lte[c, p] and lte[p, Clock.now]) }

-- The seeded bug: the comparison made the wrong way round (the CPU's time against the stamp reversed).
pred needFlushReversed[c, p: Int] { Clock.now = 0 or (lte[p, c] and lte[c, Clock.now]) }

pred init {
  Clock.now = 1
  all c: Cpu | c.time = 0 and no c.cached
  all p: Page | p.stamp = 0
  no Ended
}

-- CPU c begins (or continues) to use frame p: it may now cache a translation of it; the frame's use is live again.
pred use[c: Cpu, p: Page] {
  cached' = cached + c -> p
  Ended' = Ended - p
  now' = now and time' = time and stamp' = stamp
}

-- The frame's last use ends: TLB-2 stamps it with the counter now.
pred endUse[p: Page] {
  p not in Ended
  Ended' = Ended + p
  stamp' = stamp ++ p -> Clock.now
  now' = now and time' = time and cached' = cached
}

-- CPU c flushes its TLB: the counter ticks first (skipped during a wrap), then the CPU's time is the new value.
pred flush[c: Cpu] {
  let t = (Clock.now = 0 implies 0 else tick[Clock.now]) {
    now' = Clock -> t
    time' = time ++ c -> t
  }
  cached' = cached - c -> Page
  Ended' = Ended and stamp' = stamp
}

-- After a wrap: every CPU flushes (tick skipped: time 0) and the counter restarts at 1.
pred newPeriod {
  Clock.now = 0
  now' = Clock -> 1
  time' = Cpu -> 0
  no cached'
  Ended' = Ended and stamp' = stamp
}

pred stutter { now' = now and time' = time and cached' = cached and stamp' = stamp and Ended' = Ended }

pred step {
  stutter or newPeriod or (some c: Cpu | flush[c]) or (some p: Page | endUse[p]) or (some c: Cpu, p: Page | use[c, p])
}

pred behaviour { init and always step }

-- TLB-8's guarantee: a CPU that may still cache a frame whose use has ended is one the test says to flush.
pred safe { all c: Cpu, p: Ended & c.cached | needFlush[c.time, p.stamp] }
pred safeReversed { all c: Cpu, p: Ended & c.cached | needFlushReversed[c.time, p.stamp] }

-- The clock is also useful: a CPU that flushed after the frame's use ended is skipped (outside a wrap).
pred skipsAFlushedCpu { some c: Cpu, p: Ended - c.cached | Clock.now != 0 and not needFlush[c.time, p.stamp] }

-- Proved for every length of trace, by induction: the initial state has the invariant, every step keeps it, and
-- it implies safe. The invariant: outside a wrap, no CPU's time and no consulted stamp is later than the counter,
-- and a CPU caching an ended frame flushed at or before the frame's stamp.
pred values { all x: Clock.now + Cpu.time + Page.stamp | gte[x, 0] and lte[x, MAX] }
pred inv {
  values
  Clock.now != 0 implies {
    all c: Cpu | lte[c.time, Clock.now]
    all c: Cpu, p: Ended & c.cached | lte[c.time, p.stamp] and lte[p.stamp, Clock.now]
  }
}

assert initEstablishesInv { init implies inv }
check initEstablishesInv for 2 but 3 Int, 1 steps expect 0
run initEstablishesInvPremise { init } for 2 but 3 Int, 1 steps expect 1

assert stepPreservesInv { (inv and step) implies after inv }
check stepPreservesInv for 2 but 3 Int, 2 steps expect 0
run stepPreservesInvPremise { inv and step } for 2 but 3 Int, 2 steps expect 1

assert invIsSafe { inv implies safe }
check invIsSafe for 3 but 3 Int, 1 steps expect 0
run invIsSafePremise { inv } for 3 but 3 Int, 1 steps expect 1

-- The same on every trace of up to 6 steps from boot (a cross-check of the induction).
assert clockIsSafe { behaviour implies always safe }
check clockIsSafe for 2 but 3 Int, 1..6 steps expect 0
run clockIsSafePremise { behaviour } for 2 but 3 Int, 1..6 steps expect 1

-- The seeded bug is refuted: some trace leaves a CPU caching an ended frame the reversed test would skip.
assert reversedClockIsSafe { behaviour implies always safeReversed }
check reversedClockIsSafe for 2 but 3 Int, 1..8 steps expect 1
run reversedClockIsSafePremise { behaviour } for 2 but 3 Int, 1..8 steps expect 1

-- Not vacuous: the counter wraps and a new period starts; a flushed CPU is skipped.
run wrapAndNewPeriod { behaviour and eventually (Clock.now = 0 and after Clock.now = 1) }
  for 2 but 3 Int, 1..8 steps expect 1
run aFlushedCpuIsSkipped { behaviour and eventually skipsAFlushedCpu } for 2 but 3 Int, 1..8 steps expect 1

-- The conformance run: traces of 2 CPUs and 1 frame that wrap and start a new period (so every trace has the
-- ticks, the wrap and the global flush), each state's need-flush answers compared with Java.
run clockTraces { behaviour and eventually (Clock.now = 0 and after Clock.now = 1) }
  for exactly 2 Cpu, exactly 1 Page, 3 Int, 1..7 steps expect 1
