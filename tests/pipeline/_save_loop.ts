/**
 * A process that saves one job over and over until it is killed (for the datum log's crash
 * test): save k sets the job's `restart` to k and the tries of datum `k % DATUMS` to k, so
 * that a record read back tells which save it is and what each datum must then hold.
 *
 *   deno run --allow-read --allow-write tests/pipeline/_save_loop.ts STORE ID
 */
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { DATUMS, datumsJob } from "./_records.ts";

const [dir, id] = Deno.args;
const jobs = new JobStore(await Store.open(dir!));
const job = datumsJob(id!, DATUMS);
for (let k = 1;; k++) {
  job.restart = k;
  job.datums[k % DATUMS]!.tries = k;
  // Now and then a save that fsyncs, as a job's state changes do.
  await jobs.save(job, { durable: k % 7 === 0 });
  if (k === 1) console.log("saving");
}
