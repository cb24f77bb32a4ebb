/**
 * Section 1 of the store scale benchmark (issue 15, benchmark 1): open + `put file` of one
 * file on a store whose ledger holds 1k, 10k and 100k commits, beside `git add` + `git commit`
 * of one file in a git repo of as many commits (made by `git fast-import`).
 *
 * A single `put file` takes ~0.1 s, most of it Deno's start-up and two fsyncs, and on a loaded
 * machine one run can take 3× another. So the three stores are built first and kept, and the
 * runs interleave: each round visits every size (the order rotated from round to round, tusk
 * and git alternating which goes first), so a busy moment falls on all sizes alike. Each point
 * is the median of the rounds, in wall time and in CPU time (user + system, to the
 * millisecond): CPU time does not count the time spent waiting for a core or the disk, which
 * is what moves with the load.
 */
import { commitsStore, REPO } from "./_scale_fixtures.ts";
import { freshGit, gitOptions } from "./_fixtures.ts";
import { measure, measureCpu, measureTuskCpu, syncAll } from "./_process.ts";
import { formatMs, loadAverage, median, spread } from "./_report.ts";
import type { Point } from "./scale_store_bench.ts";

/** The ledger sizes of the curve. */
export const COMMIT_SIZES = [1_000, 10_000, 100_000];

/** Rounds of interleaved runs: 21, or `text` (the value of `SCALE_COMMITS_ROUNDS`). */
export function roundsFrom(text: string | undefined): number {
  if (text === undefined) return 21;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`SCALE_COMMITS_ROUNDS must be a whole number ≥ 1, not "${text}"`);
  }
  return n;
}

/** A git repo at `git` over `tree` holding `n` commits of one small file, by fast-import. */
async function gitWithCommits(git: string, tree: string, n: number): Promise<void> {
  await Deno.mkdir(tree, { recursive: true });
  await freshGit(git, tree);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const data = `run ${i}\n`;
    lines.push(
      "commit refs/heads/master",
      `committer Bench <bench@example.invalid> ${1_700_000_000 + i} +0000`,
      "data 0",
      "M 644 inline metrics.txt",
      `data ${data.length}`,
      data,
    );
  }
  const child = new Deno.Command("git", {
    args: ["fast-import", "--quiet"],
    ...gitOptions(git, tree),
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await w.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`git fast-import failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  await measure("git", ["checkout", "-q", "-f", "master"], gitOptions(git, tree));
}

/** One size's fixtures and what its runs measured. */
interface Sized {
  readonly n: number;
  readonly store: string;
  readonly git: string;
  readonly tree: string;
  readonly wall: number[];
  readonly cpu: number[];
  readonly gitWall: number[];
  readonly gitCpu: number[];
}

/** `items` turned left by `by` places: round r visits the sizes starting from the r-th. */
export function rotated<T>(items: readonly T[], by: number): T[] {
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** One `put file` into `s`'s store and one `git add` + `commit` into its git repo. */
async function oneRound(s: Sized, src: string, round: number, tuskFirst: boolean): Promise<void> {
  const content = `one more file, round ${round}, ${crypto.randomUUID()}\n`;
  const tusk = async () => {
    await Deno.writeTextFile(`${src}/new.txt`, content);
    await syncAll();
    const m = await measureTuskCpu(s.store, [
      "put",
      "file",
      `${REPO}@master:/new.txt`,
      "-f",
      `${src}/new.txt`,
    ]);
    s.wall.push(m.ms);
    s.cpu.push(m.cpuMs!);
  };
  const git = async () => {
    await Deno.writeTextFile(`${s.tree}/new.txt`, content);
    await syncAll();
    const m = await measureCpu(
      "sh",
      ["-c", "git add new.txt && git commit -q -m y"],
      gitOptions(s.git, s.tree),
    );
    s.gitWall.push(m.ms);
    s.gitCpu.push(m.cpuMs!);
  };
  if (tuskFirst) {
    await tusk();
    await git();
  } else {
    await git();
    await tusk();
  }
}

/** Build the stores, run the interleaved rounds and add two curves' points (wall and CPU). */
export async function benchCommits(root: string, add: (p: Point) => void): Promise<void> {
  const n = roundsFrom(Deno.env.get("SCALE_COMMITS_ROUNDS"));
  console.log(`\n1. commits: put file of one file (load average ${await loadAverage()})`);
  const src = `${root}/src`;
  await Deno.mkdir(src, { recursive: true });
  const sized: Sized[] = [];
  try {
    for (const size of COMMIT_SIZES) {
      const t0 = performance.now();
      const store = await commitsStore(`${root}/commits-${size}`, size);
      const git = `${root}/git-${size}`;
      const tree = `${root}/tree-${size}`;
      await gitWithCommits(git, tree, size);
      sized.push({ n: size, store, git, tree, wall: [], cpu: [], gitWall: [], gitCpu: [] });
      console.log(
        `  (fixtures of ${size.toLocaleString("en")} commits built in ${
          formatMs(performance.now() - t0)
        })`,
      );
    }
    const before = await loadAverage();
    for (let r = 0; r < n; r++) {
      for (const s of rotated(sized, r)) await oneRound(s, src, r, r % 2 === 0);
    }
    const runs = `median of ${n} interleaved, load ${before} → ${await loadAverage()}`;
    for (const s of sized) {
      add({
        curve: "commits: put file",
        size: s.n,
        value: median(s.wall),
        unit: "ms",
        baseline: { label: "git add+commit", value: median(s.gitWall) },
        runs: `${runs}, ${spread(s.wall)}`,
      });
    }
    for (const s of sized) {
      add({
        curve: "commits: put file, CPU time",
        size: s.n,
        value: median(s.cpu),
        unit: "ms",
        baseline: { label: "git add+commit", value: median(s.gitCpu) },
        runs: `${runs}, ${spread(s.cpu)}`,
      });
    }
  } finally {
    for (const s of sized) {
      for (const p of [`${root}/commits-${s.n}`, s.git, s.tree]) {
        await Deno.remove(p, { recursive: true });
      }
    }
  }
}
