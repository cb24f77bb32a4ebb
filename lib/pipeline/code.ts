/**
 * Stage code snapshots: at `create pipeline` and `update pipeline` the stage's module graph
 * is checked (every local module inside the stage's folder, every remote one an `npm:`
 * package) and bundled offline into one self-contained file. Jobs run that bundle, never
 * the working copy, and its hash is part of every datum hash and of provenance.
 */
import { SpecError } from "./spec.ts";

/** A checked, bundled stage. */
export interface StageSnapshot {
  readonly bundle: Uint8Array;
  /** Local modules in the graph, relative to the stage's folder. */
  readonly modules: readonly string[];
  /** npm packages in the graph (`name@version`). */
  readonly packages: readonly string[];
}

interface InfoModule {
  readonly specifier: string;
  readonly local?: string;
  readonly kind?: string;
  readonly error?: string;
}

async function run(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/**
 * Check and bundle the stage script at `stagePath`; `specPath` names the spec in errors and
 * `field` is the JSON path of the script (`transform.cmd[2]`).
 */
export async function snapshotStage(
  stagePath: string,
  options: { specFile?: string; field?: string } = {},
): Promise<StageSnapshot> {
  const field = options.field ?? "transform.cmd[2]";
  const fail = (message: string): never => {
    const where = message.includes(field) ? message : `${message} (${field})`;
    throw new SpecError(where, {
      path: field,
      ...(options.specFile ? { file: options.specFile } : {}),
    });
  };
  let real: string;
  try {
    real = await Deno.realPath(stagePath);
    const st = await Deno.stat(real);
    if (!st.isFile) fail(`Stage script "${stagePath}" at ${field} is not a file`);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    return fail(`Cannot find stage script "${stagePath}" named at ${field}`);
  }
  const dir = real.slice(0, real.lastIndexOf("/"));
  const info = await run(["info", "--json", real], dir);
  if (info.code !== 0) {
    fail(
      `Cannot read the module graph of stage "${stagePath}": ${
        info.stderr.trim().split("\n").pop()
      }`,
    );
  }
  const graph = JSON.parse(info.stdout) as {
    modules: InfoModule[];
    npmPackages?: Record<string, unknown>;
  };
  const modules: string[] = [];
  for (const m of graph.modules) {
    if (m.error) fail(`Stage "${stagePath}" cannot load "${m.specifier}": ${m.error}`);
    if (m.specifier.startsWith("file://")) {
      const local = decodeURIComponent(new URL(m.specifier).pathname);
      let realLocal = local;
      try {
        realLocal = await Deno.realPath(local);
      } catch { /* reported by deno info already */ }
      if (realLocal !== dir && !realLocal.startsWith(dir + "/")) {
        fail(
          `Stage "${stagePath}" imports "${local}", which is outside its folder "${dir}": stage code must live beside the stage`,
        );
      }
      modules.push(realLocal.slice(dir.length + 1));
    } else if (m.kind === "npm" || m.specifier.startsWith("npm:")) {
      continue;
    } else if (m.specifier.startsWith("node:") || m.kind === "node") {
      continue;
    } else {
      fail(
        `Stage "${stagePath}" imports "${m.specifier}": stages may import local files and npm: packages only`,
      );
    }
  }
  const tmp = await Deno.makeTempDir({ prefix: "tusk-bundle-" });
  try {
    const out = `${tmp}/stage.js`;
    const b = await run(["bundle", "--quiet", "--platform", "deno", "-o", out, real], dir);
    if (b.code !== 0) fail(`Cannot bundle stage "${stagePath}": ${b.stderr.trim()}`);
    const bundle = await Deno.readFile(out);
    return {
      bundle,
      modules: modules.sort(),
      packages: Object.keys(graph.npmPackages ?? {}).sort(),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
