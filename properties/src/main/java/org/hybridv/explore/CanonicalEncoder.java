package org.hybridv.explore;

import java.lang.invoke.LambdaConversionException;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.Bitmap;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.Domain;
import org.hybridv.xen.EmulatedDevices;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.FrameTable;
import org.hybridv.xen.FrozenSortedMap;
import org.hybridv.xen.Pcpu;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * The canonical encoding of a hypervisor state ({@link XenMachine}) and its 64-bit fingerprint: two states that behave
 * the same under every future step encode the same, whatever order they were built in; two states that differ in any
 * field encode differently. What is encoded, in this fixed order:
 * <ul>
 * <li>a record: the name of its class (variants of a sealed type differ), then its components in declaration order
 * (memory, pCPUs, active pCPU, frame table, base pointers, domains, faults for {@code XenMachine}; the pCPUs as a
 * list in pCPU order, each {@link Pcpu} with its registers, TLB, TLB tag, VMX mode, VMCS, launch state and current
 * vCPU; recursively the VMCS, registers, p2m, shadow state and pCPU of every vCPU). Memory is a component of the
 * machine only (the pCPUs share it), so it is encoded once;</li>
 * <li>physical memory: the frame count, then every frame with a non-zero word: its number and the fingerprint of its
 * non-zero words with their indices (a zero word, written or never written, is the same state);</li>
 * <li>the frame table: its size, then per block of {@link FrameTable#BLOCK} frames with an entry that is not
 * {@link FrameInfo#UNUSED}: the block's number and the fingerprint of those entries, each after its frame number;</li>
 * <li>the TLB: its policy and its entries in fill order (the order decides which stale entry a lookup uses);</li>
 * <li>a list: its size and elements in order; a map or a set: its size and its entries or elements sorted by their own
 * fingerprints (iteration order of the container does not matter); an {@code Optional}: present or not, and the
 * value;</li>
 * <li>an enum constant by its class and name (never its ordinal's or object's hash); a VMX bitmap by its size and its
 * bits, 64 to a word; numbers, booleans and strings by value.</li>
 * </ul>
 * A class outside this list is API misuse (the encoder would otherwise silently drop state): {@link
 * IllegalArgumentException}.
 *
 * <p>The large parts a step usually shares with its pre-state — domains, vCPUs, VMCSs, execution controls (with
 * their MSR and I/O bitmaps of thousands of bits), a domain's emulated devices (with the disk's sector buffer), the
 * pCPUs, memory, frame table and TLB — are encoded as the
 * fingerprint of their own encoding, always (so the value never depends on a cache); that fingerprint is memoised
 * per thread by object identity (a direct-mapped table indexed by the identity hash, checked by reference equality).
 * The memo changes speed, never values. Thread-safe.
 */
public final class CanonicalEncoder {
    private CanonicalEncoder() {}

    private static final long NULL = Fingerprint.of("null");

    /** How a record component refers to frames ({@link Relabel}): not at all, or as these. */
    private static final int PLAIN = 0;
    private static final int FRAME = 1;
    private static final int ADDRESS = 2;
    private static final int FRAME_MAP_VALUES = 3;
    private static final int FRAME_MAP = 4;
    private static final int FRAME_LIST = 5;
    private static final int ADDRESS_LIST = 6;

    /**
     * The record components that hold frame numbers or physical addresses, by class and component name (everything
     * a {@link Relabel} changes besides memory and the frame table).
     */
    private static final Map<String, Integer> REFERENCES = Map.ofEntries(
            Map.entry("org.hybridv.xen.XenMachine.guestTables", FRAME_MAP_VALUES),
            Map.entry("org.hybridv.xen.Domain.p2m", FRAME_MAP),
            Map.entry("org.hybridv.xen.Domain.eptp", ADDRESS),
            Map.entry("org.hybridv.xen.ShadowState.guestCr3", ADDRESS),
            Map.entry("org.hybridv.xen.ShadowState.root", FRAME),
            Map.entry("org.hybridv.xen.ShadowState.tables", FRAME_LIST),
            Map.entry("org.hybridv.x86.Cr3.pml4Base", ADDRESS),
            Map.entry("org.hybridv.x86.TlbEntry.physicalBase", ADDRESS),
            Map.entry("org.hybridv.x86.TlbTag.ep4ta", ADDRESS),
            Map.entry("org.hybridv.vmx.ExitInformation.guestPhysicalAddress", ADDRESS),
            Map.entry("org.hybridv.vmx.ExecutionControls.eptp", ADDRESS),
            Map.entry("org.hybridv.vmx.ExecutionControls.cr3TargetValues", ADDRESS_LIST));

    private record Accessors(long tag, Component[] components, int[] kinds, boolean references) {}

    /** How a component's value is read: as a long, an int, a boolean (no boxing), or an object. */
    private static final int AS_OBJECT = 0;
    private static final int AS_LONG = 1;
    private static final int AS_INT = 2;
    private static final int AS_BOOLEAN = 3;

    /**
     * One record component's accessor, bound once per class to a generated function of the record
     * ({@link LambdaMetafactory}): a primitive component is read without boxing and encoded as its boxed value would be
     * ({@link #encode}: a long, an int and a boolean each as one word).
     */
    private static final class Component {
        final int as;
        final Function<Object, Object> object;
        final ToLongFunction<Object> asLong;
        final ToIntFunction<Object> asInt;
        final Predicate<Object> asBoolean;

        Component(Class<?> record, java.lang.reflect.Method accessor) {
            Class<?> t = accessor.getReturnType();
            this.as = t == long.class ? AS_LONG : t == int.class ? AS_INT : t == boolean.class ? AS_BOOLEAN
                    : AS_OBJECT;
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                MethodHandle getter = lookup.unreflect(accessor);
                this.object = as == AS_OBJECT ? bind(lookup, getter, Function.class, "apply",
                        MethodType.methodType(Object.class, Object.class), MethodType.methodType(t, record)) : null;
                this.asLong = as == AS_LONG ? bind(lookup, getter, ToLongFunction.class, "applyAsLong",
                        MethodType.methodType(long.class, Object.class), MethodType.methodType(t, record)) : null;
                this.asInt = as == AS_INT ? bind(lookup, getter, ToIntFunction.class, "applyAsInt",
                        MethodType.methodType(int.class, Object.class), MethodType.methodType(t, record)) : null;
                this.asBoolean = as == AS_BOOLEAN ? bind(lookup, getter, Predicate.class, "test",
                        MethodType.methodType(boolean.class, Object.class), MethodType.methodType(t, record)) : null;
            } catch (ReflectiveOperationException | LambdaConversionException e) {
                throw new IllegalArgumentException("the components of " + record.getName() + " are not readable", e);
            }
        }

        @SuppressWarnings("unchecked")
        private static <F> F bind(MethodHandles.Lookup lookup, MethodHandle getter, Class<F> iface, String name,
                MethodType erased, MethodType instantiated) throws LambdaConversionException {
            try {
                return (F) LambdaMetafactory.metafactory(lookup, name, MethodType.methodType(iface), erased, getter,
                        instantiated).getTarget().invoke();
            } catch (LambdaConversionException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        /** The component's value, boxed (the generic path: relabelling). */
        Object get(Object record) {
            return switch (as) {
                case AS_LONG -> asLong.applyAsLong(record);
                case AS_INT -> asInt.applyAsInt(record);
                case AS_BOOLEAN -> asBoolean.test(record);
                default -> object.apply(record);
            };
        }
    }

    static {
        // a renamed class or component would silently escape relabelling: refuse to start instead
        for (String key : REFERENCES.keySet()) {
            int dot = key.lastIndexOf('.');
            String component = key.substring(dot + 1);
            try {
                Class<?> c = Class.forName(key.substring(0, dot));
                if (c.getRecordComponents() == null || Arrays.stream(c.getRecordComponents())
                        .noneMatch(rc -> rc.getName().equals(component))) {
                    throw new IllegalStateException("CanonicalEncoder.REFERENCES: " + key + " is not a record"
                            + " component");
                }
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("CanonicalEncoder.REFERENCES: no class for " + key, e);
            }
        }
    }

    /**
     * The classes whose encoding is their own fingerprint (a hash of their canonical encoding), memoised per object:
     * the large parts a step usually leaves untouched and shares with its pre-state.
     */
    private static final Set<Class<?>> MEMOISED = Set.of(Domain.class, Vcpu.class, Vmcs.class,
            ExecutionControls.class, X86Machine.class, Pcpu.class, PhysicalMemory.class, FrameTable.class, Tlb.class,
            Bitmap.class, EmulatedDevices.class);

    private static final ClassValue<Accessors> RECORDS = new ClassValue<>() {
        @Override
        protected Accessors computeValue(Class<?> c) {
            RecordComponent[] rc = c.getRecordComponents();
            Component[] m = new Component[rc.length];
            int[] kinds = new int[rc.length];
            boolean any = false;
            if (!java.lang.reflect.Modifier.isPublic(c.getModifiers())) {
                throw new IllegalArgumentException("the components of " + c.getName() + " are not public");
            }
            for (int i = 0; i < rc.length; i++) {
                kinds[i] = REFERENCES.getOrDefault(c.getName() + "." + rc[i].getName(), PLAIN);
                any |= kinds[i] != PLAIN;
                m[i] = new Component(c, rc[i].getAccessor());
            }
            return new Accessors(Fingerprint.of(c.getName()), m, kinds, any);
        }
    };

    private static final ClassValue<long[]> ENUMS = new ClassValue<>() {
        @Override
        protected long[] computeValue(Class<?> c) {
            Object[] constants = c.getEnumConstants();
            long[] tags = new long[constants.length];
            for (int i = 0; i < constants.length; i++) {
                tags[i] = new Fingerprint().add(c.getName()).add(((Enum<?>) constants[i]).name()).value();
            }
            return tags;
        }
    };

    static {
        for (Class<?> c : MEMOISED) {
            if (!memoise(c)) {
                throw new IllegalStateException("CanonicalEncoder.memoise does not name " + c.getName());
            }
        }
    }

    /** Whether class {@code c} is one of {@link #MEMOISED} (identity comparisons: cheaper than a set or ClassValue). */
    private static boolean memoise(Class<?> c) {
        return c == Vmcs.class || c == Vcpu.class || c == Domain.class || c == Pcpu.class || c == Tlb.class
                || c == PhysicalMemory.class || c == FrameTable.class || c == ExecutionControls.class
                || c == X86Machine.class || c == Bitmap.class || c == EmulatedDevices.class;
    }

    /** Per thread, a direct-mapped memo: object (by identity) → the fingerprint of its encoding. */
    private static final int MEMO_SIZE = 1 << 13;
    /** Per thread, a direct-mapped memo: immutable map (by identity) → its sorted entry fingerprints. */
    private static final int MAP_MEMO_SIZE = 1 << 11;

    private static final class Memo {
        final Object[] keys = new Object[MEMO_SIZE];
        final Relabel[] relabels = new Relabel[MEMO_SIZE];
        final long[] values = new long[MEMO_SIZE];
        final Object[] mapKeys = new Object[MAP_MEMO_SIZE];
        final Relabel[] mapRelabels = new Relabel[MAP_MEMO_SIZE];
        final long[][] mapEntries = new long[MAP_MEMO_SIZE][];

        /** The slot of ({@code key}, {@code r}): direct-mapped by the two identity hashes. */
        static int slot(Object key, Relabel r) {
            return (System.identityHashCode(key) * 31 + System.identityHashCode(r)) & (MEMO_SIZE - 1);
        }

        /** Whether {@code slot} holds the value of ({@code key}, {@code r}) (by reference equality). */
        boolean holds(int slot, Object key, Relabel r) {
            return keys[slot] == key && relabels[slot] == r;
        }

        /** Stores {@code value} for ({@code key}, {@code r}) in {@code slot} and returns it. */
        long put(int slot, Object key, Relabel r, long value) {
            keys[slot] = key;
            relabels[slot] = r;
            values[slot] = value;
            return value;
        }
    }

    private static final ThreadLocal<Memo> MEMO = ThreadLocal.withInitial(Memo::new);

    /** The fingerprint of machine {@code m}. */
    public static long fingerprint(XenMachine m) {
        return fingerprint((Object) m);
    }

    /** The fingerprint of any value of the state's types (a record, collection, memory, frame table …). */
    public static long fingerprint(Object value) {
        return fingerprint(value, Relabel.IDENTITY);
    }

    /**
     * The fingerprint of {@code value} with its frames relabelled by {@code r}: the fingerprint of the state in which
     * the frames of {@code r} exchanged their contents, frame-table entries and every reference to them.
     */
    public static long fingerprint(Object value, Relabel r) {
        Fingerprint f = new Fingerprint();
        encode(value, f, r);
        return f.value();
    }

    /** Adds the canonical encoding of {@code v} to {@code f}. */
    public static void encode(Object v, Fingerprint f) {
        encode(v, f, Relabel.IDENTITY);
    }

    /**
     * The fingerprint of {@code value} by the generic record walk alone (no handwritten encoder, no memo shared with
     * the fast path): what {@link HandEncoders} must equal.
     */
    static long fingerprintGeneric(Object value) {
        return fingerprint(value, Relabel.GENERIC);
    }

    private static void encode(Object v, Fingerprint f, Relabel r) {
        // the leaves first: most values are numbers, and they are never memoised
        if (v instanceof Long x) {
            f.add(x);
        } else if (v instanceof Integer x) {
            f.add(x);
        } else if (v instanceof Boolean x) {
            f.add(x);
        } else if (v != null && memoise(v.getClass())) {
            f.add(memoised(v, r));
        } else {
            encodeHere(v, f, r);
        }
    }

    private static long memoised(Object v, Relabel r) {
        Memo m = MEMO.get();
        int slot = Memo.slot(v, r);
        if (m.holds(slot, v, r)) {
            return m.values[slot];
        }
        Fingerprint own = new Fingerprint();
        encodeHere(v, own, r);
        return m.put(slot, v, r, own.value());
    }

    /** Component {@code v} of kind {@code kind} with its frame references relabelled. */
    @SuppressWarnings("unchecked")
    private static Object relabelled(int kind, Object v, Relabel r) {
        return switch (kind) {
            case FRAME -> r.frame((Long) v);
            case ADDRESS -> (Long) v < 0 ? v : r.address((Long) v);
            case FRAME_MAP -> r.frameMap((Map<Long, Long>) v);
            case FRAME_MAP_VALUES -> {
                Map<Object, Long> out = new java.util.HashMap<>();
                ((Map<Object, Long>) v).forEach((k, x) -> out.put(k, r.frame(x)));
                yield out;
            }
            case FRAME_LIST -> ((List<Long>) v).stream().map(r::frame).toList();
            case ADDRESS_LIST -> ((List<Long>) v).stream().map(r::address).toList();
            default -> v;
        };
    }

    /** The word of an enum constant: its class and name (never its ordinal's or object's hash). */
    static long enumTag(Enum<?> e) {
        return ENUMS.get(e.getDeclaringClass())[e.ordinal()];
    }

    private static void encodeHere(Object v, Fingerprint f, Relabel r) {
        // the records a step rebuilds, written out by hand: the same words as the walk below (HandEncoders)
        if (r == Relabel.IDENTITY && v instanceof Record && HandEncoders.encode(v, f)) {
            return;
        }
        if (v == null) {
            f.add(NULL);
        } else if (v instanceof Long x) {
            f.add(x);
        } else if (v instanceof Integer x) {
            f.add(x);
        } else if (v instanceof Boolean x) {
            f.add(x);
        } else if (v instanceof Enum<?> e) {
            f.add(ENUMS.get(e.getDeclaringClass())[e.ordinal()]);
        } else if (v instanceof Record rec) {
            Accessors a = RECORDS.get(rec.getClass());
            f.add(a.tag());
            Component[] components = a.components();
            boolean relabel = a.references() && !r.isIdentity();
            for (int i = 0; i < components.length; i++) {
                Component c = components[i];
                if (relabel && a.kinds()[i] != PLAIN) {
                    encode(relabelled(a.kinds()[i], c.get(rec), r), f, r);
                    continue;
                }
                switch (c.as) {
                    case AS_LONG -> f.add(c.asLong.applyAsLong(rec));
                    case AS_INT -> f.add(c.asInt.applyAsInt(rec));
                    case AS_BOOLEAN -> f.add(c.asBoolean.test(rec));
                    default -> encode(c.object.apply(rec), f, r);
                }
            }
        } else if (v instanceof PhysicalMemory mem) {
            memory(mem, f, r);
        } else if (v instanceof FrameTable t) {
            frameTable(t, f, r);
        } else if (v instanceof Tlb t) {
            encode(t.policy(), f, r);
            encode(t.entries(), f, r);
        } else if (v instanceof List<?> l) {
            f.add(l.size());
            for (Object o : l) {
                encode(o, f, r);
            }
        } else if (v instanceof Map<?, ?> m) {
            f.add(m.size());
            long[] entries = v instanceof FrozenSortedMap<?, ?> ? frozenEntries(m, r) : sortedEntries(m, r);
            for (long x : entries) {
                f.add(x);
            }
        } else if (v instanceof Collection<?> c) {
            f.add(c.size());
            long[] elements = new long[c.size()];
            int i = 0;
            for (Object o : c) {
                elements[i++] = fingerprint(o, r);
            }
            sortedInto(elements, f);
        } else if (v instanceof Optional<?> o) {
            f.add(o.isPresent());
            if (o.isPresent()) {
                encode(o.get(), f, r);
            }
        } else if (v instanceof Bitmap b) {
            f.add(b.size());
            for (int w = 0; w < b.wordCount(); w++) {
                f.add(b.word(w));
            }
        } else if (v instanceof String s) {
            f.add(s);
        } else if (v instanceof Short x) {
            f.add(x.longValue());
        } else if (v instanceof Byte x) {
            f.add(x.longValue());
        } else if (v instanceof Character x) {
            f.add((long) x);
        } else if (v instanceof long[] a) {
            f.add(a.length);
            for (long x : a) {
                f.add(x);
            }
        } else if (v instanceof int[] a) {
            f.add(a.length);
            for (int x : a) {
                f.add(x);
            }
        } else {
            throw new IllegalArgumentException("no canonical encoding for " + v.getClass().getName());
        }
    }

    /** The fingerprints of {@code m}'s entries (key then value), sorted. */
    private static long[] sortedEntries(Map<?, ?> m, Relabel r) {
        long[] entries = new long[m.size()];
        int[] i = {0};
        m.forEach((k, v) -> {
            Fingerprint ef = new Fingerprint();
            encode(k, ef, r);
            encode(v, ef, r);
            entries[i[0]++] = ef.value();
        });
        Arrays.sort(entries);
        return entries;
    }

    /**
     * {@link #sortedEntries} of an immutable map, memoised per thread by the map's identity (a step that leaves a
     * domain's p2m or the base pointers alone passes the same frozen map on; the entries are shared, never changed).
     */
    private static long[] frozenEntries(Map<?, ?> m, Relabel r) {
        Memo memo = MEMO.get();
        int slot = (System.identityHashCode(m) * 31 + System.identityHashCode(r)) & (MAP_MEMO_SIZE - 1);
        if (memo.mapKeys[slot] == m && memo.mapRelabels[slot] == r) {
            return memo.mapEntries[slot];
        }
        long[] entries = sortedEntries(m, r);
        memo.mapKeys[slot] = m;
        memo.mapRelabels[slot] = r;
        memo.mapEntries[slot] = entries;
        return entries;
    }

    /**
     * Map {@code m} (null: the null word), encoded as {@link #encode} encodes a map, its sorted entries memoised by
     * identity as a frozen map's are: for maps that are never changed once built (the caller's promise).
     */
    static void immutableMap(Map<?, ?> m, Fingerprint f) {
        if (m == null) {
            f.add(NULL);
            return;
        }
        f.add(m.size());
        for (long x : frozenEntries(m, Relabel.IDENTITY)) {
            f.add(x);
        }
    }

    private static void sortedInto(long[] fingerprints, Fingerprint f) {
        Arrays.sort(fingerprints);
        for (long x : fingerprints) {
            f.add(x);
        }
    }

    /**
     * The frame table: its size, then block by block ({@link FrameTable#BLOCK} frames each, in frame order; block
     * {@code b} holds what {@code r} moves to frames {@code b * BLOCK} onwards) each block with an entry that is not
     * {@link FrameInfo#UNUSED}, as its number and the fingerprint of those entries, each after its frame number. With
     * the identity relabelling a block's fingerprint is memoised by its token ({@link FrameTable#blockToken}), so a
     * step that changes one entry re-encodes one block of entries, not the table's 70-odd.
     */
    private static void frameTable(FrameTable t, Fingerprint f, Relabel r) {
        int n = t.size();
        f.add(n);
        int blocks = (n + FrameTable.BLOCK - 1) / FrameTable.BLOCK;
        for (int b = 0; b < blocks; b++) {
            long own = r == Relabel.IDENTITY ? frameBlockMemoised(t, b) : frameBlock(t, b, r);
            if (own == 0) {
                continue;
            }
            f.add(b);
            f.add(own);
        }
    }

    /** {@link #frameBlock} with the identity relabelling, memoised per thread by the block's token. */
    private static long frameBlockMemoised(FrameTable t, int b) {
        Object token = t.blockToken(b);
        Memo m = MEMO.get();
        Relabel r = Relabel.IDENTITY;
        int slot = Memo.slot(token, r);
        return m.holds(slot, token, r) ? m.values[slot] : m.put(slot, token, r, frameBlock(t, b, r));
    }

    /**
     * The fingerprint of block {@code b}'s entries that are not {@link FrameInfo#UNUSED} (frame {@code mfn} holding
     * what {@code r} moves there), each after its frame number, or 0 (never a fingerprint) if it has none.
     */
    private static long frameBlock(FrameTable t, int b, Relabel r) {
        Fingerprint own = new Fingerprint();
        boolean hand = r == Relabel.IDENTITY;
        boolean any = false;
        int end = Math.min(t.size(), (b + 1) * FrameTable.BLOCK);
        for (int mfn = b * FrameTable.BLOCK; mfn < end; mfn++) {
            FrameInfo i = t.get(r.inverse(mfn));
            if (i != FrameInfo.UNUSED && !i.equals(FrameInfo.UNUSED)) {
                any = true;
                own.add(mfn);
                if (hand) {
                    HandEncoders.frameTableEntry(i, own);
                } else {
                    encode(i, own, r);
                }
            }
        }
        return any ? own.value() : 0;
    }

    /**
     * Memory: the frame count, then frame by frame (frame {@code t} holds what {@code r} moves there) each frame with a
     * non-zero word, as its number and the fingerprint of its words (each relabelled, with its index). A frame's
     * fingerprint is memoised by its content token ({@link PhysicalMemory#contentToken}), so a step re-encodes only
     * the frames it wrote.
     */
    private static void memory(PhysicalMemory mem, Fingerprint f, Relabel r) {
        int n = mem.frameCount();
        f.add(n);
        for (int frame = 0; frame < n; frame++) {
            long source = r.inverse(frame);
            Object token = mem.contentToken(source);
            if (token == null) {
                continue;
            }
            long own = frameFingerprint(mem, source, token, r);
            if (own == 0) {
                continue;
            }
            f.add(frame);
            f.add(own);
        }
    }

    /** The fingerprint of frame {@code frame}'s non-zero words with their indices, or 0 if it has none. */
    private static long frameFingerprint(PhysicalMemory mem, long frame, Object token, Relabel r) {
        Memo m = MEMO.get();
        int slot = Memo.slot(token, r);
        return m.holds(slot, token, r) ? m.values[slot] : m.put(slot, token, r, frameWords(mem, frame, r));
    }

    /** The fingerprint of frame {@code frame}'s non-zero words with their indices, or 0 if it has none (no memo). */
    private static long frameWords(PhysicalMemory mem, long frame, Relabel r) {
        Fingerprint own = new Fingerprint();
        int first = mem.nextNonZero(frame, 0);
        for (int i = first; i < PhysicalMemory.WORDS_PER_FRAME; i = mem.nextNonZero(frame, i + 1)) {
            own.add(i);
            own.add(r.address(mem.read(frame, i)));
        }
        // 0 (never a fingerprint): the frame holds only zero words, and is not encoded
        return first == PhysicalMemory.WORDS_PER_FRAME ? 0 : own.value();
    }
}
