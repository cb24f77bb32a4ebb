/**
 * The remote benchmarks, run by `deno task bench`, each against a baseline measured in the
 * same run:
 *
 * - `push` of a 1 GiB repo (large files and many small ones) to a new folder remote, against
 *   `cp -r` of the same files and `sync` (target ≤ 1.5×);
 * - `push` with nothing new on a store of 100,000 objects: its time to a folder remote
 *   (target < 1 s, start-up included) and its requests to an S3 remote (target < 20,
 *   counted by the test S3 server on 127.0.0.1 as well as by tusk);
 * - `clone` of the iris tutorial's store (both pipelines run: repos, models, predictions,
 *   jobs and logs) from a folder remote, against `git clone` of a git repo of the same files
 *   over `file://` (target ≤ 1.0×).
 *
 * tusk runs as users run it: `deno run` with the `tusk` task's permissions (the network
 * included) and V8 flags.
 */
import { MAIN, ROOT } from "../_helpers.ts";
import { NET_PERMS, startS3 } from "../remote/_remote.ts";
import {
  freshGit,
  gitOptions,
  scratchFolder,
  writeRandomFile,
  writeSmallFiles,
} from "./_fixtures.ts";
import { alternate, measure, type Measured, syncAll, taskV8Flags, timeTusk } from "./_process.ts";
import {
  formatMiB,
  formatMs,
  loadAverage,
  median,
  Report,
  runSections,
  spread,
} from "./_report.ts";

const MIB = 1 << 20;
const PUSH_RUNS = 3;
const NOOP_RUNS = 5;
const CLONE_RUNS = 5;

/** Run `tusk args…` on `store` as the `tusk` task does (with --allow-net), timed. */
async function tusk(
  store: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Measured> {
  return await measure(
    Deno.execPath(),
    ["run", "--quiet", ...NET_PERMS, ...taskV8Flags("tusk"), MAIN, ...args],
    { cwd: ROOT, env: { NO_COLOR: "1", TUSK_STORE: store, ...env } },
  );
}

/** `tusk … --json`, parsed. */
async function tuskJson<T>(
  store: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ value: T; ms: number }> {
  const m = await tusk(store, [...args, "--json"], env);
  return { value: JSON.parse(new TextDecoder().decode(m.stdout)) as T, ms: m.ms };
}

/** Files and bytes under `dir`. */
async function sizeOf(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      const s = await sizeOf(p);
      files += s.files;
      bytes += s.bytes;
    } else if (e.isFile) {
      files++;
      bytes += (await Deno.stat(p)).size;
    }
  }
  return { files, bytes };
}

/** 1. push of a 1 GiB repo to a new folder remote, against cp -r + sync of the same files. */
async function benchPush(root: string, report: Report): Promise<void> {
  const src = `${root}/src`;
  await Deno.mkdir(`${src}/large`, { recursive: true });
  // 7 × 128 MiB of large files and 128 MiB in 2,048 files of 64 KiB: 1 GiB in all.
  for (let i = 0; i < 7; i++) await writeRandomFile(`${src}/large/part${i}.bin`, 128 * MIB);
  await Deno.mkdir(`${src}/small`);
  for (let i = 0; i < 2048; i++) await writeRandomFile(`${src}/small/f${i}.bin`, 64 << 10);
  const size = await sizeOf(src);
  const store = `${root}/.tusk`;
  await tusk(store, ["init"]);
  await tusk(store, ["create", "repo", "data"]);
  await tusk(store, ["put", "file", "-r", "data@master:/", "-f", src]);
  const { tusk: runs, baseline } = await alternate(
    PUSH_RUNS,
    async (i) => {
      const remote = `${root}/remote-${i}`;
      try {
        await tusk(store, ["remote", "add", `r${i}`, remote]);
        await syncAll();
        const m = await tusk(store, ["push", `r${i}`]);
        const sent = await sizeOf(remote);
        if (sent.bytes < size.bytes) throw new Error(`push sent ${sent.bytes} of ${size.bytes}`);
        return m;
      } finally {
        await Deno.remove(remote, { recursive: true }).catch(() => {});
      }
    },
    async (i) => {
      const dest = `${root}/copy-${i}`;
      try {
        await syncAll();
        // The whole machine's sync, flushed just before: one flush of what cp wrote, which
        // costs less than a sync of each file (the push syncs each file and pack it writes).
        return await measure("sh", ["-c", 'cp -r "$1" "$2" && sync', "sh", src, dest]);
      } finally {
        await Deno.remove(dest, { recursive: true }).catch(() => {});
      }
    },
  );
  const t = runs.map((m) => m.ms);
  const b = baseline.map((m) => m.ms);
  report.add({
    name: `push of a 1 GiB repo (${size.files.toLocaleString("en")} files) to a folder`,
    runs: `median of ${PUSH_RUNS}`,
    unit: "ms",
    tusk: median(t),
    baseline: { label: "cp -r + sync", value: median(b) },
    target: { of: "ratio", op: "≤", limit: 1.5 },
  });
  const peaks = runs.map((m) => m.peakKiB).filter((k): k is number => k !== null);
  report.detail(
    `ranges: push ${spread(t)}, cp -r + sync ${spread(b)}; push peak RSS ${
      peaks.length ? formatMiB(Math.max(...peaks)) : "?"
    }`,
  );
}

/** 2. push with nothing new, on a store of 100,000 objects: folder time, S3 requests. */
async function benchNoopPush(root: string, report: Report): Promise<void> {
  const src = `${root}/src`;
  await writeSmallFiles(
    src,
    Array.from({ length: 100 }, (_, i) => ({ folder: `d${i}`, count: 999 })),
  );
  const store = `${root}/.tusk`;
  await tusk(store, ["init"]);
  await tusk(store, ["create", "repo", "data"]);
  await tusk(store, ["put", "file", "-r", "data@master:/", "-f", src]);
  await Deno.remove(src, { recursive: true });
  const objects = await tuskJson<{ objects: number }>(store, ["verify"]).catch(() => null);
  await using s3 = await startS3(`${root}/s3`);
  await tusk(store, ["remote", "add", "folder", `${root}/remote`]);
  await tusk(store, ["remote", "add", "s3", `s3://${s3.bucket}/bench`]);
  type Push = { upToDate: boolean; objects: number; requests: number };
  const first = await tuskJson<Push>(store, ["push", "folder"]);
  const firstS3 = await tuskJson<Push>(store, ["push", "s3"], s3.env);
  report.detail(
    `store of ${
      objects ? `${objects.value.objects.toLocaleString("en")} objects` : "100,000 files"
    }; first push: folder ${first.value.objects.toLocaleString("en")} objects in ${
      formatMs(first.ms)
    }, S3 ${firstS3.value.objects.toLocaleString("en")} objects in ${
      formatMs(firstS3.ms)
    } (${firstS3.value.requests} requests)`,
  );
  const folder: number[] = [];
  const s3Times: number[] = [];
  const requests: number[] = [];
  const seen: number[] = [];
  for (let i = 0; i < NOOP_RUNS; i++) {
    const f = await tuskJson<Push>(store, ["push", "folder"]);
    if (!f.value.upToDate) throw new Error("a push with nothing new sent something");
    folder.push(f.ms);
    const before = await s3.requests();
    const s = await tuskJson<Push>(store, ["push", "s3"], s3.env);
    if (!s.value.upToDate) throw new Error("a push with nothing new sent something");
    s3Times.push(s.ms);
    requests.push(s.value.requests);
    seen.push((await s3.requests()) - before);
  }
  const start = await tusk(store, ["remote", "list"]);
  report.add({
    name: "push with nothing new, 100,000 objects, folder",
    runs: `median of ${NOOP_RUNS}`,
    unit: "ms",
    tusk: median(folder),
    baseline: { label: "remote list (start-up)", value: start.ms },
    target: { of: "value", op: "<", limit: 1000 },
  });
  report.detail(`range ${spread(folder)}`);
  report.add({
    name: "push with nothing new, 100,000 objects, S3",
    runs: `most of ${NOOP_RUNS}`,
    unit: "requests",
    tusk: Math.max(...requests),
    target: { of: "value", op: "<", limit: 20 },
  });
  report.detail(
    `requests the server saw: ${seen.join(", ")}; time ${spread(s3Times)} (median ${
      formatMs(median(s3Times))
    }, the AWS SDK's loading included)`,
  );
}

/** 3. clone of the iris store, against git clone of a git repo of the same files. */
async function benchClone(root: string, report: Report): Promise<void> {
  const store = `${root}/iris/.tusk`;
  const iris = `${ROOT}/pipelines/iris`;
  const data = `${ROOT}/data`;
  for (
    const args of [
      ["init"],
      ["create", "repo", "training"],
      ["create", "repo", "attributes"],
      ["put", "file", "training@master:/iris.csv", "-f", `${data}/iris.csv`],
      ["create", "pipeline", "-f", `${iris}/train.json`],
      ["create", "pipeline", "-f", `${iris}/infer.json`],
      ["put", "file", "-r", "attributes@master:/", "-f", `${data}/test`],
    ]
  ) await timeTusk(store, args);
  await tusk(store, ["remote", "add", "origin", `${root}/remote`]);
  await tusk(store, ["push", "origin"]);
  // The git repo: every repo's files at its head, one folder per repo, in one commit.
  const work = `${root}/work`;
  await Deno.mkdir(work);
  const repos = await tuskJson<{ name: string }[]>(store, ["list", "repo"]);
  for (const r of repos.value) {
    await tusk(store, ["get", "file", "-r", `${r.name}@master:/`, "-o", `${work}/${r.name}`]);
  }
  const files = await sizeOf(work);
  const git = `${root}/git`;
  await freshGit(git, work);
  await measure("git", ["add", "-A"], gitOptions(git, work));
  await measure("git", ["commit", "-q", "-m", "iris"], gitOptions(git, work));
  const gitEnv = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  const { tusk: runs, baseline } = await alternate(
    CLONE_RUNS,
    async (i) => {
      const dest = `${root}/clone-${i}`;
      try {
        return await tusk("", ["clone", `${root}/remote`, dest]);
      } finally {
        await Deno.remove(dest, { recursive: true }).catch(() => {});
      }
    },
    async (i) => {
      const dest = `${root}/git-clone-${i}`;
      try {
        return await measure("git", ["clone", "-q", `file://${git}`, dest], { env: gitEnv });
      } finally {
        await Deno.remove(dest, { recursive: true }).catch(() => {});
      }
    },
  );
  const local: number[] = [];
  for (let i = 0; i < CLONE_RUNS; i++) {
    const dest = `${root}/git-local-${i}`;
    local.push((await measure("git", ["clone", "-q", git, dest], { env: gitEnv })).ms);
    await Deno.remove(dest, { recursive: true });
  }
  // Deno's floor: an empty module run as tusk runs (the task's flags, the checkout's config).
  const empty = `${root}/empty.ts`;
  await Deno.writeTextFile(empty, "");
  const floor: number[] = [];
  for (let i = 0; i < CLONE_RUNS; i++) {
    floor.push(
      (await measure(Deno.execPath(), [
        "run",
        "--quiet",
        ...NET_PERMS,
        ...taskV8Flags("tusk"),
        "--config",
        `${ROOT}/deno.json`,
        empty,
      ])).ms,
    );
  }
  const t = runs.map((m) => m.ms);
  const b = baseline.map((m) => m.ms);
  report.add({
    name: `clone of the iris store (${files.files} files in ${repos.value.length} repos)`,
    runs: `median of ${CLONE_RUNS}`,
    unit: "ms",
    tusk: median(t),
    baseline: { label: "git clone file://", value: median(b) },
    target: { of: "ratio", op: "≤", limit: 1.0 },
  });
  report.detail(
    `ranges: tusk clone ${spread(t)}, git clone file:// ${spread(b)}; git clone of the ` +
      `local path (hard links) ${spread(local)}; Deno's floor (an empty module run with the ` +
      `tusk task's flags and config) ${spread(floor)}`,
  );
}

/** Run the remote benchmarks and print the report; 1 when one could not run. */
export async function main(): Promise<number> {
  const started = performance.now();
  const report = new Report();
  let broken: number;
  {
    using scratch = await scratchFolder("/tmp", "tusk-bench-remote-");
    console.log(
      `tusk remote benchmarks: deno ${Deno.version.deno}, scratch ${scratch.path}, ` +
        `load average ${await loadAverage()}`,
    );
    const only = new Set(Deno.args);
    const sections: [string, string, (d: string) => Promise<void>][] = [
      ["push", "9. push of a 1 GiB repo to a folder", (d) => benchPush(d, report)],
      ["noop", "10. push with nothing new, 100,000 objects", (d) => benchNoopPush(d, report)],
      ["clone", "11. clone of the iris store", (d) => benchClone(d, report)],
    ];
    broken = await runSections(
      scratch.path,
      sections.filter(([k]) => only.size === 0 || only.has(k)).map(([, t, f]) => [t, f]),
    );
  }
  await report.printSummary(broken, started);
  console.log(`(${formatMs(performance.now() - started)} in all)`);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
