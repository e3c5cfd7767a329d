package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.DeviceCases;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.AtaDisk;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.EmulatedDevices;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * The devices the hypervisor emulates (docs/emulation.md), each driven by a guest's accesses through the VM exits the
 * hypervisor handles ({@code Hypervisor.run}) and judged by the rule restated here over what the guest and the device
 * show: the value an RDMSR or IN returns, the #GP(0) injected or not, the device's registers afterwards, the memory
 * the hypervisor writes, the disk's sectors. None of the judging calls the emulation: each property keeps its own
 * copy of the device, built from the rule (EMU-1, EMU-3, EMU-5 for the x2APIC timer; EMU-2, EMU-4 for the UART;
 * EMU-7 for the ATA disk; BOOT-7 and EMU-6 for the KVM MSRs).
 *
 * <p>Before these properties no property named a device's registers: an x2APIC register read back wrong, an LSR bit
 * lost, an ATA status or LBA slip, a KVM MSR answered where it is #GP was seen, if at all, only by the lockstep with
 * the native twin (which shares the ATA disk's code) or by a hand-written scenario.
 */
class DeviceEmulationProperties {
    private static final int GP = 13;

    @Provide
    Arbitrary<DeviceCases.ApicRun> apicRuns() {
        return JqwikChoices.arbitrary(DeviceCases::apic);
    }

    @Provide
    Arbitrary<DeviceCases.PortRun> uartRuns() {
        return JqwikChoices.arbitrary(DeviceCases::uart);
    }

    @Provide
    Arbitrary<DeviceCases.PortRun> ataRuns() {
        return JqwikChoices.arbitrary(DeviceCases::ata);
    }

    @Provide
    Arbitrary<DeviceCases.KvmCase> kvmCases() {
        return JqwikChoices.arbitrary(DeviceCases::kvm);
    }

    // ---- x2APIC (EMU-1, EMU-3, EMU-5) ----------------------------------------------------------------------------

    /** Intel SDM Vol. 3A Figure 10-10: divide configuration bits 3, 1, 0 → the divide value. */
    private static final long[] DIVIDE_BY = {2, 4, 8, 16, 32, 64, 128, 1};

    /**
     * The x2APIC registers of the model (SDM Vol. 3A §10.12.1.2, Table 10-6; §10.5.4), kept by the property: EOI
     * (80BH) write-only, 0 only; LVT timer (832H) read/write, vector 7:0, mask 16, mode 18:17 kept; initial count
     * (838H) read/write, 32 bits, a write arms the timer (current count := initial count); current count (839H)
     * read-only; divide configuration (83EH) read/write, bits 0, 1, 3 kept. Any other MSR of 800H–8FFH: #GP(0).
     * Every access of 800H–8FFH exits (EMU-1); 7FFH and 900H, outside the range, pass through to the processor,
     * which implements neither: #GP(0) delivered in the guest with no exit.
     */
    @Property(seed = Budget.SEED, tries = 200)
    void everyX2ApicAccessIsEmulatedAsTheRegisterMapSays(@ForAll("apicRuns") DeviceCases.ApicRun run) {
        VcpuId v = new VcpuId(run.domain(), 0);
        XenMachine m = HypervisorCases.initialMachine();
        long lvt = 1L << 16; // reset: masked (SDM §10.4.7.1)
        long init = 0;
        long cur = 0;
        long div = 0;
        long phase = 0; // bus clocks toward the next decrement (SDM §10.5.4: one decrement per divide value)
        long eois = 0;
        int step = 0;
        for (DeviceCases.ApicOp op : run.ops()) {
            step++;
            String at = "step " + step + " (" + op + ") of " + run;
            EmulatedDevices before = m.domain(run.domain()).devices();
            if (op instanceof DeviceCases.Advance a) {
                // periodic mode is 01 in bits 18:17 of the LVT timer entry (Figure 10-8)
                ApicTimerRule t = ApicTimerRule.after(cur, phase, init, ((lvt >>> 17) & 3) == 1,
                        DIVIDE_BY[(int) (((div >>> 1) & 4) | (div & 3))], a.ticks());
                boolean expired = t.expired();
                cur = t.count();
                phase = t.phase();
                boolean masked = (lvt & (1L << 16)) != 0;
                Statistics.label("x2APIC").collect(!expired ? "time: counting or stopped"
                        : masked ? "time: expired, masked" : "time: expired, vector requested");
                m = VirtualTime.advanceTime(m, a.ticks());
                EmulatedDevices after = m.domain(run.domain()).devices();
                assertThat(after.interrupt().requested()).as("the timer's vector requested, " + at)
                        .isEqualTo(before.interrupt().requested() || (expired && !masked));
            } else {
                GuestInstruction insn = ((DeviceCases.Access) op).insn();
                boolean write = insn instanceof GuestInstruction.Wrmsr;
                long msr = write ? ((GuestInstruction.Wrmsr) insn).msr() : ((GuestInstruction.Rdmsr) insn).msr();
                long value = write ? ((GuestInstruction.Wrmsr) insn).value() : 0;
                HvStep st = Hypervisor.run(m, v, insn);
                if (msr < 0x800 || msr > 0x8FF) {
                    Statistics.label("x2APIC").collect("outside 800H-8FFH: passes through");
                    assertThat(st.outcome()).as(at).isEqualTo(new VcpuOutcome.Delivered(GP, 0, true, 0));
                    assertThat(st.machine().domain(run.domain()).devices().withInterrupt(before.interrupt())).as(at)
                            .isEqualTo(before);
                    m = st.machine();
                    continue;
                }
                assertThat(st.outcome().exited()).as("EMU-1: every x2APIC access exits, " + at).isTrue();
                Long read = null; // the value an accepted RDMSR returns; null: #GP(0)
                boolean accepted = false;
                String region;
                if (msr == 0x80B) {
                    region = write ? (value == 0 ? "EOI write 0" : "EOI write non-zero: #GP") : "EOI read: #GP";
                    accepted = write && value == 0;
                    if (accepted) {
                        eois++;
                    }
                } else if (msr == 0x832) {
                    region = write ? "LVT timer write" : "LVT timer read";
                    accepted = true;
                    if (write) {
                        lvt = value & (0xFFL | (1L << 16) | (3L << 17));
                    } else {
                        read = lvt;
                    }
                } else if (msr == 0x838) {
                    region = write ? "initial count write" : "initial count read";
                    accepted = true;
                    if (write) {
                        init = value & 0xFFFF_FFFFL;
                        cur = init;
                        phase = 0;
                    } else {
                        read = init;
                    }
                } else if (msr == 0x839) {
                    region = write ? "current count write: #GP" : "current count read";
                    accepted = !write;
                    read = write ? null : cur;
                } else if (msr == 0x83E) {
                    region = write ? "divide write" : "divide read";
                    accepted = true;
                    if (write) {
                        div = value & 0b1011;
                        phase %= DIVIDE_BY[(int) (((div >>> 1) & 4) | (div & 3))];
                    } else {
                        read = div;
                    }
                } else {
                    region = "other x2APIC MSR: #GP";
                }
                Statistics.label("x2APIC").collect(region);
                if (!accepted) {
                    assertThat(st.outcome()).as(at).isInstanceOf(VcpuOutcome.Injected.class);
                    VcpuOutcome.Injected gp = (VcpuOutcome.Injected) st.outcome();
                    assertThat(new int[] {gp.vector(), gp.errorCode()}).as("#GP(0), " + at).containsExactly(GP, 0);
                    assertThat(gp.errorCodeValid()).as(at).isTrue();
                    // (the VM entry before it may have injected a requested timer vector: EMU-5, not this access)
                    assertThat(st.machine().domain(run.domain()).devices().withInterrupt(before.interrupt()))
                            .as("a refused access changes no register, " + at).isEqualTo(before);
                } else {
                    assertThat(st.outcome()).as(at).isEqualTo(new VcpuOutcome.Resumed(write ? ExitReason.MSR_WRITE
                            : ExitReason.MSR_READ, write ? 0 : read, "EMU-3"));
                    if (msr == 0x80B) {
                        assertThat(st.machine().domain(run.domain()).devices().interrupt().inService())
                                .as("the EOI ends the vector in service, " + at).isZero();
                    }
                }
                m = st.machine();
            }
            EmulatedDevices now = m.domain(run.domain()).devices();
            assertThat(new long[] {now.lvtTimer(), now.initCount(), now.curCount(), now.divConf(), now.eois(),
                now.timerPhase()}).as("LVT timer, initial count, current count, divide, EOIs, divider phase after " + at)
                    .containsExactly(lvt, init, cur, div, eois, phase);
            assertThat(new Object[] {now.uartTx(), now.uartLcr(), now.ata()}).as("the other devices, " + at)
                    .containsExactly(before.uartTx(), before.uartLcr(), before.ata());
        }
        Statistics.label("x2APIC").coverage(cov -> {
            for (String k : new String[] {"EOI write 0", "EOI write non-zero: #GP", "EOI read: #GP", "LVT timer write",
                "LVT timer read", "initial count write", "initial count read", "current count write: #GP",
                "current count read", "divide write", "divide read", "other x2APIC MSR: #GP",
                "outside 800H-8FFH: passes through", "time: counting or stopped", "time: expired, masked",
                "time: expired, vector requested"}) {
                cov.check(k).count(n -> n >= 4);
            }
        });
    }

    // ---- UART (EMU-2, EMU-4) ---------------------------------------------------------------------------------------

    /**
     * The UART at 3F8H–3FFH (EMU-4), kept by the property: an OUT to 3F8H (THR) transmits one byte (counted), an IN of
     * it (RBR) reads 0 (nothing is received); 3FBH (LCR) is read/write, a byte; 3FDH (LSR) reads THRE (bit 5) and TEMT
     * (bit 6) set, DR (bit 0) clear: 60H, and ignores writes; the other ports of the range read 0 and ignore writes. An
     * access of 2 or 4 bytes is its first port's: the bytes above read 0. Ports outside the range (3F6H, 3F7H, 400H)
     * have no device: IN reads all ones, OUT does nothing. Every access exits (EMU-2).
     */
    @Property(seed = Budget.SEED, tries = 150)
    void theUartIsADataLineControlAndLineStatusRegister(@ForAll("uartRuns") DeviceCases.PortRun run) {
        VcpuId v = new VcpuId(run.domain(), 0);
        XenMachine m = HypervisorCases.initialMachine();
        long tx = 0;
        long lcr = 0;
        int step = 0;
        for (GuestInstruction.Io io : run.ios()) {
            step++;
            String at = "step " + step + " (" + io + ") of " + run;
            EmulatedDevices before = m.domain(run.domain()).devices();
            HvStep st = Hypervisor.run(m, v, io);
            long expected = 0;
            String region;
            if (io.port() >= 0x3F8 && io.port() <= 0x3FF) {
                int reg = io.port() - 0x3F8;
                region = (io.in() ? "IN " : "OUT ") + (reg == 0 ? "THR/RBR" : reg == 3 ? "LCR" : reg == 5 ? "LSR"
                        : "other UART port");
                if (io.in()) {
                    expected = reg == 5 ? (1 << 5) | (1 << 6) : reg == 3 ? lcr : 0;
                } else if (reg == 0) {
                    tx++;
                } else if (reg == 3) {
                    lcr = io.value() & 0xFF;
                }
            } else {
                region = "no device";
                expected = io.in() ? (io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1) : 0;
            }
            Statistics.label("UART").collect(region + (io.size() > 1 ? ", wide" : ""));
            assertThat(st.outcome()).as("EMU-2: every port exits, " + at).isInstanceOf(VcpuOutcome.Resumed.class);
            VcpuOutcome.Resumed r = (VcpuOutcome.Resumed) st.outcome();
            assertThat(r.reason()).as(at).isEqualTo(ExitReason.IO_INSTRUCTION);
            assertThat(r.value()).as("the value the guest gets, " + at).isEqualTo(expected);
            m = st.machine();
            EmulatedDevices now = m.domain(run.domain()).devices();
            assertThat(new long[] {now.uartTx(), now.uartLcr()}).as("bytes sent, LCR after " + at)
                    .containsExactly(tx, lcr);
            assertThat(now.withAta(before.ata())).as("the x2APIC registers, " + at)
                    .isEqualTo(before.withUart(tx, lcr));
            assertThat(now.ata()).as(at).isEqualTo(before.ata());
        }
        Statistics.label("UART").coverage(cov -> {
            for (String k : new String[] {"IN THR/RBR", "OUT THR/RBR", "IN LCR", "OUT LCR", "IN LSR", "OUT LSR",
                "IN other UART port", "OUT other UART port", "no device", "IN LSR, wide", "OUT LCR, wide",
                "OUT THR/RBR, wide"}) {
                cov.check(k).count(n -> n >= 10);
            }
        });
    }

    // ---- ATA disk (EMU-7) -----------------------------------------------------------------------------------------

    /** The ATA disk as ATA/ATAPI-6 §7–§8 and EMU-7 describe it, kept by the property. */
    private static final class Ata {
        static final int DRDY = 0x40;
        static final int DRQ = 0x08;
        static final int ERR = 0x01;
        static final int ABRT = 0x04;

        int count;
        int lbaLow;
        int lbaMid;
        int lbaHigh;
        int device;
        int status = DRDY;
        int error;
        /** 0: no transfer; 20H or 30H: the command whose data moves (DRQ). */
        int transfer;
        long target;
        int pos;
        byte[] buffer = new byte[512];
        final Map<Long, byte[]> written = new TreeMap<>();

        /** The sector's bytes: as written, else as shipped (word i of sector s: 5EC7H in 63:48, s in 47:16, i). */
        byte[] sector(long s) {
            byte[] w = written.get(s);
            if (w != null) {
                return w.clone();
            }
            byte[] b = new byte[512];
            for (int i = 0; i < 64; i++) {
                long word = 0x5EC7_0000_0000_0000L | (s << 16) | i;
                for (int k = 0; k < 8; k++) {
                    b[8 * i + k] = (byte) (word >>> (8 * k));
                }
            }
            return b;
        }

        long address() {
            return lbaLow | (long) lbaMid << 8 | (long) lbaHigh << 16 | (long) (device & 0x0F) << 24;
        }

        /** The value an IN returns; the register's own width is one byte, except the data port's. */
        long in(GuestInstruction.Io io) {
            switch (io.port()) {
                case 0x1F0:
                    if (transfer != 0x20) {
                        return 0;
                    }
                    long v = 0;
                    for (int k = 0; k < io.size(); k++) {
                        int at = pos + k;
                        v |= (at < 512 ? buffer[at] & 0xFFL : 0) << (8 * k); // nothing past the sector's end
                    }
                    advance(io.size());
                    return v;
                case 0x1F1:
                    return error;
                case 0x1F2:
                    return count;
                case 0x1F3:
                    return lbaLow;
                case 0x1F4:
                    return lbaMid;
                case 0x1F5:
                    return lbaHigh;
                case 0x1F6:
                    return device;
                default:
                    return status;
            }
        }

        void out(GuestInstruction.Io io) {
            int b = (int) (io.value() & 0xFF);
            switch (io.port()) {
                case 0x1F0 -> {
                    if (transfer == 0x30) {
                        for (int k = 0; k < io.size() && pos + k < 512; k++) {
                            buffer[pos + k] = (byte) (io.value() >>> (8 * k));
                        }
                        advance(io.size());
                    }
                }
                case 0x1F2 -> count = b;
                case 0x1F3 -> lbaLow = b;
                case 0x1F4 -> lbaMid = b;
                case 0x1F5 -> lbaHigh = b;
                case 0x1F6 -> device = b;
                case 0x1F7 -> command(b);
                default -> { } // 1F1H: features, no command of the model uses them
            }
        }

        private void command(int cmd) {
            boolean ok = (cmd == 0x20 || cmd == 0x30) && (device & 0x40) != 0 && count == 1 && address() < 16;
            if (!ok) {
                status = DRDY | ERR;
                error = ABRT;
                transfer = 0;
                return;
            }
            status = DRDY | DRQ;
            error = 0;
            transfer = cmd;
            target = address();
            pos = 0;
            buffer = cmd == 0x20 ? sector(target) : new byte[512];
        }

        private void advance(int size) {
            pos += size;
            if (pos >= 512) {
                if (transfer == 0x30) {
                    written.put(target, buffer.clone());
                }
                transfer = 0;
                status = DRDY;
                error = 0;
            }
        }
    }

    /**
     * EMU-7: the task file's registers read back what was written (a byte each); READ SECTORS (20H) and WRITE SECTORS
     * (30H) with the LBA bit, a count of 1 and an address below the disk's 16 sectors set DRQ and move the sector's
     * 512 bytes little-endian through the data port, 2 or 4 at a time, after which DRQ clears and a written sector is
     * on the disk; anything else is aborted: ERR in the status, ABRT in the error register, no DRQ; BSY is never seen.
     * A data access with no transfer reads 0 and writes nothing; the bytes of an access past the sector's end read 0
     * and are not written. Writing the task file or a command while DRQ is set is the host's error (ATA/ATAPI-6 §7:
     * the result is indeterminate), so the property does not issue it. Every access exits (EMU-2).
     */
    @Property(seed = Budget.SEED, tries = 35)
    void theAtaDiskMovesExactlyTheSectorsItsTaskFileNames(@ForAll("ataRuns") DeviceCases.PortRun run) {
        VcpuId v = new VcpuId(run.domain(), 0);
        XenMachine m = HypervisorCases.initialMachine();
        Ata ata = new Ata();
        int step = 0;
        for (GuestInstruction.Io io : run.ios()) {
            step++;
            boolean device = io.port() >= 0x1F0 && io.port() <= 0x1F7;
            if (device && !io.in() && io.port() != 0x1F0 && io.port() != 0x1F1 && (ata.status & Ata.DRQ) != 0) {
                Statistics.label("ATA").collect("not issued: task file written while DRQ");
                continue;
            }
            String at = "step " + step + " (" + io + ") of " + run;
            EmulatedDevices before = m.domain(run.domain()).devices();
            HvStep st = Hypervisor.run(m, v, io);
            long expected;
            String region;
            if (!device) {
                region = "no device";
                expected = io.in() ? (io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1) : 0;
            } else if (io.in()) {
                int transfer = ata.transfer;
                int pos = ata.pos;
                expected = ata.in(io);
                region = io.port() != 0x1F0 ? "IN register" : transfer != 0x20 ? "IN data, no transfer"
                        : pos + io.size() > 512 ? "IN data straddling the sector's end"
                        : pos + io.size() == 512 ? "IN data, the sector's last bytes" : "IN data";
            } else {
                int transfer = ata.transfer;
                int pos = ata.pos;
                ata.out(io);
                expected = 0;
                region = io.port() == 0x1F7 ? ((ata.status & Ata.ERR) != 0 ? "command aborted"
                        : ata.transfer == 0x20 ? "READ SECTORS accepted" : "WRITE SECTORS accepted")
                        : io.port() != 0x1F0 ? "OUT register" : transfer != 0x30 ? "OUT data, no transfer"
                        : pos + io.size() > 512 ? "OUT data straddling the sector's end"
                        : pos + io.size() == 512 ? "OUT data, the sector's last bytes" : "OUT data";
            }
            Statistics.label("ATA").collect(region);
            assertThat(st.outcome()).as("EMU-2: every port exits, " + at).isInstanceOf(VcpuOutcome.Resumed.class);
            VcpuOutcome.Resumed r = (VcpuOutcome.Resumed) st.outcome();
            assertThat(r.reason()).as(at).isEqualTo(ExitReason.IO_INSTRUCTION);
            assertThat(r.value()).as("the value the guest gets, " + at).isEqualTo(expected);
            m = st.machine();
            AtaDisk d = m.domain(run.domain()).devices().ata();
            assertThat(new long[] {d.count(), d.lba(), d.device(), d.status(), d.error()})
                    .as("count, LBA 23:0, device, status, error after " + at)
                    .containsExactly(ata.count, ata.lbaLow | ata.lbaMid << 8 | ata.lbaHigh << 16, ata.device,
                            ata.status, ata.error);
            assertThat(m.domain(run.domain()).devices().withAta(before.ata())).as("the other devices, " + at)
                    .isEqualTo(before);
        }
        // the disk: exactly the sectors written, each with the bytes the guest sent
        Map<Long, java.util.List<Long>> expected = new TreeMap<>();
        for (Map.Entry<Long, byte[]> e : ata.written.entrySet()) {
            java.util.List<Long> words = new java.util.ArrayList<>();
            for (int i = 0; i < 64; i++) {
                long w = 0;
                for (int k = 0; k < 8; k++) {
                    w |= (e.getValue()[8 * i + k] & 0xFFL) << (8 * k);
                }
                words.add(w);
            }
            expected.put(e.getKey(), words);
        }
        assertThat(m.domain(run.domain()).devices().ata().written()).as("the sectors on the disk after %s", run)
                .isEqualTo(expected);
        Statistics.label("ATA").coverage(cov -> {
            for (String k : new String[] {"READ SECTORS accepted", "WRITE SECTORS accepted", "command aborted",
                "IN register", "OUT register", "IN data", "OUT data", "IN data, the sector's last bytes",
                "OUT data, the sector's last bytes", "IN data straddling the sector's end",
                "OUT data straddling the sector's end", "IN data, no transfer", "OUT data, no transfer",
                "no device", "not issued: task file written while DRQ"}) {
                cov.check(k).count(n -> n >= 2);
            }
        });
    }

    // ---- KVM MSRs (BOOT-7, EMU-6) --------------------------------------------------------------------------

    /**
     * The KVM personality's MSRs, restated from Linux's include/uapi/asm/kvm_para.h and KVM's {@code kvm_set_msr_common}
     * (rules BOOT-7, EMU-6), for one WRMSR of vCPU 0 of d2 (HAP; guest-physical frames 0–7 are its RAM):
     * <ul>
     * <li>{@code MSR_KVM_SYSTEM_TIME_NEW} (4B564D01H) never faults; with bit 0 set and a 32-byte, 8-byte aligned
     * structure inside one page of RAM, the {@code pvclock_vcpu_time_info} is filled: version 2, TSC timestamp 0,
     * system time 0, mul 2^31, shift 0, flags {@code PVCLOCK_TSC_STABLE_BIT}; else nothing is written.</li>
     * <li>{@code MSR_KVM_PV_EOI_EN} (4B564D04H): an address not 4-byte aligned is #GP(0); with bit 0 set an address
     * outside RAM is #GP(0) too (KVM's cache of it cannot be set up); with bit 0 set in RAM the 32-bit word is
     * cleared and PV EOI is on at that address; with bit 0 clear PV EOI is off.</li>
     * <li>Every other KVM MSR, and Xen's hypercall MSRs: #GP(0). Under the Xen personality every KVM MSR is
     * #GP(0).</li>
     * </ul>
     */
    @Property(seed = Budget.SEED, tries = 600)
    void theKvmMsrsAreAnsweredOnlyAsKvmAnswersThem(@ForAll("kvmCases") DeviceCases.KvmCase k) {
        VcpuId v = HypervisorCases.H;
        XenMachine m = HypervisorCases.initialMachine();
        if (k.kvm()) {
            m = m.withDomain(m.domain(2).withIdentity(CpuidIdentity.KVM));
            // PV EOI on at an address of its RAM first, so that turning it off is seen
            m = Hypervisor.run(m, v, new GuestInstruction.Wrmsr(0x4b56_4d04L, 0x4F01)).machine();
        }
        PhysicalMemory mem = m.paging().memory();
        EmulatedDevices devs = m.domain(2).devices();
        HvStep st = Hypervisor.run(m, v, new GuestInstruction.Wrmsr(k.msr(), k.value()));
        long gpa = k.value() & ~1L;
        boolean enable = (k.value() & 1) != 0;
        boolean ram = gpa >= 0 && (gpa >>> 12) < 8;
        long mfn = 0x30 + (gpa >>> 12);
        int q = (int) ((gpa & 0xFFF) >>> 3);
        boolean gp;
        PhysicalMemory expectedMem = mem;
        long pvEoi = devs.interrupt().pvEoi();
        String region;
        if (!k.kvm()) {
            gp = true;
            region = "Xen personality: #GP";
        } else if (k.msr() == 0x4b56_4d01L) {
            gp = false;
            boolean fills = enable && ram && (gpa & 7) == 0 && (gpa & 0xFFF) + 32 <= 0x1000;
            region = fills ? "system time: filled" : !enable ? "system time: off" : "system time: not filled";
            if (fills) {
                expectedMem = mem.write(mfn, q, 2).write(mfn, q + 1, 0).write(mfn, q + 2, 0)
                        .write(mfn, q + 3, (1L << 31) | (1L << 40));
            }
        } else if (k.msr() == 0x4b56_4d04L) {
            gp = (gpa & 3) != 0 || (enable && !ram);
            region = (gpa & 3) != 0 ? "PV EOI: misaligned #GP" : gp ? "PV EOI: not RAM #GP"
                    : enable ? "PV EOI: on" : "PV EOI: off";
            if (!gp && enable) {
                long old = mem.read(mfn, q);
                expectedMem = mem.write(mfn, q, (gpa & 4) != 0 ? old & 0xFFFF_FFFFL : old & ~0xFFFF_FFFFL);
                pvEoi = gpa;
            } else if (!gp) {
                pvEoi = -1;
            }
        } else {
            gp = true;
            region = "other MSR: #GP";
        }
        Statistics.label("KVM MSR").collect(region);
        Statistics.label("KVM MSR").coverage(cov -> {
            for (String r : new String[] {"Xen personality: #GP", "system time: filled", "system time: off",
                "system time: not filled", "PV EOI: misaligned #GP", "PV EOI: not RAM #GP", "PV EOI: on",
                "PV EOI: off", "other MSR: #GP"}) {
                cov.check(r).count(n -> n >= 20);
            }
        });
        String at = k + " (" + region + ")";
        if (gp) {
            assertThat(st.outcome()).as(at).isInstanceOf(VcpuOutcome.Injected.class);
            VcpuOutcome.Injected i = (VcpuOutcome.Injected) st.outcome();
            assertThat(new int[] {i.vector(), i.errorCode()}).as("#GP(0), " + at).containsExactly(GP, 0);
        } else {
            assertThat(st.outcome()).as(at).isInstanceOf(VcpuOutcome.Resumed.class);
            assertThat(((VcpuOutcome.Resumed) st.outcome()).reason()).as(at).isEqualTo(ExitReason.MSR_WRITE);
        }
        assertThat(st.machine().paging().memory()).as("memory after " + at).isEqualTo(expectedMem);
        EmulatedDevices now = st.machine().domain(2).devices();
        assertThat(now.interrupt().pvEoi()).as("the PV EOI address after " + at).isEqualTo(pvEoi);
        assertThat(now.withInterrupt(devs.interrupt())).as("the devices after " + at).isEqualTo(devs);
    }
}
