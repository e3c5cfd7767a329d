/**
 * Layer 2 of the reference: VMX as the Intel SDM Vol. 3C describes it, for the controls this project needs.
 *
 * <p>Section numbers are those of the 2016-era SDM (chapter 24 "Virtual Machine Control Structures", 25 "VMX
 * Non-Root Operation", 26 "VM Entries", 27 "VM Exits", 28 "VMX Support for Address Translation", appendix C "VMX
 * Basic Exit Reasons"); later editions shifted these chapters by one (25–29).
 *
 * <p>One concern per file: the VMCS and its areas ({@link org.hybridv.vmx.Vmcs}), exception exits with #PF
 * error-code filtering ({@link org.hybridv.vmx.ExceptionExits}), I/O-instruction exits
 * ({@link org.hybridv.vmx.IoExits}), MSR exits ({@link org.hybridv.vmx.MsrExits}), control-register exits
 * ({@link org.hybridv.vmx.CrAccessExits}), the unconditional and per-control instruction exits
 * ({@link org.hybridv.vmx.InstructionExits}), and VM entry checks ({@link org.hybridv.vmx.VmEntryChecks}).
 */
package org.hybridv.vmx;
