package org.hybridv.spec;

import java.util.List;

/** The result of one model: its commands run, or the error that stopped it from being analysed. */
public sealed interface ModelReport {
    ModelFile model();

    record Checked(ModelFile model, List<CommandResult> results) implements ModelReport {
        public Checked {
            results = List.copyOf(results);
        }
    }

    record Unparsable(ModelFile model, ModelError error) implements ModelReport {}
}
