package org.hybridv.scenario.hybrid;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Hex;

/**
 * Writes the hybrid layer's steps: the inverse of {@link HybridDecoders#kernel}, with the decoder's own word tables
 * ({@link HybridDecoders#ROOTS}, {@link HybridDecoders#KINDS}), so for every operation this writes the decoded step's
 * {@link KernelStepSpec.KernelOp#operation()} equals it (a read's or fetch's value, which the kernel never uses, is
 * not written and reads back as 0).
 */
public final class KernelWriter {
    private KernelWriter() {}

    /** A {@code kernel} step doing {@code op}. */
    public static ObjectNode kernel(GuestOp op) {
        ObjectNode s = JsonNodeFactory.instance.objectNode().put("op", "kernel");
        if (op instanceof GuestOp.Boot b) {
            s.put("do", "boot").put("to", b.target().name());
        } else if (op instanceof GuestOp.NewProcess) {
            s.put("do", "newProcess");
        } else if (op instanceof GuestOp.SwitchTo t) {
            s.put("do", "switchTo").put("pid", t.pid());
        } else if (op instanceof GuestOp.Map m) {
            s.put("do", "map").put("page", m.page()).put("writable", m.writable());
        } else if (op instanceof GuestOp.Unmap u) {
            s.put("do", "unmap").put("page", u.page());
        } else if (op instanceof GuestOp.UserAccess a) {
            access(s.put("do", "user"), a.linear(), a.kind(), a.value());
        } else if (op instanceof GuestOp.KernelAccess a) {
            access(s.put("do", "kernelAccess"), a.linear(), a.kind(), a.value());
        } else if (op instanceof GuestOp.Syscall) {
            s.put("do", "syscall");
        } else if (op instanceof GuestOp.Idle) {
            s.put("do", "idle");
        } else {
            GuestOp.SwitchMmu m = (GuestOp.SwitchMmu) op;
            s.put("do", "switchMmu").put("root", name(HybridDecoders.ROOTS, m.root()));
            if (m.root() == SwitchRoot.EXPLICIT || m.root() == SwitchRoot.FOREIGN_FRAME) {
                s.put("mfn", m.explicitRoot());
            }
            if (m.fromUser()) {
                s.put("fromUser", true);
            }
            if (m.force()) {
                s.put("force", true);
            }
        }
        return s;
    }

    /** A {@code checkHybrid} step expecting {@code invariant} (I1–I8) to be {@code word}. */
    public static ObjectNode checkHybrid(String invariant, String word) {
        ObjectNode s = JsonNodeFactory.instance.objectNode().put("op", "checkHybrid");
        s.putObject("expect").put(invariant, word);
        return s;
    }

    private static void access(ObjectNode s, long linear, AccessKind kind, long value) {
        s.put("linear", Hex.of(linear)).put("kind", name(HybridDecoders.KINDS, kind));
        if (kind == AccessKind.WRITE) {
            s.put("value", Hex.of(value));
        }
    }

    private static <V> String name(Map<String, V> table, V value) {
        return table.entrySet().stream().filter(e -> e.getValue() == value).map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no scenario word for " + value));
    }
}
