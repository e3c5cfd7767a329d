package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.gen.Choices;

/** A choice stream that remembers what it handed out, so that a run can be replayed and shrunk as a plain list. */
final class RecordingChoices implements Choices {
    private final Choices source;
    private final List<Integer> taken = new ArrayList<>();

    RecordingChoices(Choices source) {
        this.source = source;
    }

    @Override
    public int next() {
        int v = source.next();
        taken.add(v);
        return v;
    }

    /**
     * Records the choice as the generator sees it ({@code raw mod bound}), not the raw value: replaying the smaller
     * number gives the same choice, and the shrinker then works on values whose order means something.
     */
    @Override
    public int below(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound = " + bound + " must be positive");
        }
        int v = source.next() % bound;
        taken.add(v);
        return v;
    }

    List<Integer> taken() {
        return List.copyOf(taken);
    }
}
