/**
 * Inputs of the benchmarks: a large random file, folders of many small files with unique
 * content (so nothing dedupes), scratch git repos, and a fresh tusk store per run. Every
 * path lives under the run's scratch folder (`scratchFolder()`), removed at the end.
 */
import {
  alternate,
  type CommandOptions,
  measure,
  type Measured,
  measureTusk,
  syncAll,
} from "./_process.ts";

/** Write `size` bytes of fresh randomness to `path`. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const chunk = new Uint8Array(16 << 20);
  const f = await Deno.open(path, { write: true, createNew: true });
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      for (let off = 0; off < n; off += 65536) {
        crypto.getRandomValues(chunk.subarray(off, Math.min(off + 65536, n)));
      }
      let written = 0;
      while (written < n) written += await f.write(chunk.subarray(written, n));
      left -= n;
    }
  } finally {
    f.close();
  }
}

/** A folder of a layout: `count` files directly inside `folder` ("" for the top). */
export interface FolderSpec {
  readonly folder: string;
  readonly count: number;
  /** File name prefix (default "f"). */
  readonly prefix?: string;
}

/** A small deterministic generator, so every run builds the same files. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.;\n";

/**
 * Write many small files (20–200 bytes of text, each unique) under `dir` with
 * `Deno.writeFile`, following `layout`. Returns how many files and bytes it wrote.
 */
export async function writeSmallFiles(
  dir: string,
  layout: readonly FolderSpec[],
  options: { seed?: number } = {},
): Promise<{ files: number; bytes: number }> {
  const rand = mulberry32(options.seed ?? 1);
  const enc = new TextEncoder();
  const jobs: { path: string; data: Uint8Array }[] = [];
  let serial = 0;
  for (const spec of layout) {
    const folder = spec.folder ? `${dir}/${spec.folder}` : dir;
    await Deno.mkdir(folder, { recursive: true });
    const width = String(spec.count - 1).length;
    for (let i = 0; i < spec.count; i++) {
      const head = `${serial++}:`;
      const size = 20 + Math.floor(rand() * 181);
      let text = head;
      while (text.length < size) text += ALPHABET[Math.floor(rand() * ALPHABET.length)];
      jobs.push({
        path: `${folder}/${spec.prefix ?? "f"}${String(i).padStart(width, "0")}.txt`,
        data: enc.encode(text),
      });
    }
  }
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await Deno.writeFile(job.path, job.data, { createNew: true });
      bytes += job.data.length;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { files: jobs.length, bytes };
}

/** A fresh store at `store` holding an empty repo `repo` (set-up, not measured). */
export async function freshStore(store: string, repo: string): Promise<void> {
  await measureTusk(store, ["init"]);
  await measureTusk(store, ["create", "repo", repo]);
}

/** Environment that points git at a repo kept apart from its work tree. */
export function gitEnv(gitDir: string, workTree: string): Record<string, string> {
  return {
    GIT_DIR: gitDir,
    GIT_WORK_TREE: workTree,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  };
}

/** Options that run a command as git in `workTree` with its repo in `gitDir`. */
export function gitOptions(gitDir: string, workTree: string): CommandOptions {
  return { cwd: workTree, env: gitEnv(gitDir, workTree) };
}

/**
 * A fresh git repo at `gitDir` over `workTree`, with a local identity and automatic gc off
 * (so a detached background gc cannot run into the next measurement).
 */
export async function freshGit(gitDir: string, workTree: string): Promise<void> {
  const opts = gitOptions(gitDir, workTree);
  await measure("git", ["init", "-q"], opts);
  const config: Record<string, string> = {
    "user.name": "Bench",
    "user.email": "bench@example.invalid",
    "gc.auto": "0",
    "maintenance.auto": "false",
    "commit.gpgSign": "false",
  };
  for (const [key, value] of Object.entries(config)) {
    await measure("git", ["config", key, value], opts);
  }
}

/** The scratch folder of one benchmark run; `using` it removes it at the end. */
export interface ScratchFolder extends Disposable {
  readonly path: string;
}

/**
 * A fresh scratch folder `<dir>/<prefix>…`, removed when disposed and on Ctrl-C (which then
 * exits 130): `using scratch = await scratchFolder("/tmp", "tusk-bench-")`.
 */
export async function scratchFolder(dir: string, prefix: string): Promise<ScratchFolder> {
  const path = await Deno.makeTempDir({ dir, prefix });
  const remove = () => {
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Already gone.
    }
  };
  const onInterrupt = () => {
    remove();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  return {
    path,
    [Symbol.dispose]() {
      remove();
      Deno.removeSignalListener("SIGINT", onInterrupt);
    },
  };
}

/**
 * Put one new small file (new content each run) into `store` and into the git repo `git`
 * over `tree`, both already holding the same files; `scratch` holds tusk's source copy. The
 * two alternate, `runs` times each.
 */
export async function oneMoreFile(
  store: string,
  git: string,
  tree: string,
  scratch: string,
  options: { repo: string; runs: number },
): Promise<{ tusk: Measured[]; baseline: Measured[] }> {
  await Deno.mkdir(scratch, { recursive: true });
  const content = (i: number) => `one more file, run ${i}, ${crypto.randomUUID()}\n`;
  return await alternate(
    options.runs,
    async (i) => {
      await Deno.writeTextFile(`${scratch}/new.txt`, content(i));
      await syncAll();
      return await measureTusk(store, [
        "put",
        "file",
        `${options.repo}@master:/new.txt`,
        "-f",
        `${scratch}/new.txt`,
      ]);
    },
    async (i) => {
      await Deno.writeTextFile(`${tree}/new.txt`, content(i));
      await syncAll();
      return await measure(
        "sh",
        ["-c", "git add new.txt && git commit -q -m y"],
        gitOptions(git, tree),
      );
    },
  );
}

/** `job`, checked to have succeeded with the expected datum counts; a clear error otherwise. */
export function checkedJob<
  J extends {
    id: string;
    state: string;
    reason?: string | null | undefined;
    progress: { processed: number; skipped: number };
  },
>(job: J | undefined, expect: { processed: number; skipped: number }): J {
  if (!job) throw new Error("No job ran");
  const p = job.progress;
  if (job.state !== "SUCCESS" || p.processed !== expect.processed || p.skipped !== expect.skipped) {
    throw new Error(
      `Job ${job.id} ended ${job.state} (${job.reason ?? ""}) with ${p.processed} processed and ` +
        `${p.skipped} skipped, expected ${expect.processed} and ${expect.skipped}`,
    );
  }
  return job;
}
