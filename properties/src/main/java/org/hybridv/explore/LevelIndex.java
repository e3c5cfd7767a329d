package org.hybridv.explore;

/**
 * The states of the level being built, by fingerprint: fingerprint → the state's index in the level, in an
 * open-addressing table of primitive arrays (linear probing; 0 is the empty key, as in {@link FingerprintSet}, since
 * fingerprints are never 0). It replaces a {@code HashMap<Long, Integer>}, which costs about 60 bytes and three
 * objects per state where this costs 12 to 20 bytes and none: the partial-order reduction looks up every arrival at a
 * state of the next level in it. Not thread-safe (the merging thread alone uses it).
 */
final class LevelIndex {
    private long[] keys = new long[16];
    private int[] values = new int[16];
    private int size;

    /** Records that the state with fingerprint {@code fp} (never 0, not yet recorded) has index {@code index}. */
    void put(long fp, int index) {
        if (fp == 0) {
            throw new IllegalArgumentException("fingerprint 0 is the empty slot");
        }
        if ((size + 1) * 4L > keys.length * 3L) {
            grow();
        }
        int i = slot(fp, keys.length);
        while (keys[i] != 0) {
            if (keys[i] == fp) {
                throw new IllegalArgumentException("fingerprint " + Long.toHexString(fp) + " recorded twice");
            }
            i = (i + 1) & (keys.length - 1);
        }
        keys[i] = fp;
        values[i] = index;
        size++;
    }

    /** The index recorded for {@code fp}, or -1. */
    int get(long fp) {
        if (fp == 0) {
            return -1;
        }
        for (int i = slot(fp, keys.length); keys[i] != 0; i = (i + 1) & (keys.length - 1)) {
            if (keys[i] == fp) {
                return values[i];
            }
        }
        return -1;
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != 0) {
                int i = slot(oldKeys[j], keys.length);
                while (keys[i] != 0) {
                    i = (i + 1) & (keys.length - 1);
                }
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    /** The home slot: the fingerprint's low bits (fingerprints are well-mixed hashes; the capacity is a power of 2). */
    private static int slot(long fp, int capacity) {
        return (int) fp & (capacity - 1);
    }
}
