package org.hybridv.scenario;

/**
 * One decoded step of a scenario: an immutable record made by its operation's {@link StepDecoder}.
 *
 * <p>Deliberately not sealed here: each layer declares its own sealed family of steps (the x86 layer's is
 * {@code org.hybridv.scenario.x86.X86Step}) and switches exhaustively over it in its executor, and the families of
 * later layers live in their own packages. A sealed interface in this package could only permit types in this
 * package, which would put every layer's steps in one place.
 */
public interface Step {
    /** The op name as written in the file ({@code "pte"}, {@code "access"} …). */
    String op();

    /** What the step does, in a few words for the replay trace ({@code "write 0x0 at CPL 3"}). */
    String describe();
}
