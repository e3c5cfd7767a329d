package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Input text printed on a terminal: control and bidi characters escaped, quotes cut at 40 characters. */
class InputTextTest {
    @Test
    void controlBidiAndLineSeparatingCharactersAreEscaped() {
        assertThat(InputText.escape("a\u001b]0;t\u0007b\tc\nd\u202ee\u2066f\u2028g\u0085h\u007fi"))
                .isEqualTo("a\\e]0;t\\x07b\\tc\\nd\\u202ee\\u2066f\\u2028g\\x85h\\x7fi");
        assertThat(InputText.escape("plain ✓ text → ok")).isEqualTo("plain ✓ text → ok");
    }

    @Test
    void escapingTwiceChangesNothing() {
        String once = InputText.escape("\u001b[2J\u202e");
        assertThat(InputText.escape(once)).isEqualTo(once);
    }

    @Test
    void aQuoteKeepsFortyCharactersAndSaysHowManyWereLeftOut() {
        assertThat(InputText.quote("y".repeat(40))).isEqualTo("y".repeat(40));
        assertThat(InputText.quote("y".repeat(41))).isEqualTo("y".repeat(40) + "… (1 more character)");
        assertThat(InputText.quote("\u001b".repeat(100))).isEqualTo("\\e".repeat(40) + "… (60 more characters)");
    }

    @Test
    void anErrorLineEscapesTheFileNameAndTheMessage() {
        ScenarioError e = new ScenarioError("a\u001b[2J.json", 2, "pte", new SourceLocation(3, 4),
                "title \u202eevil\nline", null);
        assertThat(e.line()).isEqualTo("a\\e[2J.json:3:4: error: step 2 (pte): title \\u202eevil\\nline");
    }
}
