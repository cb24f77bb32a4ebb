/**
 * `tusk export pachyderm`: pipelines as specs for a Pachyderm cluster. Each spec keeps the
 * fields Pachyderm's `CreatePipelineRequest` has (camelCase, integers as numbers,
 * durations as `"600s"`), runs in the stock `denoland/deno:<version>` image, and reads its
 * stage bundle — the exact code tusk snapshotted — from a code repo of its own, crossed
 * with its inputs (glob `/`, so it adds no datums): new code is a new commit there, and
 * Pachyderm's provenance names it, as tusk's does. A README beside the specs gives the
 * `pachctl` commands that create the repos and pipelines in dependency order.
 *
 * A pipeline whose stage is a host program (`python3 /code/pytrain.py …`) keeps its command
 * and image as given, as Pachyderm runs them: its code folder is written beside the spec
 * with a Dockerfile that puts it at `/code`, and the README says to build and push that
 * image (an image the spec does not name is given one, `tusk/<pipeline>:<code hash>`).
 */
import { AlreadyExistsError, NotFoundError } from "../errors.ts";
import {
  dependencyOrder,
  type Pipeline,
  pipelineOf,
  pipelinesOf,
  readBundle,
  runsHostProgram,
} from "../pipeline/pipelines.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import type { Store } from "../store/store.ts";
import { hostOutputError } from "./_host_output.ts";
import {
  denoImage,
  ERR_STAGE_FILE,
  hostDockerfile,
  hostImage,
  hostPachydermSpec,
  pachydermSpec,
  STAGE_FILE,
} from "./_pachyderm_spec.ts";

/** Options of `exportPachyderm()`. */
export interface ExportPachydermOptions {
  /**
   * Folder to write into, created when missing. A file the export would write that is
   * already there is refused (`AlreadyExistsError`, naming every one) before anything is
   * written, unless `force` is set.
   */
  readonly output: string;
  /** Replace files of the same names (never a folder or a symbolic link in a file's place). */
  readonly force?: boolean;
  /** Deno version of the image tag (default: the running Deno's). */
  readonly denoVersion?: string;
}

/** One exported pipeline. */
export interface ExportedPipeline {
  readonly name: string;
  /** `<output>/<name>.json`. */
  readonly specFile: string;
  /** `<output>/<name>/stage.js`: the stage bundle (a Deno stage). */
  readonly stageFile?: string;
  /** `<output>/<name>/err_stage.js`, when the spec has an `errCmd`. */
  readonly errStageFile?: string;
  /** The repo the spec reads its stage code from (a Deno stage). */
  readonly codeRepo?: string;
  /** For a host program: `<output>/<name>/code`, its code folder as tusk snapshotted it. */
  readonly codeDir?: string;
  /** For a host program: `<output>/<name>/Dockerfile`, which builds its image. */
  readonly dockerfile?: string;
  /** For a host program: the image its spec names, to build from the Dockerfile and push. */
  readonly image?: string;
  /** Fields of the tusk spec left out, as `path: why`. */
  readonly dropped: readonly string[];
  /** The Pachyderm spec written to `specFile`. */
  readonly spec: Readonly<Record<string, unknown>>;
}

/** What `exportPachyderm()` wrote. */
export interface PachydermExport {
  readonly dir: string;
  readonly image: string;
  /** `<output>/README.md`. */
  readonly readme: string;
  /** Input repos to create: users' repos, neither pipeline outputs nor cron repos. */
  readonly repos: readonly string[];
  /** Input repos that are outputs of pipelines left out of the export. */
  readonly upstream: readonly string[];
  /** In dependency order: a pipeline after those whose output it reads. */
  readonly pipelines: readonly ExportedPipeline[];
}

/** `<pipeline>_code`, cut to 63 characters and numbered past any name in `taken`. */
function codeRepoName(pipeline: string, taken: ReadonlySet<string>): string {
  for (let n = 1;; n++) {
    const suffix = n === 1 ? "_code" : `_code${n}`;
    const name = `${pipeline.slice(0, 63 - suffix.length)}${suffix}`;
    if (!taken.has(name)) return name;
  }
}

/**
 * Write Pachyderm specs, stage bundles and a README for `names` (every pipeline when
 * empty) into `options.output`. An unknown name fails before anything is written.
 */
export async function exportPachyderm(
  store: Store,
  names: readonly string[],
  options: ExportPachydermOptions,
): Promise<PachydermExport> {
  const state = await store.state();
  const all = await pipelinesOf(state);
  const chosen = names.length === 0
    ? all
    : await Promise.all([...new Set(names)].map((name) => pipelineOf(state, name)));
  if (chosen.length === 0) {
    throw new NotFoundError(
      'Cannot export: the store has no pipelines (create one with "tusk create pipeline -f spec.json")',
      {},
    );
  }
  const image = denoImage(options.denoVersion);
  const dir = options.output.replace(/\/+$/, "") || "/";
  const pipelineNames = new Set(all.map((p) => p.name));
  const cronRepos = new Set(
    all.flatMap((p) => inputLeaves(p.parsed.input, "cron")).map((i) => i.repo),
  );
  const taken = new Set([...Object.keys(state.repos), ...pipelineNames]);
  const repos = new Set<string>();
  const upstream = new Set<string>();
  const exportedNames = new Set(chosen.map((p) => p.name));
  const plans: { p: Pipeline; codeRepo: string }[] = [];
  for (const p of dependencyOrder(chosen)) {
    const inputs = inputLeaves(p.parsed.input);
    for (const i of inputs) {
      if (i.kind === "cron" || cronRepos.has(i.repo)) continue;
      if (!pipelineNames.has(i.repo)) repos.add(i.repo);
      else if (!exportedNames.has(i.repo)) upstream.add(i.repo);
    }
    if (runsHostProgram(p)) {
      plans.push({ p, codeRepo: "" });
      continue;
    }
    const codeRepo = codeRepoName(p.name, new Set([...taken, ...inputs.map((i) => i.name)]));
    taken.add(codeRepo);
    plans.push({ p, codeRepo });
  }

  const force = options.force === true;
  await checkTargets(dir, plans.map((x) => x.p), force);
  await Deno.mkdir(dir, { recursive: true }).catch((err) => {
    throw hostOutputError(err, dir, "folder");
  });
  /** Write one file: never over one that appeared since the check, unless `force`. */
  const write = async (path: string, bytes: Uint8Array) => {
    await Deno.writeFile(path, bytes, { createNew: !force }).catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      throw refusal([path]);
    });
  };
  const written: ExportedPipeline[] = [];
  const osRelease = await Deno.readTextFile("/etc/os-release").catch(() => null);
  for (const { p, codeRepo } of plans) {
    if (runsHostProgram(p)) {
      const { spec, dropped } = hostPachydermSpec(p);
      const specFile = `${dir}/${p.name}.json`;
      const codeDir = `${dir}/${p.name}/code`;
      const dockerfile = `${dir}/${p.name}/Dockerfile`;
      await Deno.mkdir(codeDir, { recursive: true });
      for await (const f of store.walk(p.codeHash, [])) {
        const dest = `${codeDir}${f.path}`;
        await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
        await write(dest, await store.objects.readVerified(f.hash));
      }
      await write(dockerfile, utf8.encode(hostDockerfile(p, osRelease)));
      await write(specFile, utf8.encode(JSON.stringify(spec, null, 2) + "\n"));
      written.push({
        name: p.name,
        specFile,
        codeDir,
        dockerfile,
        image: hostImage(p),
        dropped,
        spec,
      });
      continue;
    }
    const { spec, dropped } = pachydermSpec(p, { image, codeRepo });
    const specFile = `${dir}/${p.name}.json`;
    const stageFile = `${dir}/${p.name}/${STAGE_FILE}`;
    await Deno.mkdir(`${dir}/${p.name}`, { recursive: true });
    await write(stageFile, await readBundle(store, p));
    let errStageFile: string | undefined;
    if (p.errCodeHash !== undefined) {
      errStageFile = `${dir}/${p.name}/${ERR_STAGE_FILE}`;
      await write(errStageFile, await readBundle(store, { codeHash: p.errCodeHash }));
    }
    await write(specFile, utf8.encode(JSON.stringify(spec, null, 2) + "\n"));
    written.push({
      name: p.name,
      specFile,
      stageFile,
      ...(errStageFile !== undefined ? { errStageFile } : {}),
      codeRepo,
      dropped,
      spec,
    });
  }
  const result: PachydermExport = {
    dir,
    image,
    readme: `${dir}/README.md`,
    repos: [...repos].sort(),
    upstream: [...upstream].sort(),
    pipelines: written,
  };
  await write(result.readme, utf8.encode(exportReadme(result)));
  return result;
}

const utf8 = new TextEncoder();

/** The files an export of `pipelines` into `dir` writes, and the folders it makes. */
function targets(dir: string, pipelines: readonly Pipeline[]): { files: string[]; dirs: string[] } {
  const files = [`${dir}/README.md`];
  const dirs: string[] = [];
  for (const p of pipelines) {
    dirs.push(`${dir}/${p.name}`);
    if (runsHostProgram(p)) {
      files.push(`${dir}/${p.name}.json`, `${dir}/${p.name}/Dockerfile`);
      for (const f of p.modules) files.push(`${dir}/${p.name}/code${f}`);
      const folders = new Set(p.modules.map((f) => f.slice(0, f.lastIndexOf("/"))));
      for (const f of [...folders].sort()) dirs.push(`${dir}/${p.name}/code${f}`);
      continue;
    }
    files.push(`${dir}/${p.name}.json`, `${dir}/${p.name}/${STAGE_FILE}`);
    if (p.errCodeHash !== undefined) files.push(`${dir}/${p.name}/${ERR_STAGE_FILE}`);
  }
  return { files, dirs };
}

/** The refusal to overwrite `paths`, naming them and `--force`. */
function refusal(paths: readonly string[]): AlreadyExistsError {
  const names = paths.map((f) => `"${f}"`).join(", ");
  return new AlreadyExistsError(
    `Cannot export: ${paths.length === 1 ? "a file" : "files"} of the same ${
      paths.length === 1 ? "name is" : "names are"
    } already there: ${names}; nothing was written (give an empty or new folder, or ` +
      "--force to replace them)",
    { option: "-o", paths },
  );
}

/**
 * Refuse, before anything is written, an export that would replace a file in `dir` (unless
 * `force`), or that finds a folder, a symbolic link or another non-file where it writes a
 * file, or a non-folder where it makes a folder (even with `force`): each culprit is named.
 */
async function checkTargets(
  dir: string,
  pipelines: readonly Pipeline[],
  force: boolean,
): Promise<void> {
  const kind = async (path: string): Promise<Deno.FileInfo | null> => {
    try {
      return await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
        return null;
      }
      throw hostOutputError(err, path, "file");
    }
  };
  const { files, dirs } = targets(dir, pipelines);
  const existing: string[] = [];
  const blocked: string[] = [];
  const what = (info: Deno.FileInfo) =>
    info.isSymlink ? "a symbolic link" : info.isDirectory ? "a folder" : "not a regular file";
  for (const d of dirs) {
    const info = await kind(d);
    if (info && !info.isDirectory) blocked.push(`"${d}" is ${what(info)}, where a folder goes`);
  }
  for (const f of files) {
    const info = await kind(f);
    if (info === null) continue;
    if (info.isFile) existing.push(f);
    else blocked.push(`"${f}" is ${what(info)}, where a file goes`);
  }
  if (blocked.length > 0) {
    throw new AlreadyExistsError(
      `Cannot export: ${blocked.join("; ")}; nothing was written (remove ${
        blocked.length === 1 ? "it" : "them"
      }, or give an empty or new folder)`,
      { option: "-o", paths: blocked },
    );
  }
  if (existing.length > 0 && !force) throw refusal(existing);
}

/** The README of an export: what was chosen and the `pachctl` commands, in order. */
export function exportReadme(e: Omit<PachydermExport, "readme">): string {
  const lines: string[] = [];
  const names = e.pipelines.map((p) => p.name);
  const host = e.pipelines.filter((p) => p.dockerfile !== undefined);
  const deno = e.pipelines.filter((p) => p.dockerfile === undefined);
  lines.push(
    `# Pachyderm specs of tusk pipelines: ${names.join(", ")}`,
    "",
    "Written by `tusk export pachyderm`. Each `<pipeline>.json` is a `pachctl create pipeline`",
    "spec (camelCase, as Pachyderm's `CreatePipelineRequest` schema reads it).",
    "",
  );
  if (deno.length > 0) {
    lines.push(
      `- **Image**: ${
        host.length > 0
          ? `the Deno pipelines (${deno.map((p) => `\`${p.name}\``).join(", ")}) run`
          : "every pipeline runs"
      } in the stock image \`${e.image}\`, the Deno that bundled its stage code.`,
      "- **Stage code**: `<pipeline>/stage.js` is the self-contained bundle tusk ran (its",
      "  npm packages inlined). It reaches the container as data: each pipeline has its own",
      "  code repo (`<pipeline>_code`), crossed with its inputs with glob `/` (one datum, so",
      "  the number of datums does not change) and mounted at `/pfs/<pipeline>_code/stage.js`.",
      "  New code is a `put file` to that repo: Pachyderm re-runs the datums, as tusk does",
      "  when stage code changes, and the output commits' provenance names the code commit.",
      "- **Permissions**: Pachyderm runs the command as given, so it carries the permissions",
      "  tusk gives a stage: read its inputs, its code repo, `/pfs/out` and `/tmp`; write",
      "  `/pfs/out` and `/tmp`; the spec's `env` names; no network, subprocesses, FFI or",
      "  system information.",
      "- **Datum batching**: tusk's protocol (datums as JSON lines on stdin) is its own, so",
      "  it is left out: on Pachyderm the stage runs once per datum with its arguments.",
      "",
      "To bake the code into an image instead: build `FROM " + e.image + "` with",
      "`COPY <pipeline>/stage.js /code/stage.js`, set `transform.image` to that image, point",
      "the command at `/code/stage.js` (and `--allow-read` at it) and remove the code input.",
      "",
    );
  }
  if (host.length > 0) {
    lines.push(
      `- **Host programs**: ${
        host.map((p) => `\`${p.name}\``).join(", ")
      } ran a program of the host (as \`python3 /code/…\`), not Deno.`,
      "  Their specs keep their command and image as given; tusk never pulled the image.",
      "  **Build that image yourself** from `<pipeline>/Dockerfile`, which copies the code",
      "  folder tusk snapshotted (`<pipeline>/code/`) to `/code`, and push it under the name",
      "  the spec gives (the first commands below). The Dockerfile installs the program; add",
      "  the packages the code imports.",
      "",
    );
  }
  lines.push(
    "## Create the repos and pipelines",
    "",
    "Run from this folder, in this order:",
    "",
    "```sh",
  );
  for (const p of host) {
    lines.push(`docker build -t ${p.image} ${p.name} && docker push ${p.image}`);
  }
  for (const r of e.repos) lines.push(`pachctl create repo ${r}`);
  for (const p of e.pipelines) {
    if (p.codeRepo === undefined) continue;
    lines.push(`pachctl create repo ${p.codeRepo}`);
    lines.push(`pachctl put file ${p.codeRepo}@master:/${STAGE_FILE} -f ${p.name}/${STAGE_FILE}`);
    if (p.errStageFile !== undefined) {
      lines.push(
        `pachctl put file ${p.codeRepo}@master:/${ERR_STAGE_FILE} -f ${p.name}/${ERR_STAGE_FILE}`,
      );
    }
  }
  for (const p of e.pipelines) lines.push(`pachctl create pipeline -f ${p.name}.json`);
  lines.push("```", "");
  if (e.repos.length > 0) {
    lines.push(
      `Then put your data into ${
        e.repos.map((r) => `\`${r}\``).join(", ")
      }, e.g. \`pachctl put file ${e.repos[0]}@master:/data.csv -f data.csv\`.`,
      "",
    );
  }
  if (e.upstream.length > 0) {
    lines.push(
      `Read but not exported: the output ${e.upstream.length === 1 ? "repo" : "repos"} of ${
        e.upstream.map((r) => `pipeline \`${r}\``).join(", ")
      }. Export ${e.upstream.length === 1 ? "it" : "them"} too (` +
        `\`tusk export pachyderm ${[...e.upstream, ...names].join(" ")} -o …\`) and create ` +
        `${e.upstream.length === 1 ? "it" : "them"} first.`,
      "",
    );
  }
  const dropped = e.pipelines.filter((p) => p.dropped.length > 0);
  if (dropped.length > 0) {
    lines.push("## Left out", "");
    for (const p of dropped) for (const d of p.dropped) lines.push(`- \`${p.name}\`: ${d}`);
    lines.push("");
  }
  return lines.join("\n");
}
