/** Job records for the job store's tests. */
import type { JobRecord } from "../../lib/pipeline/jobs.ts";

/** A minimal finished job record of pipeline `p` with id `id`. */
export function record(p: string, id: string): JobRecord {
  return {
    id,
    pipeline: p,
    version: 1,
    specHash: "0".repeat(64),
    codeHash: "0".repeat(64),
    inputs: [],
    trigger: "1".repeat(64),
    state: "SUCCESS",
    created: "2025-01-01T00:00:00.000Z",
    restart: 0,
    progress: { total: 0, processed: 0, skipped: 0, failed: 0, recovered: 0 },
    datums: [],
  };
}
