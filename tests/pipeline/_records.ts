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

/** How many datums the job of `datumsJob()` has by default. */
export const DATUMS = 500;

/** A running job of pipeline `p` with `n` datums, each with tries 0. */
export function datumsJob(id: string, n: number): JobRecord {
  return {
    ...record("p", id),
    state: "RUNNING",
    progress: { total: n, processed: 0, skipped: 0, failed: 0, recovered: 0 },
    datums: Array.from({ length: n }, (_, i) => ({
      id: i.toString(16).padStart(32, "0"),
      hash: i.toString(16).padStart(64, "0"),
      state: "STARTING" as const,
      inputs: [{ name: "data", repo: "data", commit: "c".repeat(64), path: `/f${i}` }],
      tries: 0,
      durationMs: 0,
      exitCode: null,
    })),
  };
}
