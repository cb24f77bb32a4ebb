/**
 * The pipeline DAG as lines of text segments: each line follows the longest chain of
 * pipelines into a pipeline nothing reads, from the repo that feeds it, with the sink's
 * other inputs after a `←` — `training → model → inference ← attributes`. Pure.
 */
import type { PipelineNode } from "./view.ts";

/** One piece of a DAG line. */
export interface DagSegment {
  readonly text: string;
  readonly role: "repo" | "pipeline" | "cron" | "arrow";
  /** The repo or pipeline it names. */
  readonly name?: string;
}

/** A cron input with its schedule, keyed `pipeline/input`. */
export interface CronEntry {
  readonly key: string;
  readonly pipeline: string;
  readonly input: string;
  readonly repo: string;
  readonly spec: string;
  readonly start?: string;
}

const ARROW: DagSegment = { text: " → ", role: "arrow" };
const BACK: DagSegment = { text: " ← ", role: "arrow" };
const PLUS: DagSegment = { text: " + ", role: "arrow" };

/** The DAG of `pipelines` as lines of segments. */
export function dagLines(pipelines: readonly PipelineNode[]): DagSegment[][] {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  const readers = new Set(pipelines.flatMap((p) => p.inputs.map((i) => i.repo)));
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const p = byName.get(name);
    if (!p || seen.has(name)) return 0;
    seen.add(name);
    let d = 0;
    for (const i of p.inputs) if (byName.has(i.repo)) d = Math.max(d, 1 + depthOf(i.repo, seen));
    depth.set(name, d);
    return d;
  };
  const source = (i: PipelineNode["inputs"][number]): DagSegment =>
    i.kind === "cron"
      ? { text: `cron ${i.repo}`, role: "cron", name: i.repo }
      : byName.has(i.repo)
      ? { text: i.repo, role: "pipeline", name: i.repo }
      : { text: i.repo, role: "repo", name: i.repo };
  const shown = new Set<string>();
  const lines: DagSegment[][] = [];
  const chainLine = (sink: PipelineNode) => {
    const chain: PipelineNode[] = [sink];
    for (let p = sink;;) {
      const up = p.inputs
        .filter((i) => byName.has(i.repo) && !chain.includes(byName.get(i.repo)!))
        .sort((a, b) => depthOf(b.repo, new Set()) - depthOf(a.repo, new Set()))[0];
      if (!up) break;
      p = byName.get(up.repo)!;
      chain.unshift(p);
    }
    const head = chain[0]!;
    const segs: DagSegment[] = [];
    const heads = head.inputs.filter((i) => !byName.has(i.repo));
    heads.forEach((i, n) => {
      if (n > 0) segs.push(PLUS);
      segs.push(source(i));
    });
    for (const p of chain) {
      if (segs.length) segs.push(ARROW);
      segs.push({ text: p.name, role: "pipeline", name: p.name });
      shown.add(p.name);
    }
    const onChain = new Set(chain.map((p) => p.name));
    const others = sink === head
      ? []
      : sink.inputs.filter((i) => !onChain.has(i.repo) && !heads.includes(i));
    others.forEach((i, n) => {
      segs.push(n === 0 ? BACK : PLUS);
      segs.push(source(i));
    });
    lines.push(segs);
    // Inputs of pipelines in the middle of the chain that the line does not show.
    for (const p of chain.slice(1, -1)) {
      const extra = p.inputs.filter((i) => !onChain.has(i.repo));
      if (extra.length === 0) continue;
      const segs2: DagSegment[] = [];
      extra.forEach((i, n) => {
        if (n > 0) segs2.push(PLUS);
        segs2.push(source(i));
      });
      segs2.push(ARROW, { text: p.name, role: "pipeline", name: p.name });
      lines.push(segs2);
    }
  };
  const sinks = pipelines.filter((p) => !readers.has(p.name));
  for (const s of sinks) chainLine(s);
  for (const p of pipelines) if (!shown.has(p.name)) chainLine(p);
  return lines;
}

/** Every cron input of `pipelines`. */
export function cronEntries(pipelines: readonly PipelineNode[]): CronEntry[] {
  const out: CronEntry[] = [];
  for (const p of pipelines) {
    for (const i of p.inputs) {
      if (i.kind !== "cron") continue;
      out.push({
        key: `${p.name}/${i.name}`,
        pipeline: p.name,
        input: i.name,
        repo: i.repo,
        spec: i.spec ?? "",
        ...(i.start ? { start: i.start } : {}),
      });
    }
  }
  return out;
}
