package org.hybridv.explore;

/**
 * The set of visited states: each state is its 64-bit fingerprint, kept in an open-addressing table of primitive longs
 * (linear probing, 0 = empty slot; fingerprints are never 0), with the BFS trace beside it in two parallel primitive
 * arrays indexed by state number (numbers given in insertion order): the parent's number and the action that led
 * here — enough to rebuild any state's path from the initial states. No objects per state.
 *
 * <p>Memory: 8 bytes per table slot at a load of at most 3/4 (10.7 to 21.3 bytes per state between two doublings),
 * plus 6 bytes of trace per state ({@link #bytesPerState()} measures it). Not thread-safe: the explorer inserts from
 * one thread, in a fixed order; workers only call {@link #contains} while no one inserts.
 */
public final class FingerprintSet {
    /** The parent of an initial state. */
    public static final int NO_PARENT = -1;
    /** The most actions a trace can name. */
    public static final int MAX_ACTIONS = 65_535;

    private long[] table;
    private int mask;
    private int size;
    private int[] parent;
    private short[] action;

    /** An empty set with room for about {@code expected} states before it first grows. */
    public FingerprintSet(int expected) {
        if (expected < 0) {
            throw new IllegalArgumentException("expected " + expected + " < 0");
        }
        int cap = 16;
        while (cap * 3L / 4 < expected && cap < (1 << 30)) {
            cap <<= 1;
        }
        table = new long[cap];
        mask = cap - 1;
        int trace = Math.max(16, expected);
        parent = new int[trace];
        action = new short[trace];
    }

    public int size() {
        return size;
    }

    /** Whether {@code fp} is in the set. */
    public boolean contains(long fp) {
        check(fp);
        for (int i = slot(fp); ; i = (i + 1) & mask) {
            long t = table[i];
            if (t == fp) {
                return true;
            }
            if (t == 0) {
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
        int i = slot(fp);
        for (; table[i] != 0; i = (i + 1) & mask) {
            if (table[i] == fp) {
                return -1;
            }
        }
        if (size == Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("fingerprint set full");
        }
        table[i] = fp;
        if (size == parent.length) {
            int n = (int) Math.min(Integer.MAX_VALUE - 8L, parent.length * 2L);
            parent = java.util.Arrays.copyOf(parent, n);
            action = java.util.Arrays.copyOf(action, n);
        }
        parent[size] = parentNumber;
        action[size] = (short) actionIndex;
        int number = size++;
        if (size > table.length * 3L / 4) {
            grow();
        }
        return number;
    }

    /** The state number {@code n}'s parent ({@link #NO_PARENT} for an initial state). */
    public int parent(int n) {
        checkNumber(n);
        return parent[n];
    }

    /** The action that first reached state number {@code n}. */
    public int action(int n) {
        checkNumber(n);
        return Short.toUnsignedInt(action[n]);
    }

    /** The bytes this set holds (table and trace arrays) per state in it. */
    public double bytesPerState() {
        return size == 0 ? 0 : (table.length * 8.0 + parent.length * 6.0) / size;
    }

    /** Bytes held by the table and the trace arrays. */
    public long bytes() {
        return table.length * 8L + parent.length * 6L;
    }

    /**
     * TLC's estimate of the probability that two distinct states of this set share a fingerprint, assuming
     * fingerprints are uniformly distributed: n² / 2⁶⁵ for n states (the birthday bound n(n-1)/2 · 2⁻⁶⁴).
     */
    public static double collisionProbability(long n) {
        return (double) n * (double) n / Math.pow(2, 65);
    }

    /**
     * Writes the set exactly as it is (table with its capacity, the trace arrays with theirs, the size), so that
     * {@link #read} gives a set that behaves — and measures — as this one.
     */
    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(size);
        out.writeInt(table.length);
        for (long fp : table) {
            out.writeLong(fp);
        }
        out.writeInt(parent.length);
        for (int i = 0; i < size; i++) {
            out.writeInt(parent[i]);
            out.writeShort(action[i]);
        }
    }

    /** A set written by {@link #write}; an {@link java.io.IOException} if the data is not such a set. */
    public static FingerprintSet read(java.io.DataInputStream in) throws java.io.IOException {
        int size = in.readInt();
        int cap = in.readInt();
        if (cap < 16 || cap > (1 << 30) || Integer.bitCount(cap) != 1 || size < 0 || size > cap * 3L / 4) {
            throw new java.io.IOException("fingerprint set of " + size + " states in " + cap + " slots");
        }
        FingerprintSet s = new FingerprintSet(0);
        s.table = new long[cap];
        s.mask = cap - 1;
        int used = 0;
        for (int i = 0; i < cap; i++) {
            s.table[i] = in.readLong();
            if (s.table[i] != 0) {
                used++;
            }
        }
        int trace = in.readInt();
        if (used != size || trace < size || trace > Integer.MAX_VALUE - 8) {
            throw new java.io.IOException("fingerprint set: " + used + " slots used for " + size + " states, trace "
                    + trace);
        }
        s.parent = new int[trace];
        s.action = new short[trace];
        for (int i = 0; i < size; i++) {
            s.parent[i] = in.readInt();
            s.action[i] = in.readShort();
            if (s.parent[i] < NO_PARENT || s.parent[i] >= i) {
                throw new java.io.IOException("fingerprint set: state " + i + " has parent " + s.parent[i]);
            }
        }
        s.size = size;
        return s;
    }

    private void grow() {
        if (table.length >= (1 << 30)) {
            throw new IllegalStateException("fingerprint set full");
        }
        long[] old = table;
        table = new long[old.length << 1];
        mask = table.length - 1;
        for (long fp : old) {
            if (fp != 0) {
                int i = slot(fp);
                while (table[i] != 0) {
                    i = (i + 1) & mask;
                }
                table[i] = fp;
            }
        }
    }

    private int slot(long fp) {
        return (int) (fp ^ (fp >>> 32)) & mask;
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
}
