package org.hybridv.xen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Checks;

/**
 * A disk on the primary ATA channel driven by PIO (rule EMU-7 of docs/rules/xen.md; docs/emulation.md): the task-file
 * registers of the ATA/ATAPI command block at ports 1F0H–1F7H, READ SECTORS (20H) and WRITE SECTORS (30H) of one
 * sector in 28-bit LBA mode, and the data port that moves the sector's 512 bytes. The same device sits on the native
 * platform and, emulated behind the I/O bitmaps, in every domain of the hypervisor ({@link EmulatedDevices#ata}); its
 * {@link Blkif#DISK_SECTORS} sectors start with the contents every disk of the model ships with
 * ({@link Blkif#initialWord}).
 *
 * <table>
 * <caption>registers</caption>
 * <tr><th>port</th><th>read</th><th>write</th></tr>
 * <tr><td>1F0H</td><td>data: the next 2 or 4 bytes of the sector (IN of size 2 or 4) while DRQ; the bytes of an
 * access past the sector's end read 0; 0 without DRQ</td>
 * <td>data: the next bytes of the sector being written while DRQ (those past its end are dropped)</td></tr>
 * <tr><td>1F1H</td><td>error (ABRT = 04H after a refused command)</td><td>features (ignored)</td></tr>
 * <tr><td>1F2H</td><td>sector count</td><td>sector count (1; 0 means 256, refused)</td></tr>
 * <tr><td>1F3H–1F5H</td><td>LBA bits 7:0, 15:8, 23:16</td><td>the same</td></tr>
 * <tr><td>1F6H</td><td>device: bit 6 LBA, bits 3:0 LBA 27:24</td><td>the same</td></tr>
 * <tr><td>1F7H</td><td>status: DRDY (40H), DRQ (08H), ERR (01H); never BSY (the model's device is synchronous)</td>
 * <td>command</td></tr>
 * </table>
 *
 * @param count   the sector count register
 * @param lba     LBA bits 23:0 from 1F3H–1F5H
 * @param device  the device register
 * @param status  the status register
 * @param error   the error register
 * @param command the command in progress (while DRQ), else 0
 * @param pos     bytes of the sector moved so far (while DRQ)
 * @param buffer  the sector being moved (64 words)
 * @param written sectors written since the disk shipped, by sector number (the others hold the shipped contents)
 */
public record AtaDisk(int count, long lba, int device, int status, int error, int command, int pos, List<Long> buffer,
        SortedMap<Long, List<Long>> written) {
    public static final int DATA = 0x1F0;
    public static final int ERROR = 0x1F1;
    public static final int SECTOR_COUNT = 0x1F2;
    public static final int LBA_LOW = 0x1F3;
    public static final int LBA_MID = 0x1F4;
    public static final int LBA_HIGH = 0x1F5;
    public static final int DEVICE = 0x1F6;
    public static final int STATUS = 0x1F7;
    public static final int COMMAND = STATUS;
    public static final int READ_SECTORS = 0x20;
    public static final int WRITE_SECTORS = 0x30;
    public static final int DRDY = 0x40;
    public static final int DRQ = 0x08;
    public static final int ERR = 0x01;
    public static final int ABRT = 0x04;
    /** The device register's LBA bit. */
    public static final int LBA_MODE = 0x40;

    /** After power-on: device ready, no command, every sector as shipped. */
    public static final AtaDisk RESET = new AtaDisk(0, 0, 0, DRDY, 0, 0, 0, zeros(), new TreeMap<>());

    public AtaDisk {
        Checks.notNull("buffer", buffer);
        Checks.notNull("written sectors", written);
        buffer = List.copyOf(buffer);
        if (buffer.size() != Blkif.WORDS_PER_SECTOR) {
            throw new IllegalArgumentException("a sector buffer has " + Blkif.WORDS_PER_SECTOR + " words");
        }
        TreeMap<Long, List<Long>> w = new TreeMap<>();
        written.forEach((k, v) -> w.put(k, List.copyOf(v)));
        written = Collections.unmodifiableSortedMap(w);
    }

    private static List<Long> zeros() {
        return Collections.nCopies(Blkif.WORDS_PER_SECTOR, 0L);
    }

    /** Whether {@code port} is one of the task-file registers. */
    public static boolean owns(int port) {
        return port >= DATA && port <= STATUS;
    }

    /** Sector {@code sector}'s 64 words as the disk holds them now. */
    public List<Long> sector(long sector) {
        List<Long> w = written.get(sector);
        if (w != null) {
            return w;
        }
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < Blkif.WORDS_PER_SECTOR; i++) {
            l.add(Blkif.initialWord(sector, i));
        }
        return l;
    }

    /** The outcome of one port access: the device after it and the value an IN returns (0 for an OUT). */
    public record Access(AtaDisk disk, long value) {}

    /** EMU-7: the access {@code io} to one of the task-file registers ({@link #owns}). */
    public Access io(GuestInstruction.Io io) {
        int port = io.port();
        if (port == DATA) {
            return io.in() ? readData(io.size()) : new Access(writeData(io.size(), io.value()), 0);
        }
        if (io.in()) {
            long v = switch (port) {
                case ERROR -> error;
                case SECTOR_COUNT -> count;
                case LBA_LOW -> lba & 0xFF;
                case LBA_MID -> (lba >>> 8) & 0xFF;
                case LBA_HIGH -> (lba >>> 16) & 0xFF;
                case DEVICE -> device;
                default -> status;
            };
            return new Access(this, v);
        }
        long b = io.value() & 0xFF;
        AtaDisk d = switch (port) {
            case SECTOR_COUNT -> new AtaDisk((int) b, lba, device, status, error, command, pos, buffer, written);
            case LBA_LOW -> new AtaDisk(count, (lba & ~0xFFL) | b, device, status, error, command, pos, buffer,
                    written);
            case LBA_MID -> new AtaDisk(count, (lba & ~0xFF00L) | b << 8, device, status, error, command, pos, buffer,
                    written);
            case LBA_HIGH -> new AtaDisk(count, (lba & ~0xFF0000L) | b << 16, device, status, error, command, pos,
                    buffer, written);
            case DEVICE -> new AtaDisk(count, lba, (int) b, status, error, command, pos, buffer, written);
            case COMMAND -> command((int) b);
            default -> this; // features: ignored
        };
        return new Access(d, 0);
    }

    /** The 28-bit LBA the registers name. */
    public long address() {
        return lba | (long) (device & 0x0F) << 24;
    }

    /**
     * READ SECTORS or WRITE SECTORS of one sector in LBA mode at an address on the disk: DRQ, the transfer starts
     * (a READ's buffer is the sector). Anything else — another command, CHS addressing, a count other than 1, an
     * address past the disk — is aborted: ERR with ABRT in the error register, no DRQ.
     */
    private AtaDisk command(int cmd) {
        boolean known = cmd == READ_SECTORS || cmd == WRITE_SECTORS;
        if (!known || (device & LBA_MODE) == 0 || count != 1 || address() >= Blkif.DISK_SECTORS) {
            return new AtaDisk(count, lba, device, DRDY | ERR, ABRT, 0, 0, zeros(), written);
        }
        List<Long> buf = cmd == READ_SECTORS ? sector(address()) : zeros();
        return new AtaDisk(count, lba, device, DRDY | DRQ, 0, cmd, 0, buf, written);
    }

    private Access readData(int size) {
        if (command != READ_SECTORS || (status & DRQ) == 0) {
            return new Access(this, 0);
        }
        long v = 0;
        for (int k = 0; k < size && pos + k < Blkif.SECTOR_SIZE; k++) {
            v |= byteAt(pos + k) << (8 * k); // an access straddling the sector's end reads 0 past it
        }
        int next = pos + size;
        AtaDisk d = next >= Blkif.SECTOR_SIZE ? new AtaDisk(count, lba, device, DRDY, 0, 0, 0, zeros(), written)
                : new AtaDisk(count, lba, device, status, error, command, next, buffer, written);
        return new Access(d, v);
    }

    private AtaDisk writeData(int size, long value) {
        if (command != WRITE_SECTORS || (status & DRQ) == 0) {
            return this;
        }
        List<Long> buf = new ArrayList<>(buffer);
        for (int k = 0; k < size && pos + k < Blkif.SECTOR_SIZE; k++) {
            int at = pos + k;
            long word = buf.get(at / 8);
            int shift = 8 * (at % 8);
            word = (word & ~(0xFFL << shift)) | ((value >>> (8 * k)) & 0xFF) << shift;
            buf.set(at / 8, word);
        }
        int next = pos + size;
        if (next < Blkif.SECTOR_SIZE) {
            return new AtaDisk(count, lba, device, status, error, command, next, buf, written);
        }
        TreeMap<Long, List<Long>> w = new TreeMap<>(written);
        w.put(address(), buf);
        return new AtaDisk(count, lba, device, DRDY, 0, 0, 0, zeros(), w);
    }

    private long byteAt(int at) {
        return (buffer.get(at / 8) >>> (8 * (at % 8))) & 0xFF;
    }
}
