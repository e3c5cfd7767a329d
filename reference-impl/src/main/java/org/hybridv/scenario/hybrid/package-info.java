/**
 * Scenario operations for the hybrid kernel: the {@code kernel} section of {@code machine} and the
 * {@code kernel} and {@code checkHybrid} steps. The xen module's {@code guest} op already names one instruction of a
 * vCPU; a {@code kernel} step is one operation of the kernel that runs on it.
 */
package org.hybridv.scenario.hybrid;
