package org.hybridv.xen;

/**
 * The errno values Xen returns from the direct-paging hypercalls ({@code xen/include/public/errno.h}; the values are
 * Linux's). A hypercall returns {@code -value}.
 */
public enum Errno {
    EPERM(1),
    ENOMEM(12),
    EFAULT(14),
    EBUSY(16),
    EINVAL(22),
    ENOSYS(38),
    EOPNOTSUPP(95),
    /** Event channels, grant tables, timer (docs/pv-interfaces.md). */
    ENOENT(2),
    ESRCH(3),
    EEXIST(17),
    ENOSPC(28),
    ETIME(62);

    private final int value;

    Errno(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }
}
