/**
 * The scheduler in this process, on a real store with real sandboxed stages: the default
 * memory cap of stages whose spec sets none, and jobs of one pipeline never holding up
 * another's. The store is set up through the real CLI.
 */
import assert from "node:assert/strict";
import { EventBus, type JobRecord, Scheduler, Store } from "../../lib/mod.ts";
import type { SandboxMode } from "../../lib/runner/sandbox.ts";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";
import { MODES } from "../runner/_helpers.ts";

const MIB = 1024 * 1024;
const HOSTILE = `${ROOT}/tests/fixtures/hostile`;

/** Write spec `<dir>/<name>.json` for a stage reading repo `repo`, one datum per file. */
async function writeSpec(
  dir: string,
  name: string,
  repo: string,
  cmd: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name },
      transform: { cmd: ["deno", "run", ...cmd] },
      input: { pfs: { repo, glob: "/*" } },
      datumTries: 1,
      ...extra,
    }),
  );
  return file;
}

/** A scheduler on `store` in `mode`, its events kept in memory. */
function scheduler(store: Store, mode: SandboxMode, extra: { defaultMemoryBytes?: number } = {}) {
  return new Scheduler(store, { sandbox: mode, bus: new EventBus(), ...extra });
}

for (const mode of MODES) {
  Deno.test(`Scheduler [${mode}] fails a datum that goes past the default memory cap, naming it`, async () => {
    await using s = await tempStore();
    await tuskOk(["create", "repo", "data"], { store: s.store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a" });
    await Deno.copyFile(`${HOSTILE}/memory_offheap.js`, `${s.path}/memory_offheap.js`);
    const spec = await writeSpec(s.path, "hog", "data", ["memory_offheap.js", "1024"]);
    await tuskOk(["create", "pipeline", "-f", spec, "--no-wait"], { store: s.store });

    const store = await Store.open(s.store);
    const ran: JobRecord[] = await scheduler(store, mode, { defaultMemoryBytes: 192 * MIB })
      .runPending();
    assert.equal(ran.length, 1);
    const job = ran[0]!;
    assert.equal(job.state, "FAILURE");
    const datum = job.datums[0]!;
    assert.equal(datum.state, "FAILED");
    assert.equal(
      datum.message,
      "Stage exceeded the default memory limit of 192 MiB (the spec sets no resourceLimits.memory)",
    );
    assert.match(job.reason!, /default memory limit of 192 MiB/);
  });
}
