/**
 * Validation of everything a user names: repos, branches, file paths inside a repo, and
 * references like `training@master^2:/iris.csv`. Pure; errors name the culprit.
 */
import { InvalidArgumentError } from "../errors.ts";

const NAME_RE = /^[a-zA-Z0-9_-]{1,63}$/;

/** Check a repo name: `[a-zA-Z0-9_-]{1,63}`. */
export function checkRepoName(name: string): string {
  if (!NAME_RE.test(name)) {
    const why = name.length === 0
      ? "it is empty"
      : name.length > 63
      ? `it is ${name.length} characters long (at most 63)`
      : `it contains ${JSON.stringify(name.match(/[^a-zA-Z0-9_-]/)?.[0] ?? "")}`;
    throw new InvalidArgumentError(
      `Invalid repo name "${name}": ${why}; use letters, digits, "_" and "-", at most 63`,
      { repo: name },
    );
  }
  return name;
}

/** Ancestry markers at the end of a reference: `^`, `^2`, `~`, `~3`, repeated. */
const ANCESTRY_RE = /^(.*?)((?:[\^~]\d*)+)$/;

/**
 * Check a branch name: like a repo name (Pachyderm's rule), not an ancestry reference
 * (`HEAD~1`, `master^`), not `HEAD` (reserved, as in git), not starting with `-` (git's
 * rule: it would read as an option) and not a commit-id lookalike.
 */
export function checkBranchName(name: string): string {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`Invalid branch name "${name}": ${why}`, {
      branch: name,
      why,
    });
  };
  const ancestry = ANCESTRY_RE.exec(name);
  if (ancestry?.[1]) {
    bad(
      `"${ancestry[2]}" is ancestry syntax (an ancestor of "${ancestry[1]}"), not part of a name`,
    );
  }
  if (!NAME_RE.test(name)) bad('use letters, digits, "_" and "-", at most 63');
  if (name === "HEAD") bad("it is reserved, as in git");
  if (name.startsWith("-")) bad('it cannot start with "-"');
  if (/^[0-9a-f]{64}$/.test(name)) bad("it looks like a commit id");
  return name;
}

/**
 * Check the name of a branch about to be made: `checkBranchName()`, and not all lowercase hex
 * digits, 4 or more, which `repo@<name>` would read as a commit id prefix once no branch has
 * that name (or, once one has, shadow the commit). A branch made before this rule keeps
 * working: only making one is refused.
 */
export function checkNewBranchName(name: string): string {
  checkBranchName(name);
  if (/^[0-9a-f]{4,}$/.test(name)) {
    const why = "it looks like a commit id prefix (4 or more of the hex digits 0-9 and a-f)";
    throw new InvalidArgumentError(
      `Invalid branch name "${name}": ${why}; add a letter from g to z, "-" or "_"`,
      { branch: name, why },
    );
  }
  return name;
}

/**
 * Parse a reference that names a branch to write to (`repo@branch[:/path]`): ancestry is
 * refused, where reading verbs would take it as an older commit, and the name is checked
 * (unless `checkName` is false: deleting a branch named before today's rules).
 */
export function parseBranchRef(text: string, options: { checkName?: boolean } = {}): Ref {
  const ref = parseRef(text);
  if (ref.ancestry) {
    const at = text.indexOf("@");
    const colon = text.indexOf(":", at);
    checkBranchName(text.slice(at + 1, colon < 0 ? undefined : colon));
  }
  if (options.checkName ?? true) checkBranchName(ref.ref);
  return ref;
}

const utf8 = new TextEncoder();

/** The longest name of a file or folder, in UTF-8 bytes: the host's `NAME_MAX`. */
export const MAX_NAME_BYTES = 255;

/**
 * The longest path a file is put at, in UTF-8 bytes (`/a/b` is 4). The host refuses paths
 * over 4,096 bytes (`PATH_MAX`) whole, and every consumer lays a stored path out under a
 * folder of its own (`get file -r -o <folder>`, a datum's workspace in the store): 3,072
 * leaves 1 KiB for that folder.
 */
export const MAX_PATH_BYTES = 3072;

/**
 * Refuse a path (given as its segments) longer than `MAX_PATH_BYTES` for storing a file
 * at: InvalidArgumentError naming the path (shortened) and the limit.
 */
export function checkPathLength(segments: readonly string[]): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short paths need no encoding.
  let units = segments.length;
  for (const s of segments) units += s.length;
  if (units * 3 <= MAX_PATH_BYTES) return;
  const path = "/" + segments.join("/");
  const bytes = utf8.encode(path).length;
  if (bytes <= MAX_PATH_BYTES) return;
  const shown = path.length > 80 ? `${path.slice(0, 40)}…${path.slice(-30)}` : path;
  throw new InvalidArgumentError(
    `Invalid path ${JSON.stringify(shown)}: it is ${bytes} bytes long, and tusk stores paths of ` +
      `at most ${MAX_PATH_BYTES} bytes (so that every folder it is laid out in stays within ` +
      `the host's limit of 4096)`,
    { path: shown, bytes, limit: MAX_PATH_BYTES },
  );
}

/**
 * Normalise a path inside a repo to its segments. `/`-rooted or relative, a trailing `/`
 * allowed; `..`, `.`, NUL and other control characters, lone surrogates, empty segments and
 * names longer than 255 bytes are refused. With `storing` (a path a file is put at), so are
 * U+FFFD (bytes that are not UTF-8 arrive as it, so storing it would store another name
 * than the one given) and a path longer than `MAX_PATH_BYTES`. Reading accepts both, so a
 * name stored before stays reachable.
 */
export function parsePath(path: string, options: { storing?: boolean } = {}): string[] {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`Invalid path ${JSON.stringify(path)}: ${why}`, { path });
  };
  if (path.includes("\0")) bad("it contains a NUL byte");
  // deno-lint-ignore no-control-regex
  if (/[\x01-\x1f\x7f]/.test(path)) bad("it contains a control character");
  // A lone surrogate would be stored as U+FFFD: another name than the one given.
  if (!path.isWellFormed()) bad("it is not valid Unicode (a lone surrogate)");
  // Bytes that are not UTF-8 (a name on the command line, in a folder) arrive as U+FFFD:
  // storing it would store another name than the one on disk.
  if (options.storing && path.includes("\uFFFD")) {
    bad("it contains U+FFFD, what bytes that are not valid UTF-8 become; paths must be UTF-8");
  }
  let p = path.startsWith("/") ? path.slice(1) : path;
  if (p.endsWith("/")) p = p.slice(0, -1);
  if (p === "") return [];
  const segments = p.split("/");
  for (const s of segments) {
    if (s === "") bad("it has an empty segment");
    if (s === "..") bad('".." is not allowed');
    if (s === ".") bad('"." is not allowed');
    // A UTF-16 unit is at most 3 UTF-8 bytes, so only names over 85 units need encoding.
    if (s.length > 85 && utf8.encode(s).length > MAX_NAME_BYTES) {
      bad(`the name "${s.slice(0, 20)}…" is longer than ${MAX_NAME_BYTES} bytes`);
    }
  }
  if (options.storing) checkPathLength(segments);
  return segments;
}

/** The canonical `/`-rooted form of a path's segments. */
export function formatPath(segments: readonly string[]): string {
  return "/" + segments.join("/");
}

/** A parsed `repo@ref:/path` reference. */
export interface Ref {
  readonly repo: string;
  /** Branch name or commit id (prefix), with ancestry stripped. */
  readonly ref: string;
  /** How many generations back (`^` and `~` one each, `^2` and `~2` two). */
  readonly ancestry: number;
  /** Path inside the commit, when one was given after `:`. */
  readonly path: string | undefined;
}

/**
 * Parse `repo`, `repo@branch`, `repo@commit`, `repo@branch^2`, `repo@branch:/path`.
 * `defaultRef` is used when no `@` is given.
 */
export function parseRef(text: string, defaultRef = "master"): Ref {
  let rest = text;
  let path: string | undefined;
  const at = rest.indexOf("@");
  const colon = rest.indexOf(":", at < 0 ? 0 : at);
  if (colon >= 0) {
    path = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let repo = rest;
  let ref = defaultRef;
  if (at >= 0) {
    repo = rest.slice(0, at);
    ref = rest.slice(at + 1);
  }
  checkRepoName(repo);
  let ancestry = 0;
  const m = /^(.*?)((?:[\^~]\d*)+)$/.exec(ref);
  if (m && m[1]) {
    ref = m[1];
    for (const part of m[2]!.match(/[\^~]\d*/g) ?? []) {
      const n = part.length > 1 ? Number(part.slice(1)) : 1;
      ancestry += n;
    }
  }
  if (ref === "" || !/^[a-zA-Z0-9_-]+$/.test(ref)) {
    throw new InvalidArgumentError(
      `Invalid reference "${text}": expected repo@branch or repo@commit`,
      { ref: text },
    );
  }
  return { repo, ref, ancestry, path };
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `name`, if close enough to be a likely typo. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** ` Did you mean "x"?` or an empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const n = nearest(name, candidates);
  return n ? `: did you mean "${n}"?` : "";
}
