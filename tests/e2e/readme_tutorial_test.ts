/**
 * README's tutorial, followed literally, then its continuation in docs/tutorial.md: every `$`
 * line of the transcripts in README's "The tutorial, with tusk" (the tutorial, the record, bad
 * data and the revert) and of docs/tutorial.md (a commit's record, parameters and metrics) runs
 * as printed, in order, from the top of a fresh copy of the checkout's tutorial files, and
 * prints what the page shows once ids, times and the store's folder are set aside (and the
 * checkout is /home/you/tusk). A transcript whose output is abbreviated (with "…") must appear
 * in the real output line by line, in order.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "../_helpers.ts";
import { assertWellFormedXml } from "../_xml.ts";
import { tusk } from "./_cli.ts";

interface Step {
  /** The line as README prints it, without "$ ". */
  readonly command: string;
  /** The output README shows after it. */
  readonly output: string[];
}

/** The text transcripts of a page's section `heading` (the whole page without one), as lines. */
function transcriptLines(page: string, heading?: string): string[] {
  let section = page;
  if (heading !== undefined) {
    const start = page.indexOf(`\n${heading}\n`);
    assert.ok(start >= 0, `the page has a section "${heading}"`);
    const end = page.indexOf("\n## ", start + 1);
    section = page.slice(start, end < 0 ? undefined : end);
  }
  return [...section.matchAll(/^```text\n([\s\S]*?)^```$/gm)].flatMap((b) => b[1]!.split("\n"));
}

/** The `$` lines of `lines` (text transcripts), with their output. */
function transcript(lines: readonly string[]): Step[] {
  const steps: Step[] = [];
  for (const line of lines) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), output: [] });
    else steps.at(-1)?.output.push(line);
  }
  for (const s of steps) while (s.output.at(-1) === "") s.output.pop();
  return steps;
}

/** The tutorial's transcripts: README's section, then docs/tutorial.md, which goes on from it. */
async function tutorialLines(): Promise<string[]> {
  return [
    ...transcriptLines(await Deno.readTextFile(`${ROOT}/README.md`), "## The tutorial, with tusk"),
    ...transcriptLines(await Deno.readTextFile(`${ROOT}/docs/tutorial.md`)),
  ];
}

/**
 * The spec and code hashes `lines` show, each with the pipeline named last before it
 * (`Pipeline: inference`, `pipeline model, job …, code …`, `made by: pipeline model`).
 */
function shownHashes(
  lines: readonly string[],
): { pipeline: string; kind: "spec" | "code"; hash: string; abbreviated: boolean }[] {
  const out = [];
  let pipeline = "";
  for (const line of lines) {
    const tokens = /\bpipeline:? ([a-z][\w-]*)|\b(code|spec):? ([0-9a-f]{8,})(…)?/gi;
    for (const m of line.matchAll(tokens)) {
      if (m[1] !== undefined) pipeline = m[1];
      else {
        const kind = m[2]!.toLowerCase() as "spec" | "code";
        out.push({ pipeline, kind, hash: m[3]!, abbreviated: m[4] !== undefined });
      }
    }
  }
  return out;
}

/** Words of a command line that needs no shell: anything a shell would read differently fails. */
function words(command: string): string[] {
  assert.doesNotMatch(command, /["'\\$|&;<>()`*?#~]/, `"${command}" needs no shell to run`);
  return command.split(/ +/);
}

/**
 * Output with ids, times, ages, durations and the store's folder replaced by placeholders.
 * Spec and code hashes are kept: every reader gets the same ones.
 */
function normalise(lines: readonly string[]): string[] {
  return lines.map((l) =>
    l.replace(
      /[0-9a-f]{8,}…?/g,
      (id, at: number, line: string) =>
        /\b(?:code|spec):? $/i.test(line.slice(0, at)) ? id : "<id>",
    )
      .replace(/(Less than a second|\d+ (second|minute|hour|day)s?)( ago)?/g, "<time>")
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>")
      .replace(/^(Initialised an empty tusk store in ).*\/\.tusk$/, "$1<store>")
      .replace(/(\S) {2,}/g, "$1  ")
      .trimEnd()
  );
}

/** True when `wanted` appears in `lines` in order, other lines between allowed. */
function inOrder(wanted: readonly string[], lines: readonly string[]): boolean {
  let i = 0;
  for (const l of lines) if (i < wanted.length && l === wanted[i]) i++;
  return i === wanted.length;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("README's tutorial, bad data and revert, and its continuation in docs/tutorial.md run as printed and print what they show", async () => {
  const steps = transcript(await tutorialLines());
  assert.ok(steps.some((s) => s.command.startsWith("tusk revert")), "the revert is there");
  assert.ok(steps.some((s) => s.command.startsWith("tusk metrics diff")), "the metrics are there");
  await using dir = await tempDir();
  const checkout = `${dir.path}/tusk`;
  for (const f of ["deno.json", "deno.lock"]) {
    await Deno.mkdir(checkout, { recursive: true });
    await Deno.copyFile(`${ROOT}/${f}`, `${checkout}/${f}`);
  }
  for (const d of ["data", "pipelines"]) await copyTree(`${ROOT}/${d}`, `${checkout}/${d}`);

  let cwd = checkout;
  for (const { command, output } of steps) {
    const [program, ...args] = words(command);
    if (program === "cd") {
      assert.equal(args.length, 1, command);
      cwd = new URL(args[0]!, `file://${cwd}/`).pathname.replace(/\/$/, "");
      assert.ok(cwd.startsWith(checkout), `"${command}" stays in the checkout`);
      await Deno.stat(cwd);
      assert.deepEqual(output, [], `"${command}" prints nothing`);
      continue;
    }
    assert.equal(program, "tusk", `the tutorial's "${command}" is a tusk command`);
    const r = await tusk(args, { cwd, initCwd: cwd });
    assert.equal(r.code, 0, `"${command}" in ${cwd.slice(dir.path.length)}:\n${r.stderr}`);
    // The tutorial shows the checkout at /home/you/tusk, as a reader's might be.
    const printed = r.stdout.trimEnd().replaceAll(checkout, "/home/you/tusk");
    const got = normalise(printed === "" ? [] : printed.split("\n"));
    const shown = normalise(output);
    if (output.some((l) => l.includes("…"))) {
      const abbreviated = shown.filter((l) => l !== "…");
      assert.ok(inOrder(abbreviated, got), `"${command}" prints\n${got.join("\n")}`);
    } else assert.deepEqual(got, shown, `"${command}" prints what the tutorial shows`);
  }
});

Deno.test("data/corrupted/iris.csv is iris.csv with the setosa and virginica labels swapped", async () => {
  const rows = async (path: string) =>
    (await Deno.readTextFile(`${ROOT}/data/${path}`)).split("\n").filter((l) => l !== "")
      .map((l) => l.split(","));
  const good = await rows("iris.csv");
  const bad = await rows("corrupted/iris.csv");
  const swap: Record<string, string> = {
    "Iris-setosa": "Iris-virginica",
    "Iris-virginica": "Iris-setosa",
    "Iris-versicolor": "Iris-versicolor",
  };
  assert.equal(good.length, 150);
  assert.deepEqual(bad, good.map((r) => [...r.slice(0, 4), swap[r[4]!]!]));
});

Deno.test("README's tutorial and docs/tutorial.md show the spec and code hashes the iris pipelines have today", async () => {
  const readme = shownHashes(
    transcriptLines(await Deno.readTextFile(`${ROOT}/README.md`), "## The tutorial, with tusk"),
  );
  for (const p of ["model", "inference"]) {
    assert.ok(readme.some((h) => h.pipeline === p && h.kind === "code"), `README: code of ${p}`);
  }
  const shown = shownHashes(await tutorialLines());
  for (const p of ["model", "inference"]) {
    assert.ok(shown.some((h) => h.pipeline === p && h.kind === "code"), `a code hash of ${p}`);
  }
  await using dir = await tempDir();
  const o = { store: `${dir.path}/.tusk` };
  await tusk(["init"], o);
  for (const repo of ["training", "attributes"]) await tusk(["create", "repo", repo], o);
  const actual = new Map<string, { spec: string; code: string }>();
  for (const spec of ["train.json", "infer.json"]) {
    const r = await tusk(["create", "pipeline", "--no-wait", "-f", `pipelines/iris/${spec}`], o);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const p of ["model", "inference"]) {
    const r = await tusk(["inspect", "pipeline", p, "--json"], o);
    assert.equal(r.code, 0, r.stderr);
    const { specHash, codeHash } = JSON.parse(r.stdout) as { specHash: string; codeHash: string };
    actual.set(p, { spec: specHash, code: codeHash });
  }
  for (const h of shown) {
    const want = actual.get(h.pipeline)?.[h.kind];
    assert.ok(want, `README shows a ${h.kind} hash of "${h.pipeline}", a pipeline it creates`);
    if (h.abbreviated) assert.ok(want.startsWith(h.hash), `${h.pipeline} ${h.kind} ${h.hash}…`);
    else assert.equal(h.hash, want, `README's ${h.kind} hash of ${h.pipeline}`);
  }
});

Deno.test("README's picture, docs/model-metrics.svg, is a tusk plots SVG of the tutorial's models", async () => {
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  assert.match(readme, /!\[[^\]]+\]\(docs\/model-metrics\.svg\)/);
  const svg = await Deno.readTextFile(`${ROOT}/docs/model-metrics.svg`);
  assert.equal(assertWellFormedXml(svg)[0], "svg");
  const texts = [...svg.matchAll(/>([^<]+)</g)].map((m) => m[1]!);
  assert.ok(texts.includes("cv.accuracy over 8 commits"), "the metric over the 8 model commits");
  for (const label of ["C=0.01", "model=lda", "0.92", "0.98"]) {
    assert.ok(texts.includes(label), `it shows ${label}`);
  }
  // The plots step of the story, in docs/tutorial.md beside the same picture, says it drew it.
  const story = await Deno.readTextFile(`${ROOT}/docs/tutorial.md`);
  assert.match(story, /!\[[^\]]+\]\(model-metrics\.svg\)/);
  assert.match(story, /^Wrote \S+\/model\.svg: cv\.accuracy over 8 commits, and the confusion/m);
});
