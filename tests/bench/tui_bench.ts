/**
 * Dashboard benchmark (prints, asserts nothing): with 10,000 jobs in the event journal,
 * the time to the first frame and to a keypress redraw, in-process (ink-testing-library)
 * and in a real terminal (`tusk up` attached to the journal in a 120 × 36 tmux pane); then
 * the CPU and RSS of that `tusk up` while 100 events/s are appended for 5 s. Baselines
 * measured in the same run: the same dashboard on a 2-job journal, and the runtime floor, a
 * bare Ink + React app (`baseline/ink_hello.ts`) started with the same Deno flags in the
 * same pane, whose first frame and RSS the dashboard's are printed as ratios of.
 *
 *   deno run --allow-read --allow-write --allow-env --allow-run tests/bench/tui_bench.ts
 *
 * `tusk up` and the floor run with the `--v8-flags=…` of deno.json's `up` task and the
 * environment it sets (glibc's malloc settings), as users start it (`deno task up` or the
 * installed `tusk`); `TUI_BENCH_DENO_FLAGS` (split at spaces) and `TUI_BENCH_ENV` (`A=1 B=2`)
 * replace them, to measure a candidate.
 *
 * Targets: all 10,000 jobs shown < 1 s, keypress < 50 ms, < 20 % of one core and < 80 MiB.
 */
import type { TuskEvent } from "../../lib/mod.ts";
import { tempStore } from "../_helpers.ts";
import { history, jobEvents, jobId } from "../tui/_events.ts";
import { KEY, plain } from "../tui/_render.ts";
import { Pane, tuskUpLine } from "../tui/_tmux.ts";
import { startBareInk } from "./_ink.ts";
import { envWords, taskEnv, taskV8Flags } from "./_process.ts";

// React's production build, as `tusk up` selects it (see main.ts), before React loads.
if (!Deno.env.get("NODE_ENV")) Deno.env.set("NODE_ENV", "production");
const { createElement } = await import("react");
const { render } = await import("ink-testing-library");
const { App } = await import("../../tui/app.tsx");
const { journalFeed } = await import("../../tui/feed.ts");

const JOBS = 10_000;
const DENO_FLAGS = Deno.env.get("TUI_BENCH_DENO_FLAGS")?.split(" ").filter(Boolean) ??
  taskV8Flags("up");
/** The environment both run with: the `up` task's, or `TUI_BENCH_ENV` (`A=1 B=2`). */
const UP_ENV = envWords(Deno.env.get("TUI_BENCH_ENV")) ?? taskEnv("up");
const NEWEST = jobId(JOBS).slice(0, 12);
const SECOND = jobId(JOBS - 1).slice(0, 12);

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function p95(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? NaN;
}

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function writeJournal(path: string, events: readonly TuskEvent[]): Promise<number> {
  const text = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
  await Deno.writeTextFile(path, text);
  return text.length;
}

/** Read a /proc file through `cat` (Deno reads /proc only with --allow-all). */
async function proc(path: string): Promise<string> {
  const r = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
    .output();
  return new TextDecoder().decode(r.stdout);
}

async function clockTicks(): Promise<number> {
  const r = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(r.stdout).trim()) || 100;
}

/** utime + stime of a process, in clock ticks. */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await proc(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** A `Vm…` line of /proc/<pid>/status in KiB: VmRSS now, VmHWM the peak so far. */
async function vmKiB(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(await proc(`/proc/${pid}/status`));
  return m ? Number(m[1]) : NaN;
}

/** CPU share of one core and peak RSS of `pid` over `ms`, while `during` runs. */
async function sample(
  pid: number,
  ms: number,
  during: (signal: AbortSignal) => Promise<void> = async () => {},
): Promise<{ cpu: number; peakKiB: number }> {
  const hz = await clockTicks();
  const ac = new AbortController();
  const load = during(ac.signal);
  const t0 = performance.now();
  const c0 = await cpuTicks(pid);
  let peak = 0;
  while (performance.now() - t0 < ms) {
    peak = Math.max(peak, await vmKiB(pid, "VmRSS"));
    await new Promise((r) => setTimeout(r, 250));
  }
  const c1 = await cpuTicks(pid);
  const wall = (performance.now() - t0) / 1000;
  ac.abort();
  await load;
  return { cpu: (c1 - c0) / hz / wall, peakKiB: peak };
}

async function inProcess(
  journal: string,
  ids: { newest: string; second: string },
): Promise<{ firstMs: number; fullMs: number; keyMs: number[] }> {
  const t0 = performance.now();
  const r = render(createElement(App, {
    loadSnapshot: () =>
      Promise.resolve({ takenAt: new Date().toISOString(), repos: [], pipelines: [] }),
    subscribe: journalFeed(journal),
    controls: { rerun: () => Promise.resolve(""), stop: () => Promise.resolve() },
    store: "/bench/.tusk",
    sandbox: "deno",
    theme: { color: true },
    size: { width: 120, height: 36 },
  }));
  // The harness's stdout has no `rows`: without them Ink asks `tput` (a process) every frame.
  (r.stdout as unknown as { rows: number }).rows = 36;
  try {
    await waitFor(() => (r.lastFrame() ?? "").includes("q quit"));
    const firstMs = performance.now() - t0;
    await waitFor(() => plain(r.lastFrame()).includes(`▸ ${ids.newest}`));
    const fullMs = performance.now() - t0;
    const keyMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const [key, target] = i % 2 === 0 ? [KEY.down, ids.second] : [KEY.up, ids.newest];
      const k0 = performance.now();
      r.stdin.write(key);
      await waitFor(() => plain(r.lastFrame()).includes(`▸ ${target}`));
      keyMs.push(performance.now() - k0);
    }
    return { firstMs, fullMs, keyMs };
  } finally {
    r.unmount();
    r.cleanup();
  }
}

/** Append a job's events at `perSecond` until aborted (one event per tick). */
async function feedJournal(path: string, perSecond: number, signal: AbortSignal): Promise<number> {
  const f = await Deno.open(path, { append: true });
  const enc = new TextEncoder();
  let n = JOBS + 1;
  let queue: TuskEvent[] = [];
  let written = 0;
  const t0 = performance.now();
  try {
    while (!signal.aborted) {
      const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
      const lines: string[] = [];
      while (written < due) {
        if (queue.length === 0) {
          queue = jobEvents(n, { t0: Date.now() - Date.UTC(2026, 0, 1), datums: 4 });
          n++;
        }
        lines.push(JSON.stringify({ ...queue.shift()!, time: new Date().toISOString() }));
        written++;
      }
      if (lines.length) await f.write(enc.encode(lines.join("\n") + "\n"));
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    f.close();
  }
  return written;
}

/** What `tusk up` did in a real terminal. */
interface TerminalRun {
  readonly firstMs: number;
  readonly fullMs: number;
  readonly keyMs: readonly number[];
  readonly tmuxMs: readonly number[];
  readonly idle: { cpu: number; peakKiB: number };
  readonly loaded: { cpu: number; peakKiB: number };
  readonly events: number;
  /** Peak RSS over the whole run (VmHWM), the replay included. */
  readonly hwmKiB: number;
  readonly code: number;
}

async function terminal(
  store: string,
  journal: string,
  ids: { newest: string; second: string },
): Promise<TerminalRun> {
  // Hold the lease as a "daemon" so `tusk up` attaches to the journal instead of serving.
  await Deno.writeTextFile(
    `${store}/scheduler.json`,
    JSON.stringify({ pid: Deno.pid, start: "", mode: "daemon", since: new Date().toISOString() }),
  );
  await using pane = await Pane.open(120, 36);
  const t0 = performance.now();
  await pane.run(tuskUpLine(store, { denoFlags: DENO_FLAGS, env: UP_ENV }));
  await pane.waitFor((s) => s.includes("q quit"), "the first frame", 30_000);
  const firstMs = performance.now() - t0;
  await pane.waitFor((s) => s.includes(`▸ ${ids.newest}`), "the newest job", 30_000);
  const fullMs = performance.now() - t0;
  // What driving tmux itself costs: a key the dashboard ignores, then one capture.
  const tmuxMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const k0 = performance.now();
    await pane.keys("x");
    await pane.capture();
    tmuxMs.push(performance.now() - k0);
  }
  const keyMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const [key, target] = i % 2 === 0 ? ["Down", ids.second] : ["Up", ids.newest];
    await new Promise((r) => setTimeout(r, 200));
    const k0 = performance.now();
    await pane.keys(key);
    while (!(await pane.capture()).includes(`▸ ${target}`)) {
      if (performance.now() - k0 > 5000) throw new Error("No redraw after a key");
    }
    keyMs.push(performance.now() - k0);
  }
  const pid = await pane.childPid();
  if (!pid) throw new Error("Cannot find the pid of tusk up");
  const idle = await sample(pid, 3000);
  let events = 0;
  const loaded = await sample(pid, 5000, async (signal) => {
    events = await feedJournal(journal, 100, signal);
  });
  const hwmKiB = await vmKiB(pid, "VmHWM");
  await pane.keys("q");
  const code = await pane.exitStatus();
  return { firstMs, fullMs, keyMs, tmuxMs, idle, loaded, events, hwmKiB, code };
}

/** The runtime floor: a bare Ink + React app in the same pane, with the same flags and environment. */
async function floor(): Promise<{ firstMs: number; idle: { peakKiB: number }; code: number }> {
  await using pane = await Pane.open(120, 36);
  const { firstMs, pid } = await startBareInk(pane, DENO_FLAGS, UP_ENV);
  const idle = await sample(pid, 3000);
  await pane.keys("q");
  return { firstMs, idle, code: await pane.exitStatus() };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");

await using s = await tempStore();
const journal = `${s.store}/events.jsonl`;
const bytes = await writeJournal(journal, history(JOBS, { datums: 2 }));
console.log(`journal: ${JOBS} jobs, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
if (DENO_FLAGS.length) console.log(`extra deno flags: ${DENO_FLAGS.join(" ")}`);
const envText = Object.entries(UP_ENV).map(([k, v]) => `${k}=${v}`).join(" ");
if (envText) console.log(`environment of both apps: ${envText}`);

await using small = await tempStore();
await writeJournal(`${small.store}/events.jsonl`, history(2, { datums: 2 }));
const base = await inProcess(`${small.store}/events.jsonl`, {
  newest: jobId(2).slice(0, 12),
  second: jobId(1).slice(0, 12),
});
const big = await inProcess(journal, { newest: NEWEST, second: SECOND });
console.log("\nin-process (ink-testing-library, 120 × 36):");
console.log(`  first frame              ${ms(big.firstMs)}  (2-job journal: ${ms(base.firstMs)})`);
console.log(
  `  frame with all 10,000    ${ms(big.fullMs)}  (2-job journal: ${ms(base.fullMs)}, ratio ${
    (big.fullMs / base.fullMs).toFixed(1)
  }×)  target < 1000 ms: ${verdict(big.fullMs < 1000)}`,
);
console.log(
  `  keypress redraw          median ${ms(median(big.keyMs))}, p95 ${ms(p95(big.keyMs))}  ` +
    `(2-job: median ${ms(median(base.keyMs))})  target < 50 ms: ${verdict(p95(big.keyMs) < 50)}`,
);

const hello = await floor();
const t = await terminal(s.store, journal, { newest: NEWEST, second: SECOND });
const t2 = await terminal(small.store, `${small.store}/events.jsonl`, {
  newest: jobId(2).slice(0, 12),
  second: jobId(1).slice(0, 12),
});
const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
console.log("\nreal terminal (tusk up attached to the journal, tmux 120 × 36):");
console.log(
  `  first frame (incl. Deno start)   ${ms(t.firstMs)}  (2-job journal: ${ms(t2.firstMs)})`,
);
console.log(
  `  frame with all 10,000 jobs       ${ms(t.fullMs)}  (2-job journal: ${ms(t2.fullMs)})  ` +
    `target < 1000 ms: ${verdict(t.fullMs < 1000)}`,
);
const redraw = median(t.keyMs) - median(t.tmuxMs);
console.log(
  `  keypress to redraw seen          median ${ms(median(t.keyMs))}, p95 ${ms(p95(t.keyMs))} ` +
    `(tmux send-keys + capture alone: ${ms(median(t.tmuxMs))})`,
);
console.log(
  `  keypress redraw, tmux removed    ~${ms(redraw)}  target < 50 ms: ${verdict(redraw < 50)}`,
);
console.log(
  `  idle                             CPU ${pct(t.idle.cpu)}, RSS ${mib(t.idle.peakKiB)}  ` +
    `(2-job journal: CPU ${pct(t2.idle.cpu)}, RSS ${mib(t2.idle.peakKiB)})`,
);
console.log(
  `  ${t.events} events in 5 s (${(t.events / 5).toFixed(0)}/s)      CPU ${pct(t.loaded.cpu)} ` +
    `(target < 20 %: ${verdict(t.loaded.cpu < 0.2)}), peak RSS ${mib(t.loaded.peakKiB)} ` +
    `(target < 80 MiB: ${verdict(t.loaded.peakKiB < 80 * 1024)})`,
);
console.log(
  `  same load, 2-job journal         CPU ${pct(t2.loaded.cpu)}, peak RSS ${
    mib(t2.loaded.peakKiB)
  }`,
);
console.log(
  `  peak RSS of the whole run        ${mib(t.hwmKiB)} (VmHWM, replay included; 2-job journal: ${
    mib(t2.hwmKiB)
  })`,
);
console.log(`  exit status after q              ${t.code} (2-job journal: ${t2.code})`);

console.log("\nruntime floor (bare Ink + React app, same Deno flags, same pane):");
console.log(
  `  first frame                      ${ms(hello.firstMs)}  tusk up: first frame ${
    x(t.firstMs, hello.firstMs)
  }, all 10,000 jobs ${x(t.fullMs, hello.firstMs)}`,
);
console.log(
  `  RSS, idle                        ${mib(hello.idle.peakKiB)}  tusk up: idle ${
    x(t.idle.peakKiB, hello.idle.peakKiB)
  }, at 100 events/s ${x(t.loaded.peakKiB, hello.idle.peakKiB)} (2-job journal: ${
    x(t2.loaded.peakKiB, hello.idle.peakKiB)
  })`,
);
console.log(
  `  the 80 MiB target is ${x(80 * 1024, hello.idle.peakKiB)} of this floor; ` +
    `exit status after q ${hello.code}`,
);
