/**
 * A job's datums in their log (`jobs/<p>/<id>.datums`), apart from its record: saves append
 * only what changed, a record of the single form (its datums in it) still reads, what a crash
 * left past the record's bytes is never read, and a log that is not what its record says is
 * damaged, never read otherwise (a killed process included).
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { type JobRecord, JobStore, recordPieces } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";
import { DATUMS, datumsJob, record } from "./_records.ts";

const ID = "01b0".padEnd(32, "0");
const OTHER = "01b1".padEnd(32, "0");

async function open(dir: string): Promise<{ store: Store; jobs: JobStore }> {
  const store = await Store.init(`${dir}/.tusk`);
  return { store, jobs: new JobStore(store) };
}

function logLines(store: Store): string[] {
  return Deno.readTextFileSync(store.layout.datumLog("p", ID)).split("\n").slice(0, -1);
}

/** The job as it reads back: what `JSON.parse(JSON.stringify())` of it gives. */
function plain(job: JobRecord): JobRecord {
  return JSON.parse(JSON.stringify(job));
}

Deno.test("a saved job reads back the same, its datums in its log and its record a few kilobytes", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = datumsJob(ID, 3000);
  await jobs.save(job);
  assert.deepEqual(await jobs.load(ID), plain(job));
  assert.ok((await Deno.stat(store.layout.job("p", ID))).size < 4096);
  assert.equal(logLines(store).length, 3001, "a reset and every datum");
  // `inspect job --json` gives the record as the single form held it: datums last.
  const text = [...recordPieces(await jobs.load(ID))].join("");
  assert.deepEqual(JSON.parse(text), plain(job));
});

Deno.test("a save appends only the datums that changed; a job read afresh and saved writes all", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = datumsJob(ID, 3000);
  await jobs.save(job);
  job.datums[7]!.state = "SUCCESS";
  job.datums[2999]!.tries = 2;
  job.progress.processed = 1;
  await jobs.save(job, { durable: true });
  assert.equal(logLines(store).length, 3003);
  assert.deepEqual(logLines(store).slice(-2).map((l) => JSON.parse(l)[0]), [7, 2999]);
  await jobs.save(job);
  assert.equal(logLines(store).length, 3003, "nothing changed, nothing appended");
  assert.deepEqual(await jobs.load(ID), plain(job));

  const again = await jobs.load(ID);
  again.datums[0]!.state = "FAILED";
  await jobs.save(again);
  assert.equal(logLines(store).length, 3003 + 3001);
  assert.deepEqual(await jobs.load(ID), plain(again));
  // A job whose datums are replaced (fewer of them) starts its log over, with a reset.
  again.datums = again.datums.slice(0, 10);
  await jobs.save(again);
  assert.deepEqual(await jobs.load(ID), plain(again));
  const heads = await jobs.scan({ heads: true });
  assert.deepEqual(heads.jobs.map((j) => [j.id, j.datums.length]), [[ID, 10]], "unfinished: whole");
});

Deno.test("a record of the single form (its datums in it) reads as before, and is saved split", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  await jobs.save(record("p", OTHER));
  await jobs.save(record("p", ID));
  const job: JobRecord = { ...datumsJob(ID, 1500), state: "SUCCESS" };
  const single = [...recordPieces(job)].join("");
  await Deno.writeTextFile(store.layout.job("p", ID), single);
  assert.deepEqual(await jobs.load(ID), plain(job));
  const heads = await jobs.scan({ heads: true });
  assert.deepEqual(heads.jobs.map((j) => [j.id, j.datums.length]), [[OTHER, 0], [ID, 0]]);
  assert.deepEqual(heads.damaged, []);
  const loaded = await jobs.load(ID);
  loaded.datums[3]!.message = "again";
  await jobs.save(loaded);
  assert.ok((await Deno.stat(store.layout.job("p", ID))).size < 4096);
  assert.deepEqual(await jobs.load(ID), plain(loaded));
});

Deno.test("what a crash left past the record's bytes is not read, and the next save cuts it off", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = datumsJob(ID, 100);
  await jobs.save(job);
  const saved = plain(job);
  const log = store.layout.datumLog("p", ID);
  // Lines appended by a save that died before its record was written, then a torn one.
  const changed = { ...saved.datums[5]!, state: "SUCCESS" };
  await Deno.writeTextFile(log, `[5,${JSON.stringify(changed)}]\n[6,{"id":"0`, { append: true });
  assert.deepEqual(await jobs.load(ID), saved);
  job.datums[9]!.tries = 3;
  await jobs.save(job);
  assert.deepEqual(await jobs.load(ID), plain(job));
  // The torn line is cut off: every line of the log is whole.
  for (const line of logLines(store)) JSON.parse(line);
  assert.ok(Deno.readTextFileSync(log).endsWith("\n"));
  // Read afresh by another process (a resumed job): the same.
  const resumed = await new JobStore(await Store.open(store.root)).load(ID);
  resumed.datums[1]!.tries = 4;
  await Deno.writeTextFile(log, "[1,", { append: true });
  await new JobStore(await Store.open(store.root)).save(resumed);
  assert.deepEqual(await jobs.load(ID), plain(resumed));
});

for (
  const [what, damage] of [
    ["cut short", (log: string) => Deno.truncateSync(log, Deno.statSync(log).size - 10)],
    ["gone", (log: string) => Deno.removeSync(log)],
    ["not JSON", (log: string) => {
      const text = Deno.readTextFileSync(log);
      Deno.writeTextFileSync(log, text.replace('[3,{"id"', '[3,{"id"}'));
    }],
    ["naming a datum the job lacks", (log: string) => {
      const text = Deno.readTextFileSync(log);
      Deno.writeTextFileSync(log, text.replace('\n[3,{"id"', '\n[9,{"id"'));
    }],
    ["with a line fewer than its record counts", (log: string) => {
      const text = Deno.readTextFileSync(log);
      // The same bytes, one line fewer: two lines made one.
      Deno.writeTextFileSync(log, text.replace('}]\n[3,{"id"', '}] [3,{"id"'));
    }],
    ["missing a datum", (log: string) => {
      const text = Deno.readTextFileSync(log);
      Deno.writeTextFileSync(log, text.replace('\n[3,{"id"', '\n[2,{"id"'));
    }],
  ] as const
) {
  Deno.test(`a datum log ${what} is damaged: the record is set aside, naming its files`, async () => {
    await using dir = await tempDir();
    const { store, jobs } = await open(dir.path);
    await jobs.save(record("p", OTHER));
    await jobs.save(datumsJob(ID, 5));
    const log = store.layout.datumLog("p", ID);
    damage(log);
    const file = store.layout.job("p", ID);
    await assert.rejects(jobs.load(ID), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.data.file, file);
      assert.match(err.message, new RegExp(`remove "${file}" and "${log}"`));
      return true;
    });
    const scan = await jobs.scan();
    assert.deepEqual(scan.jobs.map((j) => j.id), [OTHER]);
    assert.deepEqual(scan.damaged.map((d) => d.file), [file]);
  });
}

Deno.test("a record naming its log wrongly is damaged", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  await jobs.save(datumsJob(ID, 5));
  const file = store.layout.job("p", ID);
  const v = JSON.parse(await Deno.readTextFile(file));
  for (const datumLog of [{ count: -1, lines: 6, bytes: 10 }, null, { count: 5, lines: 6 }]) {
    await Deno.writeTextFile(file, JSON.stringify({ ...v, datumLog }));
    await assert.rejects(jobs.load(ID), IntegrityError, JSON.stringify(datumLog));
  }
  // Its datums both in it and in a log.
  await Deno.writeTextFile(file, JSON.stringify({ ...v, datums: [] }));
  await assert.rejects(jobs.load(ID), IntegrityError);
});

Deno.test("a process killed while it saves a job leaves the job as one of its saves left it", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const loop = new URL("./_save_loop.ts", import.meta.url).pathname;
  for (let run = 0; run < 4; run++) {
    await Deno.remove(store.layout.jobDir("p"), { recursive: true }).catch(() => {});
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        `--allow-read=${dir.path}`,
        `--allow-write=${dir.path}`,
        loop,
        store.root,
        ID,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // Killed once it has saved, at a different moment each run.
    const reader = child.stdout.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 20 + run * 60));
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel();
    await child.status;
    const job = await jobs.load(ID);
    const k = job.restart;
    assert.ok(k >= 1, `run ${run}: a save was read`);
    // Save k gave datum i the tries of the last save j ≤ k with j % DATUMS === i.
    job.datums.forEach((d, i) => {
      const last = k - ((k - i) % DATUMS + DATUMS) % DATUMS;
      assert.equal(d.tries, last > 0 ? last : 0, `run ${run}, save ${k}, datum ${i}`);
    });
  }
});

Deno.test("a job that ends with a log of many overwritten lines gets a log of its datums alone; a crash before its record is written leaves it damaged, not wrong", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = datumsJob(ID, 400);
  await jobs.save(job);
  for (const d of job.datums) d.state = "SUCCESS";
  await jobs.save(job);
  assert.equal(logLines(store).length, 801);
  const file = store.layout.job("p", ID);
  const running = await Deno.readTextFile(file);
  job.state = "SUCCESS";
  // A save that is not durable (not the job's last) leaves the log as it is.
  await jobs.save(job);
  assert.equal(logLines(store).length, 801);
  await jobs.save(job, { durable: true });
  assert.equal(logLines(store).length, 401, "a reset and every datum, once");
  assert.deepEqual(await jobs.load(ID), plain(job));
  // Saved again, it appends to the new log.
  job.datums[3]!.message = "again";
  await jobs.save(job);
  assert.equal(logLines(store).length, 402);
  assert.deepEqual(await jobs.load(ID), plain(job));
  // The new log renamed, the record not yet: the record before names other lines.
  await Deno.writeTextFile(file, running);
  await assert.rejects(jobs.load(ID), IntegrityError);
});

Deno.test("a datum log that is a link is damaged: neither read nor written through", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = datumsJob(ID, 5);
  await jobs.save(job);
  const log = store.layout.datumLog("p", ID);
  const outside = `${dir.path}/outside.datums`;
  await Deno.rename(log, outside);
  await Deno.symlink(outside, log);
  const before = await Deno.readFile(outside);
  const file = store.layout.job("p", ID);
  const named = (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.data.file, file);
    assert.match(err.message, new RegExp(`remove "${file}" and "${log}"`));
    return true;
  };
  await assert.rejects(jobs.load(ID), named);
  // A save by a process that did not write the job (a resume, `restart datum`).
  const fresh = new JobStore(await Store.open(store.root));
  await assert.rejects(fresh.save({ ...job, datums: job.datums.slice() }), named);
  job.datums[1]!.tries = 2;
  await assert.rejects(jobs.save(job), named);
  assert.deepEqual(await Deno.readFile(outside), before, "the file linked to is untouched");
  assert.ok((await Deno.lstat(log)).isSymlink);
});

Deno.test("a datum log that is a folder is damaged, and the command its message gives removes it", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  await jobs.save(record("p", OTHER));
  await jobs.save(datumsJob(ID, 5));
  const log = store.layout.datumLog("p", ID);
  await Deno.remove(log);
  await Deno.mkdir(log);
  await Deno.writeTextFile(`${log}/note's.txt`, "x");
  const file = store.layout.job("p", ID);
  let message = "";
  await assert.rejects(jobs.load(ID), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    message = err.message;
    return true;
  });
  assert.match(message, new RegExp(`remove "${file}" and "${log}"`));
  const command = /\((?:[^:]*): (rm -rf -- [^)]*)\)/.exec(message)?.[1];
  assert.ok(command, message);
  const rm = await new Deno.Command("sh", { args: ["-c", command] }).output();
  assert.equal(rm.code, 0, new TextDecoder().decode(rm.stderr));
  await assert.rejects(Deno.lstat(log), Deno.errors.NotFound);
  await assert.rejects(Deno.lstat(file), Deno.errors.NotFound);
  assert.deepEqual((await jobs.scan()).jobs.map((j) => j.id), [OTHER]);
  assert.deepEqual((await jobs.scan()).damaged, []);
});

Deno.test("a datum log of another job renamed in is damaged, even of the same length", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  // Two jobs of the same datums: their logs are the same length, line for line.
  await jobs.save({ ...datumsJob(OTHER, 5), state: "SUCCESS" });
  await jobs.save({ ...datumsJob(ID, 5), state: "SUCCESS" });
  const log = store.layout.datumLog("p", ID);
  await Deno.copyFile(store.layout.datumLog("p", OTHER), log);
  await assert.rejects(jobs.load(ID), IntegrityError);
  const scan = await jobs.scan();
  assert.deepEqual(scan.jobs.map((j) => j.id), [OTHER]);
  assert.deepEqual(scan.damaged.map((d) => d.id), [ID]);
});

Deno.test("a datum log whose resets name no job (as the log's first version wrote them) still reads", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = { ...datumsJob(ID, 5), state: "SUCCESS" as const };
  await jobs.save(job);
  const log = store.layout.datumLog("p", ID);
  const text = await Deno.readTextFile(log);
  const legacy = text.replace(`{"count":5,"job":"${ID}"}`, '{"count":5}');
  assert.notEqual(legacy, text);
  await Deno.writeTextFile(log, legacy);
  const file = store.layout.job("p", ID);
  const rec = JSON.parse(await Deno.readTextFile(file));
  rec.datumLog.bytes = new TextEncoder().encode(legacy).length;
  await Deno.writeTextFile(file, JSON.stringify(rec));
  assert.deepEqual(await jobs.load(ID), plain(job));
});

Deno.test("a datum log line whose record is not a datum's is damaged", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  await jobs.save({ ...datumsJob(ID, 5), state: "SUCCESS" });
  const log = store.layout.datumLog("p", ID);
  const file = store.layout.job("p", ID);
  const good = await Deno.readTextFile(log);
  const rec = JSON.parse(await Deno.readTextFile(file));
  for (const bad of ["{}", '{"id":"x","hash":"y","state":"SUCCESS"}', '{"inputs":7}']) {
    const text = `${good}[3,${bad}]\n`;
    await Deno.writeTextFile(log, text);
    const datumLog = {
      ...rec.datumLog,
      lines: rec.datumLog.lines + 1,
      bytes: new TextEncoder().encode(text).length,
    };
    await Deno.writeTextFile(file, JSON.stringify({ ...rec, datumLog }));
    await assert.rejects(jobs.load(ID), IntegrityError, bad);
  }
});

Deno.test("a record of the single form holding a datum that is not a datum's record is damaged", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job: JobRecord = { ...datumsJob(ID, 3), state: "SUCCESS" };
  await jobs.save(job);
  const text = [...recordPieces(job)].join("");
  const v = JSON.parse(text);
  v.datums[1] = {};
  await Deno.writeTextFile(store.layout.job("p", ID), JSON.stringify(v));
  await assert.rejects(jobs.load(ID), IntegrityError);
});

Deno.test("a job read while its log is rewritten and its record replaced reads whole, not damaged", async () => {
  await using dir = await tempDir();
  const { store, jobs } = await open(dir.path);
  const job = datumsJob(ID, 40);
  await jobs.save(job);
  for (const d of job.datums) d.state = "SUCCESS";
  await jobs.save(job);
  job.state = "SUCCESS";
  const log = store.layout.datumLog("p", ID);
  const reader = new JobStore(await Store.open(store.root));
  // The reader has read the record naming the long log; the job's last save (its log
  // rewritten, then its record) lands before it opens the log.
  const realOpen = Deno.open;
  let saved = false;
  Deno.open = (async (path: string | URL, options?: Deno.OpenOptions) => {
    if (!saved && path === log && !options?.write) {
      saved = true;
      await jobs.save(job, { durable: true });
    }
    return await realOpen(path, options);
  }) as typeof Deno.open;
  try {
    assert.deepEqual(await reader.load(ID), plain(job));
  } finally {
    Deno.open = realOpen;
  }
  assert.ok(saved, "the save landed between the reads");
  assert.equal(logLines(store).length, 41, "the log was rewritten");
});
