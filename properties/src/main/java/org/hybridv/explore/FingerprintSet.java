package org.hybridv.explore;

/**
 * The set of visited states: each state is its 64-bit fingerprint, kept in an open-addressing table of primitive longs
 * (linear probing, 0 = empty slot; fingerprints are never 0; a fingerprint's home slot is its high 32 bits scaled to
 * the capacity, so the capacity need not be a power of two). The BFS trace — per state number (numbers given in
 * insertion order) the parent's number and the action that led here, enough to rebuild any state's path from the
 * initial states — is not on the heap: it is appended to a temporary file ({@link #trace}, 6 bytes a state, as TLC
 * keeps its trace on disk) and read back only to rebuild a counterexample or a checkpoint's frontier.
 *
 * <p>Memory: 8 bytes per table slot, nothing else per state. The table grows by half when its load passes 4/5, so
 * once past its initial capacity its load stays between 8/15 and 4/5: 10 to 15 bytes per state ({@link
 * #bytesPerState()} measures it). Not thread-safe: the explorer inserts from one thread, in a fixed order; workers
 * only call {@link #contains} while no one inserts.
 */
public final class FingerprintSet implements AutoCloseable {
    /** The parent of an initial state. */
    public static final int NO_PARENT = -1;
    /** The most actions a trace can name. */
    public static final int MAX_ACTIONS = 65_535;
    /** The largest table: a Java array's limit. */
    private static final int MAX_CAPACITY = Integer.MAX_VALUE - 8;

    private long[] table;
    private int size;
    private final Trace trace;

    /** An empty set with room for about {@code expected} states before it first grows. */
    public FingerprintSet(int expected) {
        this(expected, Trace.CHUNK_RECORDS);
    }

    /** {@link #FingerprintSet(int)} with the trace mapped in chunks of {@code chunkRecords} records (tests). */
    FingerprintSet(int expected, int chunkRecords) {
        if (expected < 0) {
            throw new IllegalArgumentException("expected " + expected + " < 0");
        }
        if (chunkRecords < Trace.BUFFER || chunkRecords % Trace.BUFFER != 0) {
            throw new IllegalArgumentException("chunk of " + chunkRecords + " records: not a multiple of "
                    + Trace.BUFFER);
        }
        table = new long[(int) Math.min(MAX_CAPACITY, Math.max(16, expected * 5L / 4 + 1))];
        trace = new Trace(chunkRecords);
    }

    public int size() {
        return size;
    }

    /** Whether {@code fp} is in the set. */
    public boolean contains(long fp) {
        check(fp);
        long[] t = table;
        for (int i = slot(fp, t.length); ; i = next(i, t.length)) {
            long x = t[i];
            if (x == fp) {
                return true;
            }
            if (x == 0) {
                return false;
            }
        }
    }

    /**
     * Adds {@code fp}, reached from state {@code parentNumber} by action {@code actionIndex}: its state number (the
     * set's size before), or -1 if it was already there (the trace keeps the first way it was reached).
     */
    public int add(long fp, int parentNumber, int actionIndex) {
        check(fp);
        if (actionIndex < 0 || actionIndex > MAX_ACTIONS) {
            throw new IllegalArgumentException("action " + actionIndex + " outside 0.." + MAX_ACTIONS);
        }
        if (parentNumber < NO_PARENT || parentNumber >= size) {
            throw new IllegalArgumentException("parent " + parentNumber + " is not a state of this set");
        }
        int i = slot(fp, table.length);
        for (; table[i] != 0; i = next(i, table.length)) {
            if (table[i] == fp) {
                return -1;
            }
        }
        if (size == MAX_CAPACITY - 1) {
            throw new IllegalStateException("fingerprint set full");
        }
        table[i] = fp;
        trace.append(parentNumber, actionIndex);
        int number = size++;
        if (size > table.length * 4L / 5) {
            grow();
        }
        return number;
    }

    /** The state number {@code n}'s parent ({@link #NO_PARENT} for an initial state). */
    public int parent(int n) {
        checkNumber(n);
        return parentOf(trace.entry(n));
    }

    /** The action that first reached state number {@code n}. */
    public int action(int n) {
        checkNumber(n);
        return actionOf(trace.entry(n));
    }

    /**
     * State number {@code n}'s trace record, its parent and its action in one read: decode with {@link #parentOf}
     * and {@link #actionOf}.
     */
    long traceEntry(int n) {
        checkNumber(n);
        return trace.entry(n);
    }

    /** The parent in a {@link #traceEntry}. */
    static int parentOf(long entry) {
        return (int) (entry >> 16);
    }

    /** The action in a {@link #traceEntry}. */
    static int actionOf(long entry) {
        return (int) (entry & 0xFFFF);
    }

    /** The bytes this set holds on the heap (its table; the trace is on disk) per state in it. */
    public double bytesPerState() {
        return size == 0 ? 0 : table.length * 8.0 / size;
    }

    /** Bytes held by the table (the trace is on disk: {@link #traceBytes()}). */
    public long bytes() {
        return table.length * 8L;
    }

    /** Bytes of the trace file (6 per state). */
    public long traceBytes() {
        return size * (long) Trace.RECORD;
    }

    /** Deletes the trace file; the set must not be used after. */
    @Override
    public void close() {
        trace.close();
    }

    /**
     * TLC's estimate of the probability that two distinct states of this set share a fingerprint, assuming
     * fingerprints are uniformly distributed: n² / 2⁶⁵ for n states (the birthday bound n(n-1)/2 · 2⁻⁶⁴).
     */
    public static double collisionProbability(long n) {
        return (double) n * (double) n / Math.pow(2, 65);
    }

    /**
     * Writes the set exactly as it is (table with its capacity, the trace, the size), so that {@link #read} gives a
     * set that behaves — and measures — as this one.
     */
    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(size);
        out.writeInt(table.length);
        for (long fp : table) {
            out.writeLong(fp);
        }
        out.writeInt(size);
        trace.writeTo(out, size);
    }

    /** A set written by {@link #write}; an {@link java.io.IOException} if the data is not such a set. */
    public static FingerprintSet read(java.io.DataInputStream in) throws java.io.IOException {
        int size = in.readInt();
        int cap = in.readInt();
        if (cap < 16 || cap > MAX_CAPACITY || size < 0 || size > cap * 4L / 5) {
            throw new java.io.IOException("fingerprint set of " + size + " states in " + cap + " slots");
        }
        long[] fps = new long[cap];
        int used = 0;
        for (int i = 0; i < cap; i++) {
            fps[i] = in.readLong();
            if (fps[i] != 0) {
                used++;
            }
        }
        int traced = in.readInt();
        if (used != size || traced < size || traced > MAX_CAPACITY) {
            throw new java.io.IOException("fingerprint set: " + used + " slots used for " + size + " states, trace "
                    + traced);
        }
        FingerprintSet s = new FingerprintSet(0);
        try {
            // the slots again by this version's placement (a checkpoint of another may place them elsewhere)
            s.table = new long[cap];
            for (long fp : fps) {
                if (fp != 0 && !s.insert(fp)) {
                    throw new java.io.IOException("fingerprint set: fingerprint " + Long.toHexString(fp) + " twice");
                }
            }
            for (int i = 0; i < size; i++) {
                int parent = in.readInt();
                int action = Short.toUnsignedInt(in.readShort());
                if (parent < NO_PARENT || parent >= i) {
                    throw new java.io.IOException("fingerprint set: state " + i + " has parent " + parent);
                }
                s.trace.append(parent, action);
            }
        } catch (java.io.IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        s.size = size;
        return s;
    }

    /** Puts {@code fp} in its slot; false if it is there already. */
    private boolean insert(long fp) {
        int i = slot(fp, table.length);
        for (; table[i] != 0; i = next(i, table.length)) {
            if (table[i] == fp) {
                return false;
            }
        }
        table[i] = fp;
        return true;
    }

    private void grow() {
        if (table.length == MAX_CAPACITY) {
            throw new IllegalStateException("fingerprint set full");
        }
        long[] old = table;
        table = new long[(int) Math.min(MAX_CAPACITY, old.length + old.length / 2L)];
        for (long fp : old) {
            if (fp != 0) {
                insert(fp);
            }
        }
    }

    /** The home slot of {@code fp} in a table of {@code capacity} slots: its high 32 bits scaled to the capacity. */
    private static int slot(long fp, int capacity) {
        return (int) (((fp >>> 32) * capacity) >>> 32);
    }

    private static int next(int i, int capacity) {
        return i + 1 == capacity ? 0 : i + 1;
    }

    private static void check(long fp) {
        if (fp == 0) {
            throw new IllegalArgumentException("fingerprint 0 is the empty slot");
        }
    }

    private void checkNumber(int n) {
        if (n < 0 || n >= size) {
            throw new IllegalArgumentException("no state number " + n + " (" + size + " states)");
        }
    }

    /**
     * The trace on disk: an append-only temporary file of 6-byte records (the parent's number, the action), record
     * n at byte 6n, written through a buffer of {@value #BUFFER} records; a read of a record still in the buffer is
     * answered from it. Each full chunk of records ({@link #CHUNK_RECORDS} unless a test says otherwise) is mapped into memory once written, so
     * that rebuilding the states of a large level (which reads a record per step of each trace) reads the operating
     * system's page cache rather than making a system call per record; the mappings are outside the Java heap. The
     * file is deleted by {@link #close} (or when the JVM exits).
     */
    private static final class Trace {
        static final int RECORD = 6;
        static final int BUFFER = 8192;
        /** Records per mapped chunk (24 MiB; a multiple of {@link #BUFFER}, so a chunk is full after a flush). */
        static final int CHUNK_RECORDS = 1 << 22;

        private final int chunkRecords;

        private final java.nio.file.Path file;
        private final java.nio.channels.FileChannel channel;
        private final java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(BUFFER * RECORD);
        /** Records on disk (the buffer holds the ones after). */
        private long flushed;
        /**
         * The full chunks, mapped read-only; replaced (never changed) by {@link #flush}, which runs only while no
         * worker reads (the merging thread inserts between expansions).
         */
        private java.nio.MappedByteBuffer[] chunks = new java.nio.MappedByteBuffer[0];

        Trace(int chunkRecords) {
            this.chunkRecords = chunkRecords;
            try {
                file = java.nio.file.Files.createTempFile("hybridv-explore-trace-", ".bin");
                file.toFile().deleteOnExit();
                channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
                        java.nio.file.StandardOpenOption.WRITE);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("the explorer's trace file cannot be created in "
                        + System.getProperty("java.io.tmpdir"), e);
            }
        }

        void append(int parent, int action) {
            if (!buffer.hasRemaining()) {
                flush();
            }
            buffer.putInt(parent).putShort((short) action);
        }

        /** Record {@code n} as (parent << 16) | action. */
        long entry(int n) {
            if (n >= flushed) {
                int at = (int) (n - flushed) * RECORD;
                return pack(buffer.getInt(at), buffer.getShort(at + 4));
            }
            java.nio.MappedByteBuffer[] mapped = chunks;
            int chunk = n / chunkRecords;
            if (chunk < mapped.length) {
                int at = (n % chunkRecords) * RECORD;
                return pack(mapped[chunk].getInt(at), mapped[chunk].getShort(at + 4));
            }
            java.nio.ByteBuffer b = record(n);
            return pack(b.getInt(0), b.getShort(4));
        }

        private static long pack(int parent, short action) {
            return ((long) parent << 16) | Short.toUnsignedInt(action);
        }

        private java.nio.ByteBuffer record(int n) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(RECORD);
            try {
                long at = (long) n * RECORD;
                while (b.hasRemaining()) {
                    if (channel.read(b, at + b.position()) < 0) {
                        throw new java.io.EOFException("trace record " + n);
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("reading the explorer's trace file " + file, e);
            }
            return b;
        }

        /** Writes records 0 … {@code count - 1} to {@code out} as {@link #append} took them (parent, then action). */
        void writeTo(java.io.DataOutputStream out, int count) throws java.io.IOException {
            // the records on disk in large reads (one read per record would be a system call each)
            java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocate(BUFFER * RECORD);
            long onDisk = Math.min(count, flushed);
            for (long at = 0; at < onDisk; ) {
                long n = Math.min(BUFFER, onDisk - at);
                chunk.clear().limit((int) n * RECORD);
                while (chunk.hasRemaining()) {
                    if (channel.read(chunk, at * RECORD + chunk.position()) < 0) {
                        throw new java.io.EOFException("trace record " + (at + chunk.position() / RECORD));
                    }
                }
                out.write(chunk.array(), 0, (int) n * RECORD);
                at += n;
            }
            if (count > flushed) {
                out.write(buffer.array(), 0, (int) (count - flushed) * RECORD);
            }
        }

        private void flush() {
            buffer.flip();
            try {
                long at = flushed * RECORD;
                while (buffer.hasRemaining()) {
                    at += channel.write(buffer, at);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("writing the explorer's trace file " + file, e);
            }
            flushed += BUFFER;
            buffer.clear();
            if (flushed % chunkRecords == 0) {
                try {
                    java.nio.MappedByteBuffer[] more = java.util.Arrays.copyOf(chunks, chunks.length + 1);
                    more[chunks.length] = channel.map(java.nio.channels.FileChannel.MapMode.READ_ONLY,
                            (long) chunks.length * chunkRecords * RECORD, (long) chunkRecords * RECORD);
                    chunks = more;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("mapping the explorer's trace file " + file, e);
                }
            }
        }

        void close() {
            try {
                channel.close();
                java.nio.file.Files.deleteIfExists(file);
            } catch (java.io.IOException e) {
                // best effort: deleteOnExit still applies
            }
        }
    }
}
