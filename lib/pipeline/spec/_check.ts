/**
 * What the spec's checks share: places in the spec (the JSON path as the user spelled it),
 * failing with a `SpecError` that names the place, and the name checks.
 */
import { InvalidArgumentError } from "../../errors.ts";
import { checkBranchName, checkNewBranchName, checkRepoName } from "../../store/names.ts";
import { SpecError, type SpecRule } from "./spec_error.ts";

/** `parent.key`, or `parent[key]` for an index. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** A place in the spec: its camelCase path and the path as the user spelled it. */
export class Loc {
  constructor(
    readonly camel: string,
    readonly shown: string,
    private readonly spelled: ReadonlyMap<string, string>,
  ) {}

  child(key: string | number): Loc {
    const camel = joinPath(this.camel, key);
    return new Loc(camel, this.spelled.get(camel) ?? joinPath(this.shown, key), this.spelled);
  }
}

/** One check of one spec: how the user spelled each path, and the file to name. */
export class Checker {
  /** camelCase path → the path as the user spelled it, where they differ. */
  readonly spelled = new Map<string, string>();
  constructor(readonly file: string | undefined) {}

  root(): Loc {
    return new Loc("", "", this.spelled);
  }

  /**
   * Throw `<head> [in "<file>"]: <advice>` naming `loc`, for breaking `rule`; `suggestion`
   * is what was probably meant, when there is a near one.
   */
  fail(
    loc: Loc,
    rule: SpecRule,
    head: string,
    advice: string,
    options: { readonly suggestion?: string } = {},
  ): never {
    throw specError(rule, `${head}${this.#where()}: ${advice}`, loc.shown, {
      file: this.file,
      suggestion: options.suggestion,
    });
  }

  #where(): string {
    return this.file === undefined ? "" : ` in "${this.file}"`;
  }
}

/** A `SpecError` for breaking `rule` at `path`, with whichever of `more` is given. */
export function specError(
  rule: SpecRule,
  message: string,
  path: string,
  more: {
    file?: string | undefined;
    line?: number;
    column?: number;
    suggestion?: string | undefined;
  } = {},
): SpecError {
  const { file, line, column, suggestion } = more;
  return new SpecError(message, {
    rule,
    path,
    ...(file === undefined ? {} : { file }),
    ...(line === undefined ? {} : { line }),
    ...(column === undefined ? {} : { column }),
    ...(suggestion === undefined ? {} : { suggestion }),
  });
}

/** A short description of a value for a message: `"abc"`, `5`, `an array`, … */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  return String(value);
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What names may be made of. */
export const NAME_RULE = 'use letters, digits, "_" and "-", at most 63 characters';

function nameWhy(name: string): string {
  if (name.length === 0) return "it is empty";
  if (name.length > 63) return `it is ${name.length} characters long`;
  return `it contains ${JSON.stringify(name.match(/[^a-zA-Z0-9_-]/)?.[0] ?? "")}`;
}

/** Refuse an invalid pipeline, repo or input name (`what`) at `loc`. */
export function checkName(
  c: Checker,
  loc: Loc,
  name: string,
  what: string,
  advice = NAME_RULE,
): void {
  try {
    checkRepoName(name);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    c.fail(
      loc,
      "BAD_NAME",
      `Invalid ${what} "${name}" at "${loc.shown}"`,
      `${nameWhy(name)}; ${advice}`,
    );
  }
}

/**
 * Refuse an invalid branch name at `loc`; with `made` (a branch the pipeline makes, as its
 * output branch) also one that looks like a commit id prefix.
 */
export function checkBranch(c: Checker, loc: Loc, branch: string, made = false): void {
  try {
    (made ? checkNewBranchName : checkBranchName)(branch);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    const why = /^[a-zA-Z0-9_-]{1,63}$/.test(branch) && typeof err.data.why === "string"
      ? err.data.why
      : nameWhy(branch);
    c.fail(
      loc,
      "BAD_NAME",
      `Invalid branch name "${branch}" at "${loc.shown}"`,
      `${why}; ${NAME_RULE}`,
    );
  }
}
