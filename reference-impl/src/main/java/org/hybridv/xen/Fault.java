package org.hybridv.xen;

/** TEMP placeholder until the faults branch lands (same API). */
public enum Fault {
    PLACEHOLDER;

    public String id() {
        return "placeholder";
    }

    public String rule() {
        return "-";
    }

    public String description() {
        return "-";
    }

    public String source() {
        return "-";
    }
}
