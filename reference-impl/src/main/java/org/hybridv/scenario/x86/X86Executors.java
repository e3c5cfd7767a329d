package org.hybridv.scenario.x86;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.CachedMapping;
import org.hybridv.x86.Level;
import org.hybridv.x86.Processor;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * Runs the x86 steps: each is {@code post = f(pre, step)} through {@link Processor}, and compares the outcome with
 * the step's expectation. Nothing here decides an architectural question: that is the x86 layer's job.
 */
final class X86Executors {
    private X86Executors() {}

    static X86Machine machine(MachineState s) {
        return s.get(X86Module.MACHINE);
    }

    /** {@code pte}: a plain store of the entry; the TLB is not touched. */
    static StepResult pte(MachineState s, X86Step.Pte step) {
        X86Machine m = machine(s);
        Entry e = step.entry().value();
        X86Machine after = m.withEntry(step.table(), step.index(), e);
        List<String> notes = new ArrayList<>();
        if (e.present() && e.frame() >= m.memory().frameCount()) {
            notes.add("the entry references frame " + Render.hex(e.frame()) + ", beyond memoryFrames = "
                    + m.memory().frameCount() + ": unbacked memory, which reads as all ones and drops writes");
        }
        return new StepResult(s.with(X86Module.MACHINE, after), Observation.of("ok", ""), List.of(), notes);
    }

    /**
     * {@code cpu}: the named register fields are written by privileged code (at CPL 0, whatever the current CPL),
     * as the instructions a kernel uses, in this order:
     * <ul>
     * <li>when the step clears CR0.PG (leaving paging, SDM Vol. 3A §9.8.5.4): MOV to CR0, MOV to CR3, WRMSR
     * IA32_EFER, MOV to CR4;</li>
     * <li>otherwise (SDM §9.8.5, initializing IA-32e mode: PAE, then CR3, then LME, then PG): WRMSR IA32_EFER, MOV to
     * CR4, MOV to CR3, MOV to CR0; except that setting CR4.PCIDE, which needs IA-32e mode (SDM §4.10.1), is a second
     * MOV to CR4 after CR0, and a CR3 load with a non-zero PCID in the same step then loads CR3 with PCID 0 first
     * and with the PCID after PCIDE is set.</li>
     * </ul>
     * Then CR2, RFLAGS.AC and PKRU (no side effects), and last the CPL. The first write that raises #GP stops the
     * step: the writes before it keep their effect, the CPL is unchanged.
     */
    static StepResult cpu(MachineState s, X86Step.Cpu step) {
        X86Machine start = machine(s);
        int cpl = start.cpu().cpl();
        CpuState cur = start.cpu();
        List<Write> writes = plan(step, cur);
        X86Machine m = start.withCpu(cur.withCpl(0));
        for (Write w : writes) {
            InstructionStep r = w.apply(m);
            if (r.outcome() instanceof GeneralProtection gp) {
                X86Machine after = r.machine().withCpu(r.machine().cpu().withCpl(cpl));
                return instructionResult(s, after, gp, X86Step.Result.orOk(step.expect()), "");
            }
            m = r.machine();
        }
        CpuState c = m.cpu();
        if (step.cr2() != null) {
            c = c.withCr2(step.cr2());
        }
        if (step.ac() != null) {
            c = c.withAc(step.ac());
        }
        if (step.pkru() != null) {
            c = c.withPkru(step.pkru());
        }
        c = c.withCpl(step.cpl() != null ? step.cpl() : cpl);
        X86Machine after = m.withCpu(c);
        return instructionResult(s, after, null, X86Step.Result.orOk(step.expect()), registers(c));
    }

    /** One register write of a {@code cpu} step. */
    private interface Write {
        InstructionStep apply(X86Machine m);
    }

    private static List<Write> plan(X86Step.Cpu step, CpuState cur) {
        Cr0 cr0 = step.cr0() == null ? null : step.cr0().applyTo(cur.cr0());
        Cr4 cr4 = step.cr4() == null ? null : step.cr4().applyTo(cur.cr4());
        Efer efer = step.efer() == null ? null : step.efer().applyTo(cur.efer());
        Long cr3 = step.cr3() == null ? null : cr3Operand(step.cr3(), cur.cr3());
        List<Write> w = new ArrayList<>();
        boolean leavingPaging = cr0 != null && cur.cr0().pg() && !cr0.pg();
        if (leavingPaging) {
            w.add(m -> Processor.movToCr0(m, cr0));
            if (cr3 != null) {
                w.add(m -> Processor.movToCr3(m, cr3));
            }
            if (efer != null) {
                w.add(m -> Processor.writeEfer(m, efer));
            }
            if (cr4 != null) {
                w.add(m -> Processor.movToCr4(m, cr4));
            }
            return w;
        }
        boolean settingPcide = cr4 != null && !cur.cr4().pcide() && cr4.pcide();
        if (efer != null) {
            w.add(m -> Processor.writeEfer(m, efer));
        }
        if (cr4 != null) {
            Cr4 first = settingPcide ? cr4.withPcide(false) : cr4;
            w.add(m -> Processor.movToCr4(m, first));
        }
        boolean deferCr3 = settingPcide && cr3 != null && (cr3 & 0xFFF) != 0;
        if (cr3 != null) {
            long first = deferCr3 ? cr3 & ~0xFFFL & ~Cr3.NO_FLUSH_BIT : cr3;
            w.add(m -> Processor.movToCr3(m, first));
        }
        if (cr0 != null) {
            w.add(m -> Processor.movToCr0(m, cr0));
        }
        if (settingPcide) {
            w.add(m -> Processor.movToCr4(m, cr4));
        }
        if (deferCr3) {
            w.add(m -> Processor.movToCr3(m, cr3));
        }
        return w;
    }

    private static long cr3Operand(X86Step.Cr3Load load, Cr3 current) {
        long frame = load.frame() != null ? load.frame() : current.pml4Frame();
        long pcid = load.pcid() != null ? load.pcid() : current.pcid();
        return (frame << 12) | pcid | (Boolean.TRUE.equals(load.noFlush()) ? Cr3.NO_FLUSH_BIT : 0);
    }

    /** {@code access}: one quadword access at the step's CPL (for this access only); a #PF is delivered. */
    static StepResult access(MachineState s, X86Step.MemoryAccess step) {
        X86Machine m = machine(s);
        int cpl = m.cpu().cpl();
        X86Machine at = step.cpl() == null ? m : m.withCpu(m.cpu().withCpl(step.cpl()));
        AccessStep r = Processor.access(at, step.access());
        X86Machine after = r.machine().withCpu(r.machine().cpu().withCpl(cpl));
        AccessOutcome outcome = r.outcome();
        String hit = r.tlbHit() ? " (TLB hit)" : "";
        Map<String, String> facts = new LinkedHashMap<>();
        Observation observed;
        if (outcome instanceof AccessOutcome.Completed c) {
            facts.put("physical", Render.hex(c.physicalAddress()));
            facts.put("value", Render.hex(c.value()));
            facts.put("tlbHit", String.valueOf(r.tlbHit()));
            observed = new Observation("ok", "ok: physical " + Render.hex(c.physicalAddress()) + ", value "
                    + Render.hex(c.value()) + hit, facts);
        } else if (outcome instanceof PageFault pf) {
            facts.put("errorCode", Render.hex(pf.errorCode().bits()));
            facts.put("errorCodeFlags", pf.errorCode().names());
            facts.put("cr2", Render.hex(after.cpu().cr2()));
            facts.put("tlbHit", String.valueOf(r.tlbHit()));
            observed = new Observation("pageFault", "#PF error code " + Render.errorCode(pf.errorCode()) + ", CR2 "
                    + Render.hex(after.cpu().cr2()) + hit, facts);
        } else {
            GeneralProtection gp = (GeneralProtection) outcome;
            facts.put("cause", gp.cause());
            observed = new Observation("generalProtection", "#GP(0): " + gp.cause(), facts);
        }
        List<Check> checks = step.expect() == null ? List.of() : accessChecks(step.expect(), observed, r, after);
        return new StepResult(s.with(X86Module.MACHINE, after), observed, checks);
    }

    private static List<Check> accessChecks(X86Step.AccessExpect e, Observation o, AccessStep r, X86Machine after) {
        List<Check> checks = new ArrayList<>();
        String expected = e instanceof X86Step.AccessExpect.Ok ? "ok"
                : e instanceof X86Step.AccessExpect.PageFault ? "pageFault" : "generalProtection";
        Check result = Check.equal("result", expected, o.result());
        checks.add(result);
        if (!result.holds()) {
            return checks;
        }
        if (e instanceof X86Step.AccessExpect.Ok ok && r.outcome() instanceof AccessOutcome.Completed c) {
            Check.value(checks, "physical", ok.physical(), c.physicalAddress(), Render::hex);
            Check.value(checks, "value", ok.value(), c.value(), Render::hex);
            Check.flag(checks, "tlbHit", ok.tlbHit(), r.tlbHit());
        } else if (e instanceof X86Step.AccessExpect.PageFault pf && r.outcome() instanceof PageFault f) {
            if (pf.errorCode() != null) {
                checks.add(Check.value("errorCode", pf.errorCode() & 0xFFFF_FFFFL, f.errorCode().bits(),
                        Render::errorCode));
            }
            Check.value(checks, "cr2", pf.cr2(), after.cpu().cr2(), Render::hex);
            Check.flag(checks, "tlbHit", pf.tlbHit(), r.tlbHit());
        }
        return checks;
    }

    /** {@code invlpg}: INVLPG at the current CPL. */
    static StepResult invlpg(MachineState s, X86Step.Invlpg step) {
        X86Machine m = machine(s);
        InstructionStep r = Processor.invlpg(m, step.linear());
        return instructionResult(s, r.machine(), r.outcome() instanceof GeneralProtection gp ? gp : null,
                X86Step.Result.orOk(step.expect()), invalidated(m, r.machine()));
    }

    /** {@code movToCr3}: MOV to CR3 of the exact operand at the current CPL. */
    static StepResult movToCr3(MachineState s, X86Step.MovToCr3 step) {
        X86Machine m = machine(s);
        InstructionStep r = Processor.movToCr3(m, step.value());
        return instructionResult(s, r.machine(), r.outcome() instanceof GeneralProtection gp ? gp : null,
                X86Step.Result.orOk(step.expect()), "CR3 " + Render.hex(r.machine().cpu().cr3().bits()) + ", "
                        + invalidated(m, r.machine()));
    }

    private static String invalidated(X86Machine before, X86Machine after) {
        int n = before.tlb().entries().size() - after.tlb().entries().size();
        int p = before.tlb().pscEntries().size() - after.tlb().pscEntries().size();
        return n + " TLB " + (n == 1 ? "entry" : "entries") + " invalidated"
                + (p == 0 ? "" : ", " + p + " paging-structure-cache " + (p == 1 ? "entry" : "entries"));
    }

    /** {@code invpcid}: INVPCID of the given type and descriptor at the current CPL. */
    static StepResult invpcid(MachineState s, X86Step.Invpcid step) {
        X86Machine m = machine(s);
        InstructionStep r = Processor.invpcid(m, step.type(), step.pcid(), step.linearOrZero());
        return instructionResult(s, r.machine(), r.outcome() instanceof GeneralProtection gp ? gp : null,
                X86Step.Result.orOk(step.expect()), invalidated(m, r.machine()));
    }

    private static TlbTag tagOf(Integer vpid, Long ep4ta) {
        return new TlbTag(vpid != null ? vpid : 0, ep4ta != null ? ep4ta : TlbTag.NO_EPT);
    }

    private static Level levelOf(X86Step.Cache cache) {
        return switch (cache) {
            case PML4 -> Level.PML4;
            case PDPTE -> Level.PDPT;
            case PDE -> Level.PD;
            case TLB -> throw new IllegalArgumentException("the TLB is not a paging-structure cache");
        };
    }

    /** The entry of {@code cache} a lookup of {@code linear} would use in the context, or null. */
    private static CachedMapping cachedFor(X86Machine m, X86Step.Cache cache, TlbTag tag, int pcid, long linear) {
        return cache == X86Step.Cache.TLB ? m.tlb().lookup(tag, pcid, linear)
                : m.tlb().lookupPsc(tag, pcid, linear, levelOf(cache));
    }

    /** {@code evict}: the processor drops the entry of one cache that a lookup would use. */
    static StepResult evict(MachineState s, X86Step.Evict step) {
        X86Machine m = machine(s);
        int pcid = step.pcid() != null ? step.pcid() : m.cpu().currentPcid();
        CachedMapping e = cachedFor(m, step.cache(), tagOf(step.vpid(), step.ep4ta()), pcid, step.linear());
        List<Check> checks = new ArrayList<>();
        Check.flag(checks, "evicted", step.evicted(), e != null);
        if (e == null) {
            return new StepResult(s, Observation.of("ok", "nothing in the " + step.cache().word() + " cache for "
                    + Render.hex(step.linear()) + ", PCID " + Render.hex(pcid)), checks);
        }
        return new StepResult(s.with(X86Module.MACHINE, Processor.evict(m, e)),
                Observation.of("ok", "evicted " + e), checks);
    }

    /** {@code expectPsc}: the entry of one paging-structure cache a walk would use, if any. */
    static StepResult expectPsc(MachineState s, X86Step.ExpectPsc step) {
        X86Machine m = machine(s);
        int pcid = step.pcid() != null ? step.pcid() : m.cpu().currentPcid();
        PscEntry e = m.tlb().lookupPsc(tagOf(step.vpid(), step.ep4ta()), pcid, step.linear(),
                levelOf(step.cache()));
        List<Check> checks = new ArrayList<>();
        if (step.cached() != null) {
            Check.flag(checks, "cached", step.cached(), e != null);
        }
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("cached", String.valueOf(e != null));
        String text = "no " + step.cache().word() + "-cache entry for " + Render.hex(step.linear()) + ", PCID "
                + Render.hex(pcid);
        if (e != null) {
            facts.put("table", Render.hex(e.nextTable()));
            text = step.cache().word() + "-cache entry for " + Render.hex(step.linear()) + ": table "
                    + Render.hex(e.nextTable()) + (e.writable() ? " RW" : " RO") + (e.user() ? " US" : " S")
                    + (e.executeDisable() ? " XD" : "") + ", PCID " + Render.hex(e.pcid());
            Check.value(checks, "table", step.table(), e.nextTable(), Render::hex);
            Check.flag(checks, "writable", step.writable(), e.writable());
            Check.flag(checks, "user", step.user(), e.user());
            Check.flag(checks, "noExecute", step.noExecute(), e.executeDisable());
        } else if (step.cached() == null) {
            checks.add(Check.equal("cached", true, false));
        }
        return new StepResult(s, new Observation("ok", text, facts), checks);
    }

    private static StepResult instructionResult(MachineState s, X86Machine after, GeneralProtection gp,
            X86Step.Result expect, String okText) {
        Observation observed;
        if (gp != null) {
            observed = new Observation("generalProtection", "#GP(0): " + gp.cause(), Map.of("cause", gp.cause()));
        } else {
            observed = Observation.of("ok", okText.isEmpty() ? "ok" : "ok: " + okText);
        }
        return new StepResult(s.with(X86Module.MACHINE, after), observed,
                List.of(Check.equal("result", expect.result().word(), observed.result())));
    }

    private static String registers(CpuState c) {
        StringBuilder b = new StringBuilder();
        b.append("CR0 ").append(Render.cr0(c)).append(", CR3 ").append(Render.hex(c.cr3().bits()))
                .append(", CR4 ").append(Render.cr4(c)).append(", EFER ").append(Render.efer(c))
                .append(", CPL ").append(c.cpl());
        if (c.ac()) {
            b.append(", AC 1");
        }
        if (c.pkru() != 0) {
            b.append(", PKRU ").append(Render.hex(c.pkru() & 0xFFFF_FFFFL));
        }
        b.append(", CR2 ").append(Render.hex(c.cr2()));
        return b.toString();
    }

    /** {@code expectEntry}: the entry in memory, field by field. */
    static StepResult expectEntry(MachineState s, X86Step.ExpectEntry step) {
        Entry e = machine(s).entry(step.table(), step.index());
        List<Check> checks = new ArrayList<>();
        Check.value(checks, "raw", step.raw(), e.raw(), Render::hex);
        checks.addAll(step.pattern().check(e));
        return new StepResult(s, new Observation("ok", Render.entry(e), Map.of("raw", Render.hex(e.raw()))), checks);
    }

    /** {@code expectCpu}: register values. */
    static StepResult expectCpu(MachineState s, X86Step.ExpectCpu step) {
        CpuState c = machine(s).cpu();
        List<Check> checks = new ArrayList<>();
        register(checks, "cr0", step.cr0(), c.cr0().bits());
        register(checks, "cr2", step.cr2(), c.cr2());
        register(checks, "cr3", step.cr3(), c.cr3().bits());
        register(checks, "cr4", step.cr4(), c.cr4().bits());
        register(checks, "efer", step.efer(), Render.eferBits(c));
        if (step.cpl() != null) {
            checks.add(Check.value("cpl", step.cpl(), c.cpl(), String::valueOf));
        }
        Check.flag(checks, "ac", step.ac(), c.ac());
        register(checks, "pkru", step.pkru(), c.pkru() & 0xFFFF_FFFFL);
        return new StepResult(s, Observation.of("ok", registers(c)), checks);
    }

    private static void register(List<Check> checks, String name, Long expected, long observed) {
        Check.value(checks, name, expected, observed, Render::hex);
    }

    /** {@code expectTlb}: the translation a lookup would use, if any. */
    static StepResult expectTlb(MachineState s, X86Step.ExpectTlb step) {
        X86Machine m = machine(s);
        int pcid = step.pcid() != null ? step.pcid() : m.cpu().currentPcid();
        TlbTag tag = new TlbTag(step.vpid() != null ? step.vpid() : 0,
                step.ep4ta() != null ? step.ep4ta() : TlbTag.NO_EPT);
        TlbEntry t = m.tlb().lookup(tag, pcid, step.linear());
        String context = (tag.vpid() == 0 ? "" : ", VPID " + Render.hex(tag.vpid()))
                + (tag.combined() ? ", EP4TA " + Render.hex(tag.ep4ta()) : "");
        List<Check> checks = new ArrayList<>();
        if (step.cached() != null) {
            Check.flag(checks, "cached", step.cached(), t != null);
        }
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("cached", String.valueOf(t != null));
        String text = "not cached for PCID " + Render.hex(pcid) + context;
        if (t != null) {
            String size = t.pageSize().name().substring("SIZE_".length());
            facts.put("physical", Render.hex(t.translate(step.linear())));
            facts.put("pageSize", size);
            facts.put("global", String.valueOf(t.global()));
            text = "cached: " + Render.hex(step.linear()) + " maps to " + Render.hex(t.translate(step.linear())) + " ("
                    + size + (t.rights().writable() ? " RW" : " RO") + (t.rights().user() ? " US" : " S")
                    + (t.rights().executeDisable() ? " XD" : "") + (t.dirty() ? " D" : "")
                    + (t.global() ? " G" : "") + ", PCID " + Render.hex(t.pcid()) + context + ")";
            Check.value(checks, "physical", step.physical(), t.translate(step.linear()), Render::hex);
            if (step.pageSize() != null) {
                checks.add(Check.equal("pageSize", step.pageSize().word(), size));
            }
            Check.flag(checks, "global", step.global(), t.global());
            Check.flag(checks, "writable", step.writable(), t.rights().writable());
            Check.flag(checks, "user", step.user(), t.rights().user());
            Check.flag(checks, "noExecute", step.noExecute(), t.rights().executeDisable());
            Check.flag(checks, "dirty", step.dirty(), t.dirty());
        } else if (step.cached() == null) {
            checks.add(Check.equal("cached", true, false));
        }
        return new StepResult(s, new Observation("ok", text, facts), checks);
    }
}
