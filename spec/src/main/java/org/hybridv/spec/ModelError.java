package org.hybridv.spec;

/**
 * A model that cannot be analysed: a syntax or type error (Alloy's {@code Err}) at a position, printed the way
 * compilers print them, {@code file:line:column: message}.
 */
public record ModelError(String file, int line, int column, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + message;
    }
}
