/**
 * The input tree of a spec, built from its typed fields: one kind per input object, names
 * unique (but shared across a union's members, as Pachyderm allows), `joinOn` and `groupBy`
 * only inside their combinator and naming capture groups the glob has, `optional` outside
 * them, and no input reading the pipeline's own output.
 */
import { InvalidArgumentError } from "../../errors.ts";
import { compileGlob } from "../../glob.ts";
import { checkBranch, type Checker, checkName, type Loc, NAME_RULE } from "./_check.ts";
import { INPUT_KINDS, type RawCron, type RawInput, type RawPfs } from "./fields.ts";
import type { Combinator, CronInput, Input, PfsInput } from "./input.ts";
import { cronSchedule } from "./units.ts";

/** Where an input stands in the tree, and the input names taken so far. */
export interface InputContext {
  readonly pipeline: string;
  /** Input name → path of its first use. */
  readonly names: Map<string, string>;
  readonly parent: Combinator | undefined;
  readonly inJoin: boolean;
  readonly inGroup: boolean;
}

/** Build and check the input object `raw` found at `loc`. */
export function buildInput(c: Checker, raw: RawInput, loc: Loc, ctx: InputContext): Input {
  const kinds = INPUT_KINDS.filter((k) => raw[k] !== undefined);
  if (kinds.length === 0) {
    c.fail(
      loc,
      "EMPTY_INPUT",
      `Empty input at "${loc.shown}"`,
      'set one of "pfs", "cron", "cross", "union", "join" or "group"',
    );
  }
  if (kinds.length > 1) {
    c.fail(
      loc,
      "MIXED_INPUT",
      `Input at "${loc.shown}" sets both "${kinds[0]}" and "${kinds[1]}"`,
      'set one kind per input object and nest them with "cross" or "union"',
    );
  }
  const kind = kinds[0]!;
  if (kind === "pfs") return buildPfs(c, raw.pfs!, loc.child("pfs"), ctx);
  if (kind === "cron") return buildCron(c, raw.cron!, loc.child("cron"), ctx);
  const list = raw[kind]!;
  const here = loc.child(kind);
  if (list.length === 0) {
    c.fail(here, "EMPTY_INPUT", `Empty "${here.shown}"`, "give it at least one input");
  }
  const child = (names: Map<string, string>): InputContext => ({
    pipeline: ctx.pipeline,
    names,
    parent: kind,
    inJoin: ctx.inJoin || kind === "join",
    inGroup: ctx.inGroup || kind === "group",
  });
  if (kind !== "union") {
    const inputs = list.map((x, i) => buildInput(c, x, here.child(i), child(ctx.names)));
    return { kind, inputs };
  }
  // As Pachyderm: the inputs of a union may share a name (each datum comes from one of
  // them), but none may clash with a name outside the union.
  const seen: Map<string, string>[] = [];
  const inputs = list.map((x, i) => {
    const names = new Map(ctx.names);
    seen.push(names);
    return buildInput(c, x, here.child(i), child(names));
  });
  for (const names of seen) for (const [n, p] of names) if (!ctx.names.has(n)) ctx.names.set(n, p);
  return { kind, inputs };
}

function claimName(
  c: Checker,
  name: string,
  nameLoc: Loc,
  inputLoc: Loc,
  ctx: InputContext,
): void {
  checkName(c, nameLoc, name, "input name");
  if (name === "out") {
    c.fail(
      nameLoc,
      "RESERVED_NAME",
      `Invalid input name "out" at "${nameLoc.shown}"`,
      '"/pfs/out" is the output folder; set another "name"',
    );
  }
  const first = ctx.names.get(name);
  if (first !== undefined) {
    c.fail(
      inputLoc,
      "DUPLICATE_NAME",
      `Duplicate input name "${name}" at "${inputLoc.shown}"`,
      `"${first}" has it too; give one of them another "name"`,
    );
  }
  ctx.names.set(name, inputLoc.shown);
}

function buildPfs(c: Checker, raw: RawPfs, loc: Loc, ctx: InputContext): PfsInput {
  if (raw.repo === undefined || raw.repo === "") {
    c.fail(
      loc.child("repo"),
      "MISSING_FIELD",
      `Missing "${loc.child("repo").shown}"`,
      "name the repo to read",
    );
  }
  const repo = raw.repo;
  checkName(c, loc.child("repo"), repo, "repo name");
  if (repo === ctx.pipeline) {
    c.fail(
      loc.child("repo"),
      "CYCLE",
      `Input repo "${repo}" at "${loc.child("repo").shown}" is this pipeline's own output repo`,
      "a pipeline cannot read its own output (that is a cycle); read another repo",
    );
  }
  const name = raw.name || repo;
  const nameLoc = loc.child(raw.name ? "name" : "repo");
  if (!raw.name && repo === "out") {
    c.fail(
      nameLoc,
      "RESERVED_NAME",
      `Input repo "out" at "${nameLoc.shown}" needs a "name"`,
      '"/pfs/out" is the output folder; set "name"',
    );
  }
  claimName(c, name, nameLoc, loc, ctx);
  const branch = raw.branch || "master";
  checkBranch(c, loc.child("branch"), branch);
  if (raw.glob === undefined || raw.glob === "") {
    c.fail(
      loc.child("glob"),
      "MISSING_FIELD",
      `Missing "${loc.child("glob").shown}"`,
      'say which files make a datum, e.g. "/" (the whole repo) or "/*" (one per top-level entry)',
    );
  }
  const glob = raw.glob.startsWith("/") ? raw.glob : "/" + raw.glob;
  let groups = 0;
  try {
    groups = compileGlob(glob).groups;
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    c.fail(
      loc.child("glob"),
      "BAD_GLOB",
      `Invalid glob at "${loc.child("glob").shown}"`,
      err.message,
    );
  }
  const pattern = { glob, groups };
  const joinOn = keyTemplate(c, raw.joinOn, "joinOn", "join", ctx.inJoin, pattern, loc);
  const groupBy = keyTemplate(c, raw.groupBy, "groupBy", "group", ctx.inGroup, pattern, loc);
  if (ctx.parent === "join" && joinOn === undefined) {
    c.fail(
      loc.child("joinOn"),
      "MISSING_FIELD",
      `Missing "${loc.child("joinOn").shown}"`,
      'each pfs input of a "join" needs "joinOn", e.g. "$1" with a glob like "/(*).csv"',
    );
  }
  if (ctx.parent === "group" && groupBy === undefined) {
    c.fail(
      loc.child("groupBy"),
      "MISSING_FIELD",
      `Missing "${loc.child("groupBy").shown}"`,
      'each pfs input of a "group" needs "groupBy", e.g. "$1" with a glob like "/(*)-*.csv"',
    );
  }
  const outerJoin = raw.outerJoin ?? false;
  if (outerJoin && !ctx.inJoin) {
    const at = loc.child("outerJoin");
    c.fail(
      at,
      "MISPLACED_FIELD",
      `Unused "${at.shown}"`,
      'it only applies to inputs of a "join"; remove it',
    );
  }
  const optional = raw.optional ?? false;
  if (optional && (ctx.inJoin || ctx.inGroup)) {
    const at = loc.child("optional");
    c.fail(
      at,
      "MISPLACED_FIELD",
      `Misplaced "${at.shown}"`,
      ctx.inJoin
        ? 'an input of a "join" cannot be optional; "outerJoin": true keeps its datums when others have none'
        : 'an input of a "group" cannot be optional; cross the group with it instead',
    );
  }
  return {
    kind: "pfs",
    name,
    repo,
    branch,
    glob,
    ...(joinOn === undefined ? {} : { joinOn }),
    ...(groupBy === undefined ? {} : { groupBy }),
    outerJoin,
    emptyFiles: raw.emptyFiles ?? false,
    ...(optional ? { optional: true as const } : {}),
  };
}

/** Check a `joinOn` / `groupBy` key: inside its combinator, naming existing capture groups. */
function keyTemplate(
  c: Checker,
  value: string | undefined,
  field: "joinOn" | "groupBy",
  combinator: "join" | "group",
  inside: boolean,
  { glob, groups }: { readonly glob: string; readonly groups: number },
  loc: Loc,
): string | undefined {
  if (value === undefined || value === "") return undefined;
  const at = loc.child(field);
  if (!inside) {
    c.fail(
      at,
      "MISPLACED_FIELD",
      `Unused "${at.shown}"`,
      `it only applies to inputs of a "${combinator}"; remove it`,
    );
  }
  for (const m of value.matchAll(/\$(?:\{(\d+)\}|(\d+))/g)) {
    const n = Number(m[1] ?? m[2]);
    if (n > groups) {
      c.fail(
        at,
        "BAD_CAPTURE_GROUP",
        `Invalid ${field} "${value}" at "${at.shown}"`,
        groups === 0
          ? `glob "${glob}" has no capture group; wrap part of it in parentheses, e.g. "/(*).csv"`
          : `glob "${glob}" has ${groups} capture group${
            groups === 1 ? "" : "s"
          }; use $1 to $${groups}`,
      );
    }
  }
  return value;
}

function buildCron(c: Checker, raw: RawCron, loc: Loc, ctx: InputContext): CronInput {
  if (ctx.parent === "join" || ctx.parent === "group") {
    c.fail(
      loc,
      "MISPLACED_FIELD",
      `Cron input at "${loc.shown}" cannot be in a "${ctx.parent}"`,
      `it has no "${
        ctx.parent === "join" ? "joinOn" : "groupBy"
      }" key; cross it with the ${ctx.parent} instead`,
    );
  }
  if (raw.name === undefined || raw.name === "") {
    c.fail(
      loc.child("name"),
      "MISSING_FIELD",
      `Missing "${loc.child("name").shown}"`,
      'name the cron input, e.g. "tick"',
    );
  }
  const name = raw.name;
  claimName(c, name, loc.child("name"), loc, ctx);
  if (raw.spec === undefined || raw.spec === "") {
    c.fail(
      loc.child("spec"),
      "MISSING_FIELD",
      `Missing "${loc.child("spec").shown}"`,
      'give a schedule, e.g. "@every 1m" or "*/10 * * * *"',
    );
  }
  const spec = raw.spec.trim();
  const schedule = cronSchedule(spec);
  if (!schedule.ok) {
    c.fail(
      loc.child("spec"),
      "BAD_CRON",
      `Invalid cron spec "${raw.spec}" at "${loc.child("spec").shown}"`,
      schedule.advice,
    );
  }
  const repo = raw.repo || `${ctx.pipeline}_${name}`;
  checkName(
    c,
    loc.child("repo"),
    repo,
    "repo name",
    !raw.repo ? `set "repo" (it defaults to "<pipeline>_<name>"); ${NAME_RULE}` : NAME_RULE,
  );
  if (repo === ctx.pipeline) {
    c.fail(
      loc.child("repo"),
      "CYCLE",
      `Cron repo "${repo}" at "${loc.child("repo").shown}" is this pipeline's own output`,
      'set another "repo"',
    );
  }
  if (raw.start) {
    const at = loc.child("start");
    if (
      !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/i.test(raw.start) ||
      Number.isNaN(Date.parse(raw.start))
    ) {
      c.fail(
        at,
        "BAD_TIME",
        `Invalid start time "${raw.start}" at "${at.shown}"`,
        'use an RFC 3339 time like "2024-01-01T00:00:00Z"',
      );
    }
  }
  return {
    kind: "cron",
    name,
    spec,
    repo,
    overwrite: raw.overwrite ?? false,
    ...(raw.start ? { start: raw.start } : {}),
  };
}
