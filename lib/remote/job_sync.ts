/**
 * Jobs as they travel, pure: job records and datum index entries that came from a remote,
 * checked, and datum index entries encoded as the datum index file holds them. Only
 * finished jobs travel: a running one belongs to the scheduler of the store running it.
 * Jobs are never removed by a push or pull, only added; a datum index entry travels when
 * the other side has none for its datum. (`local_jobs.ts` reads a store's own.)
 */
import { IntegrityError } from "../errors.ts";
import { entryProblem } from "../pipeline/datum_index_lines.ts";
import type { DatumIndexEntry, JobRecord } from "../pipeline/jobs.ts";
import { isFinal } from "../pipeline/states.ts";
import type { Hash } from "../store/hash.ts";

const HEX64 = /^[0-9a-f]{64}$/;

/** Encode datum index entries as the datum index file does (JSON lines). */
export function encodeDatums(entries: readonly DatumIndexEntry[]): Uint8Array {
  return new TextEncoder().encode(entries.map((e) => JSON.stringify(e) + "\n").join(""));
}

/**
 * Decode and check datum index entries that came from `remote`: each line must be what
 * `verify` takes for an entry here (`entryProblem()`), so a pull adds no line it would name.
 */
export function decodeDatums(bytes: Uint8Array, remote: string, hash: Hash): DatumIndexEntry[] {
  const out: DatumIndexEntry[] = [];
  for (const line of new TextDecoder().decode(bytes).split("\n")) {
    if (!line) continue;
    if (entryProblem(line) !== null) {
      throw new IntegrityError(`Remote "${remote}": datum index ${hash} is damaged`, {
        remote,
        object: hash,
      });
    }
    out.push(JSON.parse(line) as DatumIndexEntry);
  }
  return out;
}

/** Decode and check a job record that came from `remote` as job `id` of pipeline `p`. */
export function decodeJob(
  bytes: Uint8Array,
  options: { remote: string; id: string; pipeline: string; hash: Hash },
): JobRecord {
  let v: JobRecord | null = null;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes)) as JobRecord;
  } catch {
    v = null;
  }
  const ok = v !== null && typeof v === "object" && v.id === options.id &&
    v.pipeline === options.pipeline && typeof v.state === "string" && isFinal(v.state) &&
    Array.isArray(v.datums) && Array.isArray(v.inputs) &&
    v.datums.every((d) =>
      (d.logs === undefined || HEX64.test(d.logs)) &&
      (d.outputTree === undefined || HEX64.test(d.outputTree))
    ) && (v.outputCommit === undefined || HEX64.test(v.outputCommit));
  if (!ok) {
    throw new IntegrityError(
      `Remote "${options.remote}": the record of job ${options.id} of pipeline "${options.pipeline}" is damaged`,
      { remote: options.remote, object: options.hash, job: options.id },
    );
  }
  return v!;
}
