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
 *
 * Deno runs on the stage with a configuration tusk writes, never one it finds: `--no-config`,
 * so no `deno.json` or `package.json` of the stage's folder or above takes effect (their
 * `links`, `patch`, `workspace` or `file:` dependencies could resolve a package name to
 * code anywhere on the disk, and `nodeModulesDir` would write into the folder);
 * the nearest `deno.json` gives only its import map and a copy of its lock, both in a
 * private folder. And it runs offline: the npm registry is unreachable to it, so a package
 * not in Deno's cache is refused by name, never fetched because a spec named it.
 */
import { SpecError, type SpecRule } from "./spec/spec_error.ts";

/** What snapshots use of `node:path` and `node:url`. */
interface NodePaths {
  readonly dirname: typeof import("node:path").dirname;
  readonly relative: typeof import("node:path").relative;
  readonly resolve: typeof import("node:path").resolve;
  readonly pathToFileURL: typeof import("node:url").pathToFileURL;
}

let nodePaths: Promise<NodePaths> | undefined;

/**
 * `node:path` and `node:url`, loaded when a stage is first snapshotted: importing them sets
 * up Deno's Node compatibility (tens of milliseconds), which every command that runs jobs
 * paid for when this module, which they load, imported them up front.
 */
function paths(): Promise<NodePaths> {
  // Specifiers in variables: Deno prepares a literal `import("node:…")` ahead of time, Node
  // compatibility included, in every process that merely could run it.
  const path = "node:path";
  const url = "node:url";
  return nodePaths ??= Promise.all([
    import(path) as Promise<typeof import("node:path")>,
    import(url) as Promise<typeof import("node:url")>,
  ]).then(([p, u]) => ({
    dirname: p.dirname,
    relative: p.relative,
    resolve: p.resolve,
    pathToFileURL: u.pathToFileURL,
  }));
}

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
  /** For an npm module: its package's id (`name@version`). */
  readonly npmPackage?: string;
  /** What it imports, each resolved or with the error of resolving it. */
  readonly dependencies?: readonly {
    readonly specifier: string;
    readonly code?: { readonly specifier?: string; readonly error?: string };
  }[];
}

/** A proxy no connection gets through (port 0 refuses at once): the network, switched off. */
const NOWHERE = "http://127.0.0.1:0";

/** Environment of every `deno` tusk runs on stage code: no colour, and no network. */
const OFFLINE: Readonly<Record<string, string>> = {
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
  NO_PROXY: "",
  no_proxy: "",
  ...Object.fromEntries(
    ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]
      .map((name) => [name, NOWHERE]),
  ),
};

async function run(
  args: string[],
  cwd: string,
  options: { online?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: options.online ? { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } : OFFLINE,
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** The line of Deno's stderr that says what went wrong: its `error:` line, not a stack frame. */
function errorLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const error = lines.find((l) => l.startsWith("error:"));
  return (error ?? lines[0] ?? "no message").replace(/^error:\s*/, "");
}

/** An error of Deno's about fetching its bundler, esbuild, from npm. */
const BUNDLER = /@esbuild\/|esbuild package/;

/** The npm package a "cannot fetch" error of Deno's names, if it is one. */
function uncachedPackage(message: string): string | undefined {
  return /Failed loading \S+ for package "([^"]+)"/.exec(message)?.[1] ??
    /npm package not found in cache: "([^"]+)"/.exec(message)?.[1];
}

/** What `deno info --json` says of a module graph. */
interface ModuleGraph {
  readonly modules: readonly InfoModule[];
  /** Every package of the lock, not only the graph's, by id (`name@version`). */
  readonly npmPackages?: Readonly<
    Record<string, { readonly localPath?: string; readonly dependencies?: readonly string[] }>
  >;
}

/** The npm packages the graph's modules use, with their dependencies, sorted. */
function npmClosure(graph: ModuleGraph): string[] {
  const seen = new Set<string>();
  const todo = graph.modules.flatMap((m) => m.npmPackage === undefined ? [] : [m.npmPackage]);
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    todo.push(...(graph.npmPackages?.[id]?.dependencies ?? []));
  }
  return [...seen].sort();
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
  const info = await run(["info", "--json", "--no-config"], cwd);
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

/** Is `value` a plain object? */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `text` parsed as JSON with comments and trailing commas, as Deno reads `deno.json` and
 * `deno.jsonc`. Throws SyntaxError.
 */
export function parseJsonc(text: string): unknown {
  /** `text` with each string copied as it is and everything else passed to `other`. */
  const pass = (input: string, other: (at: number) => [string, number]): string => {
    let out = "";
    for (let i = 0; i < input.length;) {
      if (input[i] === '"') {
        let j = i + 1;
        while (j < input.length && input[j] !== '"') j += input[j] === "\\" ? 2 : 1;
        out += input.slice(i, j + 1);
        i = j + 1;
      } else {
        const [kept, next] = other(i);
        out += kept;
        i = next;
      }
    }
    return out;
  };
  const uncommented = pass(text, (i) => {
    if (text.startsWith("//", i)) {
      const end = text.indexOf("\n", i);
      return [" ", end < 0 ? text.length : end];
    }
    if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      return [" ", end < 0 ? text.length : end + 2];
    }
    return [text[i]!, i + 1];
  });
  const plain = pass(uncommented, (i) => {
    // A comma before a closing bracket (past white space) is a trailing one.
    if (uncommented[i] !== ",") return [uncommented[i]!, i + 1];
    let j = i + 1;
    while (j < uncommented.length && /\s/.test(uncommented[j]!)) j++;
    return [uncommented[j] === "}" || uncommented[j] === "]" ? "" : ",", i + 1];
  });
  return JSON.parse(plain);
}

/** The `deno.json` (or `deno.jsonc`) Deno would take for code in `dir`: the nearest above. */
async function nearestConfig(dir: string): Promise<string | undefined> {
  const { dirname } = await paths();
  for (let d = dir;; d = dirname(d)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = `${d === "/" ? "" : d}/${name}`;
      const st = await Deno.stat(path).catch(() => undefined);
      if (st?.isFile) return path;
    }
    if (d === "/") return undefined;
  }
}

/** The deno.json fields that resolve a package name to local code anywhere on the disk. */
const LOCAL_PACKAGE_FIELDS = ["links", "patch"] as const;

/**
 * The flags that make `deno info` and `deno bundle` of code in `dir` resolve its imports as
 * the nearest `deno.json` says, with only what may not bring in outside code: its import map
 * (`imports` and `scopes`, or the `importMap` file), relative entries made absolute, written
 * to `tmp/import_map.json`, and a copy of its lock in `tmp/`. Deno reads no configuration
 * itself, writes no lock, and uses no `node_modules` folder.
 */
async function configFlags(
  dir: string,
  tmp: string,
  fail: (rule: SpecRule, message: string) => never,
): Promise<string[]> {
  const flags = ["--no-config", "--node-modules-dir=none"];
  const { dirname, pathToFileURL, resolve } = await paths();
  const file = await nearestConfig(dir);
  if (file === undefined) return [...flags, "--no-lock"];
  const read = async (path: string, what: string): Promise<Record<string, unknown>> => {
    let value: unknown;
    try {
      const st = await Deno.stat(path);
      if (!st.isFile) throw new Error("it is not a file");
      value = parseJsonc(await Deno.readTextFile(path));
    } catch (err) {
      fail("STAGE_CONFIG", `Cannot read ${what} "${path}": ${(err as Error).message}`);
    }
    if (!isRecord(value)) fail("STAGE_CONFIG", `Cannot read ${what} "${path}": not a JSON object`);
    return value;
  };
  const config = await read(file, "the stage's Deno configuration");
  for (const field of LOCAL_PACKAGE_FIELDS) {
    const v = config[field];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      fail(
        "STAGE_CONFIG",
        `"${file}" sets "${field}", which makes local packages of other folders importable: a stage's snapshot holds only its folder and npm packages from Deno's cache; import that code by a relative path from inside the stage's folder, or publish it as an npm package`,
      );
    }
  }

  // The import map: deno.json's own, or the file it names (Deno ignores that file when
  // deno.json has "imports" or "scopes").
  let map: Record<string, unknown> = config;
  let mapFile = file;
  if (
    config.imports === undefined && config.scopes === undefined &&
    typeof config.importMap === "string"
  ) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(config.importMap) && !config.importMap.startsWith("file:")) {
      fail(
        "STAGE_CONFIG",
        `"${file}" names the import map "${config.importMap}", which is not a local file`,
      );
    }
    mapFile = config.importMap.startsWith("file:")
      ? decodeURIComponent(new URL(config.importMap).pathname)
      : resolve(dirname(file), config.importMap);
    map = await read(mapFile, "the stage's import map");
  }
  const base = `${pathToFileURL(dirname(mapFile)).href}/`;
  const absolute = (specifier: string) =>
    /^(\.{1,2})?\//.test(specifier) ? new URL(specifier, base).href : specifier;
  const entries = (value: unknown, where: string): Record<string, string> => {
    if (value === undefined || value === null) return {};
    if (!isRecord(value) || Object.values(value).some((v) => typeof v !== "string")) {
      fail("STAGE_CONFIG", `Cannot read "${where}" of "${mapFile}": give an object of strings`);
    }
    return Object.fromEntries(
      Object.entries(value as Record<string, string>).map(([k, v]) => [absolute(k), absolute(v)]),
    );
  };
  const imports = entries(map.imports, "imports");
  const scopes: Record<string, Record<string, string>> = {};
  if (map.scopes !== undefined && map.scopes !== null) {
    if (!isRecord(map.scopes)) {
      fail("STAGE_CONFIG", `Cannot read "scopes" of "${mapFile}": give an object of objects`);
    }
    for (const [scope, inner] of Object.entries(map.scopes)) {
      scopes[absolute(scope)] = entries(inner, `scopes.${scope}`);
    }
  }
  await Deno.writeTextFile(`${tmp}/import_map.json`, JSON.stringify({ imports, scopes }));
  flags.push("--import-map", `${tmp}/import_map.json`);

  // The lock pins npm versions, so the same code bundles the same everywhere; Deno may add
  // to it, so it gets a copy.
  const lock = config.lock;
  const lockFile = lock === false ? undefined : resolve(
    dirname(file),
    typeof lock === "string"
      ? lock
      : isRecord(lock) && typeof lock.path === "string"
      ? lock.path
      : "deno.lock",
  );
  const st = lockFile === undefined ? undefined : await Deno.stat(lockFile).catch(() => undefined);
  if (lockFile === undefined || st === undefined) return [...flags, "--no-lock"];
  if (!st.isFile) fail("STAGE_CONFIG", `Cannot read the lock file "${lockFile}": not a file`);
  await Deno.copyFile(lockFile, `${tmp}/deno.lock`);
  return [...flags, `--lock=${tmp}/deno.lock`];
}

/**
 * The first of `sources` (a source map's paths, relative to the folder `base`) whose real
 * path is in none of the folders `roots` (real paths), or undefined.
 */
export async function firstOutside(
  sources: readonly string[],
  base: string,
  roots: readonly string[],
): Promise<string | undefined> {
  const { resolve } = await paths();
  for (const source of sources) {
    const path = resolve(base, source);
    const at = await Deno.realPath(path).catch(() => path);
    if (!roots.some((root) => isInside(at, root))) return at;
  }
  return undefined;
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
 * folder, links resolved, and every npm package in Deno's npm cache: a link, a `deno.json` or
 * a `package.json` cannot carry code from elsewhere into the snapshot. Nothing is downloaded
 * for the stage (Deno's bundler itself aside, the first time) and nothing is written into its
 * folder.
 */
export async function snapshotStage(
  stagePath: string,
  options: SnapshotStageOptions = {},
): Promise<StageSnapshot> {
  const { dirname, relative } = await paths();
  const field = options.field ?? "transform.cmd[2]";
  const fail = (rule: SpecRule, message: string): never => {
    const where = message.includes(field) ? message : `${message} (${field})`;
    throw new SpecError(where, {
      rule,
      path: field,
      ...(options.specFile ? { file: options.specFile } : {}),
    });
  };
  const notCached = (name: string): never =>
    fail(
      "NOT_CACHED",
      `Stage "${stagePath}" imports npm package "${name}", which is not in Deno's cache: create pipeline bundles offline and downloads nothing; cache it first (e.g. "deno cache ${stagePath}" in the stage's folder), then try again`,
    );
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
  const tmp = await Deno.makeTempDir({ prefix: "tusk-bundle-" });
  try {
    const flags = await configFlags(dir, tmp, fail);
    const [info, npmCache] = await Promise.all([
      run(["info", "--json", ...flags, real], dir),
      npmCacheOf(tmp),
    ]);
    if (info.code !== 0) {
      const why = errorLine(info.stderr);
      const pkg = uncachedPackage(why);
      if (pkg !== undefined) notCached(pkg);
      fail("BAD_STAGE", `Cannot read the module graph of stage "${stagePath}": ${why}`);
    }
    const graph = JSON.parse(info.stdout) as ModuleGraph;
    const modules: string[] = [];
    for (const m of graph.modules) {
      if (m.error) {
        const pkg = uncachedPackage(m.error);
        if (pkg !== undefined) notCached(pkg);
        // A module of a kind stages may not import breaks that rule, whatever else is wrong.
        fail(
          importable(m) ? "BAD_STAGE" : "BAD_IMPORT",
          `Stage "${stagePath}" cannot load "${m.specifier}": ${m.error}`,
        );
      }
      for (const d of m.dependencies ?? []) {
        // Deno's resolver must resolve every import: the bundler, left to itself, would look
        // for a name it cannot in any node_modules folder up the tree.
        if (d.code?.error !== undefined) {
          fail(
            "BAD_STAGE",
            `Stage "${stagePath}" cannot load "${d.specifier}" (imported by "${m.specifier}"): ${d.code.error}`,
          );
        }
      }
      if (m.specifier.startsWith("file://")) {
        const local = decodeURIComponent(new URL(m.specifier).pathname);
        let realLocal = local;
        try {
          realLocal = await Deno.realPath(local);
        } catch { /* reported by deno info already */ }
        if (!isInside(realLocal, dir)) {
          const what = realLocal === local ? `"${local}"` : `"${local}", a link to "${realLocal}"`;
          fail(
            "STAGE_OUTSIDE",
            `Stage "${stagePath}" imports ${what}, which is outside its folder "${dir}": stage code must live beside the stage`,
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
    const packages = npmClosure(graph);
    if (packages.length > 0 && npmCache === undefined) {
      fail("BAD_STAGE", `Cannot find Deno's npm cache to check the npm packages of "${stagePath}"`);
    }
    for (const id of packages) {
      // npm packages come from Deno's cache alone: none is a folder elsewhere on the disk.
      const localPath = graph.npmPackages?.[id]?.localPath;
      const at = localPath === undefined
        ? undefined
        : await Deno.realPath(localPath).catch(() => undefined);
      if (at === undefined) return notCached(id);
      if (!isInside(at, npmCache!)) {
        fail(
          "STAGE_OUTSIDE",
          `Stage "${stagePath}" imports npm package "${id}" from "${at}", outside Deno's npm cache "${npmCache}": stage code must live beside the stage`,
        );
      }
    }
    const out = `${tmp}/bundle/stage.js`;
    // An external source map lists every file the bundler inlined and leaves the bundle as
    // it is without one.
    const bundleArgs = ["bundle", "--quiet", "--platform", "deno", "--sourcemap=external"]
      .concat(flags, ["-o", out, real]);
    let b = await run(bundleArgs, dir);
    if (b.code !== 0 && BUNDLER.test(errorLine(b.stderr))) {
      // Deno's bundler is an npm package Deno fetches the first time it bundles: that is
      // Deno's own tool, the same whatever the stage, so it may come from the registry.
      await fetchBundler(tmp);
      b = await run(bundleArgs, dir);
    }
    if (b.code !== 0) {
      const why = errorLine(b.stderr);
      if (BUNDLER.test(why)) {
        fail(
          "NOT_CACHED",
          `Cannot bundle stage "${stagePath}": Deno's bundler (esbuild) is not in Deno's cache and could not be fetched (${why}); run "deno bundle" once with network access, then try again`,
        );
      }
      const pkg = uncachedPackage(why);
      if (pkg !== undefined) notCached(pkg);
      fail("BAD_STAGE", `Cannot bundle stage "${stagePath}": ${why}`);
    }
    const { sources } = JSON.parse(await Deno.readTextFile(`${out}.map`)) as {
      sources: string[];
    };
    // Whatever the bundler found, by Deno's resolver or its own: the stage's folder and
    // Deno's npm cache, nothing else.
    const outside = await firstOutside(sources, dirname(out), [
      dir,
      ...(npmCache ? [npmCache] : []),
    ]);
    if (outside !== undefined) {
      fail(
        "STAGE_OUTSIDE",
        `Stage "${stagePath}" bundles "${outside}", which is outside its folder "${dir}" and Deno's npm cache: stage code must live beside the stage`,
      );
    }
    const text = await Deno.readTextFile(out);
    const canonical = npmCache === undefined
      ? text
      : canonicalBundle(text, relative(dir, npmCache));
    return {
      bundle: new TextEncoder().encode(canonical),
      modules: [...new Set(modules)].sort(),
      packages,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Let Deno fetch its bundler: bundle an empty module in `tmp`, online, with no
 * configuration. Nothing of any stage is read; a failure shows in the retry.
 */
async function fetchBundler(tmp: string): Promise<void> {
  await Deno.mkdir(`${tmp}/bundler`);
  await Deno.writeTextFile(`${tmp}/bundler/empty.js`, "export {};\n");
  await run(
    [
      "bundle",
      "--quiet",
      "--no-config",
      "--no-lock",
      "--node-modules-dir=none",
      "-o",
      `${tmp}/bundler/out.js`,
      `${tmp}/bundler/empty.js`,
    ],
    `${tmp}/bundler`,
    { online: true },
  );
}
