/**
 * The lean surface of the metrics verbs, for `tusk metrics show|diff` and `tusk plots`:
 * loading it loads the store and these verbs, not the pipeline, scheduler or runner code
 * (which would add about 0.1 s and 16 MiB to each of them), and `lib/pfs.ts`, which every
 * store command loads, stays without them. `lib/mod.ts` re-exports all of it.
 */
export {
  headlineMetric,
  metricNames,
  metricsDiff,
  metricsShow,
  pickMetrics,
} from "./commands/metrics.ts";
export type {
  MetricChange,
  MetricsDiff,
  MetricsRow,
  MetricsShowOptions,
  MetricsSide,
} from "./commands/metrics.ts";
export { plotFormat, plots } from "./commands/plots.ts";
export type { PlotsOptions, PlotsResult } from "./commands/plots.ts";
