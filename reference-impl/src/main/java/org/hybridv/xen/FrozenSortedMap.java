package org.hybridv.xen;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable sorted map: a private copy that no one else holds, read through an unmodifiable view. The state
 * records ({@link XenMachine}, {@link Domain}, {@link DirectPagingState}) freeze their maps with {@link #of}, which
 * copies a map only if it is not frozen already: a step that leaves a domain's p2m or the machine's base pointers
 * alone passes the same frozen map on instead of copying it on every record it rebuilds, and whoever memoises by
 * identity (the explorer's fingerprints) sees the unchanged map as the same object.
 *
 * <p>Behaves as {@link Collections#unmodifiableSortedMap} of a {@link TreeMap}: every mutator throws {@link
 * UnsupportedOperationException}; equality, hash code and string form are those of any map with these entries.
 *
 * @param <K> keys (naturally ordered)
 * @param <V> values
 */
public final class FrozenSortedMap<K, V> extends AbstractMap<K, V> implements SortedMap<K, V> {
    private static final FrozenSortedMap<?, ?> EMPTY = new FrozenSortedMap<>(new TreeMap<>());

    private final SortedMap<K, V> view;
    /**
     * For a map of at most {@value #SMALL} entries with {@code Integer} or {@code Long} keys (the domains of a
     * machine, a vCPU's small maps): the keys and values in key order, for {@link #get} by a scan instead of the tree
     * (the same answer: for these key types, equality is the natural order's); otherwise null.
     */
    private final Object[] smallKeys;
    private final Object[] smallValues;
    private static final int SMALL = 8;
    /**
     * For a machine's map of domains: -1 until {@link XenMachine}'s constructor has checked the domains, then the
     * largest pCPU a vCPU is placed on (derived from the entries alone, which never change; a plain field: a thread
     * that sees -1 checks again, with the same result). Not part of the map's behaviour.
     */
    int checkedBound = -1;

    private FrozenSortedMap(TreeMap<K, V> copy) {
        this.view = Collections.unmodifiableSortedMap(copy);
        Object first = copy.isEmpty() ? null : copy.firstKey();
        if (copy.size() <= SMALL && copy.comparator() == null && (first instanceof Integer || first instanceof Long)) {
            smallKeys = new Object[copy.size()];
            smallValues = new Object[copy.size()];
            int i = 0;
            for (Map.Entry<K, V> e : copy.entrySet()) {
                smallKeys[i] = e.getKey();
                smallValues[i++] = e.getValue();
            }
        } else {
            smallKeys = null;
            smallValues = null;
        }
    }

    /** {@code m} itself if it is frozen, otherwise a frozen copy of it (its keys must be naturally ordered). */
    @SuppressWarnings("unchecked")
    public static <K, V> FrozenSortedMap<K, V> of(Map<K, V> m) {
        if (m instanceof FrozenSortedMap<K, V> f) {
            return f;
        }
        if (m.isEmpty()) {
            return (FrozenSortedMap<K, V>) EMPTY;
        }
        return new FrozenSortedMap<>(new TreeMap<>(m));
    }

    /**
     * {@code m} frozen without a copy: for a map built by the caller and never used again except through the
     * result (this package's records rebuilding their maps).
     */
    static <K, V> FrozenSortedMap<K, V> owning(TreeMap<K, V> m) {
        return new FrozenSortedMap<>(m);
    }

    @Override
    public int size() {
        return view.size();
    }

    @Override
    public boolean isEmpty() {
        return view.isEmpty();
    }

    @Override
    public boolean containsKey(Object key) {
        return view.containsKey(key);
    }

    @Override
    public boolean containsValue(Object value) {
        return view.containsValue(value);
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        Object[] k = smallKeys;
        // a key of another class (or null) takes the tree's path, and its exception
        if (k != null && key != null && k.length > 0 && key.getClass() == k[0].getClass()) {
            for (int i = 0; i < k.length; i++) {
                if (k[i].equals(key)) {
                    return (V) smallValues[i];
                }
            }
            return null;
        }
        return view.get(key);
    }

    /** Each entry in key order (a small map's by its arrays, without the tree's iterator). */
    @Override
    @SuppressWarnings("unchecked")
    public void forEach(java.util.function.BiConsumer<? super K, ? super V> action) {
        Object[] k = smallKeys;
        if (k == null) {
            view.forEach(action);
            return;
        }
        Object[] v = smallValues;
        for (int i = 0; i < k.length; i++) {
            action.accept((K) k[i], (V) v[i]);
        }
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        return view.entrySet();
    }

    @Override
    public Set<K> keySet() {
        return view.keySet();
    }

    @Override
    public java.util.Collection<V> values() {
        return view.values();
    }

    @Override
    public Comparator<? super K> comparator() {
        return view.comparator();
    }

    @Override
    public SortedMap<K, V> subMap(K fromKey, K toKey) {
        return view.subMap(fromKey, toKey);
    }

    @Override
    public SortedMap<K, V> headMap(K toKey) {
        return view.headMap(toKey);
    }

    @Override
    public SortedMap<K, V> tailMap(K fromKey) {
        return view.tailMap(fromKey);
    }

    @Override
    public K firstKey() {
        return view.firstKey();
    }

    @Override
    public K lastKey() {
        return view.lastKey();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || view.equals(o);
    }

    @Override
    public int hashCode() {
        return view.hashCode();
    }

    @Override
    public String toString() {
        return view.toString();
    }
}
