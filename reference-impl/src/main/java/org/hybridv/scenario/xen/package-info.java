/**
 * The hypervisor layer's scenario operations: a {@code hypervisor} section of
 * {@code machine} built with the reference's domain builder, and steps that run on the {@link
 * org.hybridv.xen.XenMachine}: builder writes, hypercalls by name, guest instructions routed through VM exits to the
 * hypervisor, the frame table and the isolation invariants. See docs/scenario-format.md, "Hypervisor".
 */
package org.hybridv.scenario.xen;
