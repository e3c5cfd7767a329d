package org.hybridv.scenario;

/**
 * A place in a scenario file: 1-based line and column, as Jackson reports them and as editors count them.
 *
 * @param line   line number, from 1
 * @param column column number (characters), from 1
 */
public record SourceLocation(int line, int column) {
    /** {@code line:column}, the form compilers print after a file name. */
    @Override
    public String toString() {
        return line + ":" + column;
    }
}
