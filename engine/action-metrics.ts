import { etlRowsCopiedCounter, etlRowsPerSecondGauge, etlRowsQuarantinedCounter } from '../config/metrics.js';
import type { ActionMetrics } from './action.js';

/** The worker's metrics for one step of a run of `runbook`. */
export function actionMetrics(runbook: string): ActionMetrics {
  return {
    chunkCommitted(table, chunk) {
      const labels = { runbook, table };
      etlRowsCopiedCounter.inc(labels, chunk.rows);
      etlRowsQuarantinedCounter.inc(labels, chunk.quarantined);
      etlRowsPerSecondGauge.set(labels, chunk.tableRowsPerSecond);
    },
  };
}
