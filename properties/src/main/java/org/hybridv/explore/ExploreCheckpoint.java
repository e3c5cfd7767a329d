package org.hybridv.explore;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.hybridv.check.AtomicFiles;
import org.hybridv.xen.Faults;

/**
 * The checkpoint of a breadth-first exploration ({@code hybridv explore --checkpoint DIR}, {@code --resume DIR}): one
 * file, {@value #FILE}, replaced atomically at the start of every level ({@link AtomicFiles}: a temporary file, then
 * a move), so an interrupted run always leaves the last complete level.
 *
 * <p>It holds the search's identity — the configuration's name and the SHA-256 of its file, the faults, whether the
 * symmetry reduction is used, whether deadlocks are findings, whether the partial-order reduction is used, and the
 * action alphabet (names) — then the {@link Explorer.Checkpoint}: the depth, the counters, the states per level, the fingerprint set exactly as it was
 * (table and trace arrays), the frontier as state numbers and, after it, the transitions slept so far and each
 * frontier state's sleep set. The frontier's states are not stored: each is rebuilt
 * by replaying its trace from the initial state. The bounds ({@code --depth}, {@code --max-states}) and the worker
 * count are not part of the identity: a resumed run may raise them (the search is the same for any worker count).
 *
 * @param identity the lines of the identity, compared line by line on resume
 * @param state    the search at the start of a level
 */
public record ExploreCheckpoint(List<String> identity, Explorer.Checkpoint state) {
    /** The file name inside the checkpoint folder. */
    public static final String FILE = "explore.checkpoint";
    /**
     * The format, with the fingerprint encoding: /3 since a domain's emulated devices are encoded as their own
     * fingerprint, /5 since the frame table is encoded block by block (a checkpoint's visited set holds
     * fingerprints, so it cannot be read with another encoding).
     */
    private static final String MAGIC = "hybridv-explore-checkpoint/5";
    private static final String FAMILY = "hybridv-explore-checkpoint/";

    /** A checkpoint that cannot be used: unreadable, or another search's. The message says why, in one line. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        public Refused(String message) {
            super(message);
        }
    }

    /**
     * The identity of the search of {@code config} (whose file holds {@code configBytes}) with {@code faults} on
     * {@code system}, {@code symmetry} telling whether the reduction is used.
     */
    public static List<String> identity(ExploreConfig config, byte[] configBytes, Faults faults, boolean symmetry,
            TransitionSystem<?> system) {
        return identity(config, configBytes, faults, symmetry, true, system);
    }

    /**
     * The identity of the search of {@code config} (whose file holds {@code configBytes}) with {@code faults} on
     * {@code system}, {@code symmetry} and {@code partialOrder} telling whether the reductions are used.
     */
    public static List<String> identity(ExploreConfig config, byte[] configBytes, Faults faults, boolean symmetry,
            boolean partialOrder, TransitionSystem<?> system) {
        List<String> l = new ArrayList<>();
        l.add("config " + config.name());
        l.add("config sha-256 " + sha256(configBytes));
        l.add("faults " + (faults.isEmpty() ? "none" : String.join(",", faults.ids())));
        l.add("symmetry " + symmetry);
        l.add("deadlock " + config.deadlock());
        l.add("partial-order " + partialOrder);
        StringBuilder names = new StringBuilder();
        for (int a = 0; a < system.actionCount(); a++) {
            names.append(system.actionName(a)).append('\n');
        }
        l.add("actions " + system.actionCount() + " sha-256 " + sha256(names.toString().getBytes(
                StandardCharsets.UTF_8)));
        return List.copyOf(l);
    }

    /** Writes this checkpoint into {@code dir} (created if missing), replacing the previous one atomically. */
    public void write(Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(MAGIC);
            out.writeInt(identity.size());
            for (String s : identity) {
                out.writeUTF(s);
            }
            Explorer.Checkpoint c = state;
            out.writeInt(c.depth());
            out.writeLong(c.transitions());
            out.writeLong(c.checks());
            out.writeInt(c.enabled().length);
            for (int a = 0; a < c.enabled().length; a++) {
                out.writeLong(c.enabled()[a]);
                out.writeLong(c.taken()[a]);
                out.writeLong(c.newStates()[a]);
            }
            out.writeInt(c.levels().size());
            for (long l : c.levels()) {
                out.writeLong(l);
            }
            c.seen().write(out);
            out.writeInt(c.frontier().length);
            for (int n : c.frontier()) {
                out.writeInt(n);
            }
            out.writeLong(c.slept());
            for (long[] z : c.sleep()) {
                out.writeInt(z == null ? 0 : z.length);
                for (long w : z == null ? new long[0] : z) {
                    out.writeLong(w);
                }
            }
        }
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve(FILE), bytes.toByteArray());
    }

    /**
     * The checkpoint in {@code dir}, if it is the search {@code expected} names.
     *
     * @param shown how to name the folder in a message
     * @throws Refused if there is none, it is not a checkpoint, or it is another search's (the first line of the
     *                 identity that differs is named)
     */
    public static ExploreCheckpoint read(Path dir, String shown, List<String> expected) throws Refused {
        Path f = dir.resolve(FILE);
        byte[] data;
        try {
            data = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new Refused(shown + ": no checkpoint to resume (" + FILE + " cannot be read: "
                    + e.getClass().getSimpleName() + ")");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            String magic = in.readUTF();
            if (magic.startsWith(FAMILY) && !magic.equals(MAGIC)) {
                throw new Refused(shown + "/" + FILE + ": written by another version of hybridv (format "
                        + magic.substring(FAMILY.length()) + ", this one reads " + MAGIC.substring(FAMILY.length())
                        + "; its fingerprints are another encoding's): start the search again");
            }
            if (!MAGIC.equals(magic)) {
                throw new Refused(shown + "/" + FILE + ": not a hybridv explore checkpoint");
            }
            int n = in.readInt();
            if (n < 0 || n > 64) {
                throw new IOException("identity of " + n + " lines");
            }
            List<String> identity = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                identity.add(in.readUTF());
            }
            for (int i = 0; i < Math.max(identity.size(), expected.size()); i++) {
                String got = i < identity.size() ? identity.get(i) : "(nothing)";
                String want = i < expected.size() ? expected.get(i) : "(nothing)";
                if (!got.equals(want)) {
                    throw new Refused(shown + "/" + FILE + ": the checkpoint is another search's: it has \"" + got
                            + "\", this run \"" + want + "\"");
                }
            }
            int depth = in.readInt();
            long transitions = in.readLong();
            long checks = in.readLong();
            int actions = in.readInt();
            if (actions < 0 || actions > FingerprintSet.MAX_ACTIONS) {
                throw new IOException(actions + " actions");
            }
            long[] enabled = new long[actions];
            long[] taken = new long[actions];
            long[] fresh = new long[actions];
            for (int a = 0; a < actions; a++) {
                enabled[a] = in.readLong();
                taken[a] = in.readLong();
                fresh[a] = in.readLong();
            }
            int nl = in.readInt();
            if (nl < 1 || nl > 1001) {
                throw new IOException(nl + " levels");
            }
            List<Long> levels = new ArrayList<>();
            for (int i = 0; i < nl; i++) {
                levels.add(in.readLong());
            }
            FingerprintSet seen = FingerprintSet.read(in);
            int nf = in.readInt();
            if (nf < 0 || nf > seen.size()) {
                throw new IOException("a frontier of " + nf + " states");
            }
            int[] frontier = new int[nf];
            for (int i = 0; i < nf; i++) {
                frontier[i] = in.readInt();
            }
            long slept = in.readLong();
            long[][] sleep = new long[nf][];
            for (int i = 0; i < nf; i++) {
                int words = in.readInt();
                if (words < 0 || words > (actions + 63) / 64) {
                    throw new IOException("a sleep set of " + words + " words");
                }
                sleep[i] = words == 0 ? null : new long[words];
                for (int j = 0; j < words; j++) {
                    sleep[i][j] = in.readLong();
                }
            }
            if (in.read() != -1) {
                throw new IOException("bytes after the frontier");
            }
            return new ExploreCheckpoint(List.copyOf(identity), new Explorer.Checkpoint(depth, seen, frontier,
                    transitions, checks, enabled, taken, fresh, List.copyOf(levels), slept, sleep));
        } catch (EOFException e) {
            throw new Refused(shown + "/" + FILE + ": truncated checkpoint");
        } catch (IOException e) {
            throw new Refused(shown + "/" + FILE + ": damaged checkpoint: " + e.getMessage());
        }
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
