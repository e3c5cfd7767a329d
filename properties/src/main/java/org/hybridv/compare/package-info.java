/**
 * The seed's performance comparison reproduced as a cost model's prediction: the hybrid kernel's workloads run on
 * each platform (native, software-only PV, shadow, HAP, hybrid direct paging), their events counted from what the
 * model executes ({@link org.hybridv.compare.EventCounter}), priced by a cost model kept as data
 * ({@code costs.json}, {@link org.hybridv.compare.CostModel}), and the seed's claims judged
 * ({@link org.hybridv.compare.Comparison}). Explained in docs/comparison.md.
 */
package org.hybridv.compare;
