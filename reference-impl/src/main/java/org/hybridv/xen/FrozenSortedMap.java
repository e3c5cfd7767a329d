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

    private FrozenSortedMap(TreeMap<K, V> copy) {
        this.view = Collections.unmodifiableSortedMap(copy);
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
    public V get(Object key) {
        return view.get(key);
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
