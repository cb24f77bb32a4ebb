/**
 * Stage code snapshots: at `create pipeline` and `update pipeline` the stage's module graph
 * is checked (every local module inside the stage's folder, every remote one an `npm:`
 * package) and bundled offline into one self-contained file. Jobs run that bundle, never
 * the working copy, and its hash is part of every datum hash and of provenance.
 *
 * The bundle is canonical: it depends on the stage's code and the npm packages it inlines,
 * not on where the checkout, the Deno cache or tusk itself are. `deno bundle` names each
 * module it inlines (in a comment, and as the key of its module wrapper) by its path
 * relative to the working folder; the stage's folder is that folder, and the npm cache's
 * paths are rewritten as `npm:/<name>@<version>/<file>`.
 */
import { relative } from "node:path";
import { SpecError, type SpecRule } from "./spec/spec_error.ts";

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

/** May a stage import this module: a local file, an npm package or a Node built-in? */
function importable(m: InfoModule): boolean {
  return m.specifier.startsWith("file://") || m.kind === "npm" ||
    m.specifier.startsWith("npm:") || m.kind === "node" || m.specifier.startsWith("node:");
}

/** Is `path` inside the folder `dir` (not `dir` itself)? Both are real paths. */
function isInside(path: string, dir: string): boolean {
  return path.startsWith(dir === "/" ? "/" : `${dir}/`) && path !== dir;
}

/** The folder part of a path: everything before its last `/`. */
function folderOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** The real path of the npm cache the `deno` run in `cwd` uses, if it has one. */
async function npmCacheOf(cwd: string): Promise<string | undefined> {
  const info = await run(["info", "--json"], cwd);
  if (info.code !== 0) return undefined;
  const { npmCache } = JSON.parse(info.stdout) as { npmCache?: string };
  if (typeof npmCache !== "string") return undefined;
  return await Deno.realPath(npmCache).catch(() => undefined);
}

/** A path segment in a bundle's module names: no separator, quote or white space. */
const SEGMENT = String.raw`[^/\s"'` + "`" + String.raw`]+`;

/**
 * `bundle` with every module name under the npm cache made canonical. `deno bundle` names
 * each module it inlines by its path relative to its working folder, in a `// <path>`
 * comment and as the key of the module's wrapper (`__commonJS({ "<path>"() { … } })`, a
 * name only); for npm modules that path runs through the cache (`<cache>/<registry
 * host>/<name>/<version>/<file>`, `cache` being `npmCache` relative to the working folder).
 * Each becomes `npm:/<name>@<version>/<file>`. Pure.
 */
export function canonicalBundle(bundle: string, npmCache: string): string {
  const escaped = npmCache.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const path = new RegExp(
    String.raw`(?<![^\s"'` + "`" +
      String.raw`])${escaped}/${SEGMENT}/((?:@${SEGMENT}/)?${SEGMENT})/(${SEGMENT})/`,
    "g",
  );
  return bundle.replace(path, (_, name: string, version: string) => `npm:/${name}@${version}/`);
}

/** Options of `snapshotStage()`. */
export interface SnapshotStageOptions {
  /** The spec file, named in errors. */
  readonly specFile?: string;
  /** JSON path of the script in the spec, named in errors (default `transform.cmd[2]`). */
  readonly field?: string;
  /**
   * The folder the stage's folder must be inside once links are resolved: the spec file's
   * folder (default: no such check).
   */
  readonly root?: string;
}

/**
 * Check and bundle the stage script at `stagePath`. Its folder, links resolved, must be
 * inside `options.root`, and the script and every local module it imports must be inside its
 * folder, links resolved: a link cannot carry code from elsewhere into the snapshot.
 */
export async function snapshotStage(
  stagePath: string,
  options: SnapshotStageOptions = {},
): Promise<StageSnapshot> {
  const field = options.field ?? "transform.cmd[2]";
  const fail = (rule: SpecRule, message: string): never => {
    const where = message.includes(field) ? message : `${message} (${field})`;
    throw new SpecError(where, {
      rule,
      path: field,
      ...(options.specFile ? { file: options.specFile } : {}),
    });
  };
  let real: string;
  let dir: string;
  try {
    dir = await Deno.realPath(folderOf(stagePath));
    real = await Deno.realPath(stagePath);
    const st = await Deno.stat(real);
    if (!st.isFile) fail("MISSING_STAGE", `Stage script "${stagePath}" at ${field} is not a file`);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    return fail("MISSING_STAGE", `Cannot find stage script "${stagePath}" named at ${field}`);
  }
  if (options.root !== undefined) {
    const root = await Deno.realPath(options.root).catch(() => options.root!);
    if (dir !== root && !isInside(dir, root)) {
      fail(
        "STAGE_OUTSIDE",
        `Stage script "${stagePath}" at ${field} is reached through a link to "${dir}", outside the spec's folder "${root}": stage code must live beside the spec`,
      );
    }
  }
  if (!isInside(real, dir)) {
    fail(
      "STAGE_OUTSIDE",
      `Stage script "${stagePath}" at ${field} is a link to "${real}", outside its folder "${dir}": stage code must live beside the stage`,
    );
  }
  const [info, npmCache] = await Promise.all([
    run(["info", "--json", real], dir),
    npmCacheOf(dir),
  ]);
  if (info.code !== 0) {
    fail(
      "BAD_STAGE",
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
    if (m.error) {
      // A module of a kind stages may not import breaks that rule, whatever else is wrong.
      fail(
        importable(m) ? "BAD_STAGE" : "BAD_IMPORT",
        `Stage "${stagePath}" cannot load "${m.specifier}": ${m.error}`,
      );
    }
    if (m.specifier.startsWith("file://")) {
      const local = decodeURIComponent(new URL(m.specifier).pathname);
      let realLocal = local;
      try {
        realLocal = await Deno.realPath(local);
      } catch { /* reported by deno info already */ }
      if (!isInside(realLocal, dir)) {
        fail(
          "STAGE_OUTSIDE",
          `Stage "${stagePath}" imports "${local}", which is outside its folder "${dir}": stage code must live beside the stage`,
        );
      }
      modules.push(realLocal.slice(dir.length + 1));
    } else if (!importable(m)) {
      fail(
        "BAD_IMPORT",
        `Stage "${stagePath}" imports "${m.specifier}": stages may import local files and npm: packages only`,
      );
    }
  }
  const tmp = await Deno.makeTempDir({ prefix: "tusk-bundle-" });
  try {
    const out = `${tmp}/stage.js`;
    const b = await run(["bundle", "--quiet", "--platform", "deno", "-o", out, real], dir);
    if (b.code !== 0) fail("BAD_STAGE", `Cannot bundle stage "${stagePath}": ${b.stderr.trim()}`);
    const text = await Deno.readTextFile(out);
    const canonical = npmCache === undefined
      ? text
      : canonicalBundle(text, relative(dir, npmCache));
    return {
      bundle: new TextEncoder().encode(canonical),
      modules: [...new Set(modules)].sort(),
      packages: Object.keys(graph.npmPackages ?? {}).sort(),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
