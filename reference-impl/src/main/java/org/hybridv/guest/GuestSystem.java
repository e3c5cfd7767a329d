package org.hybridv.guest;

import org.hybridv.x86.Checks;

/** The hybrid kernel's state and the platform it runs on. */
public record GuestSystem(KernelState kernel, Platform platform) {
    public GuestSystem {
        Checks.notNull("kernel", kernel);
        Checks.notNull("platform", platform);
    }
}
