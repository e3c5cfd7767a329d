package org.hybridv.gen;

import java.util.List;

/** {@link Choices} read from a list (what a property-testing engine generates and shrinks), then zeroes. */
public final class ListChoices implements Choices {
    private final List<Integer> values;
    private int position;

    public ListChoices(List<Integer> values) {
        this.values = List.copyOf(values);
    }

    @Override
    public int next() {
        if (position >= values.size()) {
            return 0;
        }
        int v = values.get(position++);
        if (v < 0) {
            throw new IllegalArgumentException("choice " + v + " at position " + (position - 1) + " is negative");
        }
        return v;
    }

    /** How many choices have been read (those past the list's end included). */
    public int consumed() {
        return position;
    }
}
