/**
 * The lines of a pipeline's datum index (`jobs/<pipeline>/datums.jsonl`), one JSON entry a
 * line: what a line must hold, and `verify`'s check of a whole index, which names the file,
 * the line and what is wrong with it. The index is a cache: a line that is not an entry is
 * skipped when it is read (its datum runs again) and dropped by `gc`.
 *
 * A last line without its newline is what a crash mid-append leaves (or an append still in
 * progress): it is not reported, and the next append starts a fresh line after it.
 */
import { IntegrityError } from "../errors.ts";
import { wrongKindError } from "../store/damage.ts";
import type { DatumIndexEntry } from "./job_record.ts";

/** What drops a malformed line. */
export const DROP_MALFORMED =
  'run "tusk gc" to drop the line (its datum runs again on its pipeline\'s next job)';

const HASH = /^[0-9a-f]{64}$/;

/** A job id, as `newJobId()` makes it (and every other reader of job ids checks). */
const JOB_ID = /^[0-9a-f]{32}$/;

/** A cheap test, as reading the index makes for every entry: an object with a hash and a tree. */
export function isEntry(value: unknown): value is DatumIndexEntry {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Partial<DatumIndexEntry>;
  return typeof e.hash === "string" && typeof e.tree === "string";
}

/**
 * True when the entry's datum hash and output tree are hashes: a line read as an entry whose
 * tree is any other string (`"0c"`, a folder of the object store) names no object to keep.
 */
export function hasHashes(e: DatumIndexEntry): boolean {
  return HASH.test(e.hash) && HASH.test(e.tree);
}

/** The entry on `line`, or null for a line that is not one (torn, junk, empty). */
export function parseEntry(line: string): DatumIndexEntry | null {
  if (!line) return null;
  try {
    const e: unknown = JSON.parse(line);
    return isEntry(e) ? e : null;
  } catch {
    return null;
  }
}

/** The kind of a JSON value, for messages: "a number", "an array", "null"… */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** `text` cut to `most` characters for a message, quoted. */
function quoted(text: string, most = 60): string {
  return JSON.stringify(cut(text, most));
}

/** What is wrong with `line` as a datum index entry, or null when it is one. */
export function entryProblem(line: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return `not JSON: ${quoted(line)}`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${
      kindOf(value)
    }, not an entry (an object with "hash", "tree", "size", "job" and "version")`;
  }
  const e = value as Record<string, unknown>;
  const wrong: string[] = [];
  const check = (field: string, ok: (v: unknown) => boolean, want: string, optional = false) => {
    const v = e[field];
    if (v === undefined && !optional) wrong.push(`"${field}" is missing`);
    else if (v !== undefined && !ok(v)) {
      wrong.push(`"${field}" is ${cut(JSON.stringify(v))}, not ${want}`);
    }
  };
  const hash = (v: unknown) => typeof v === "string" && HASH.test(v);
  const whole = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  check("hash", hash, "a hash of 64 hex digits");
  check("tree", hash, "a hash of 64 hex digits");
  check("job", (v) => typeof v === "string" && JOB_ID.test(v), "a job id");
  check("size", whole, "a whole number of bytes");
  check("version", whole, "a whole number");
  check("pipelineSeq", whole, "a whole number", true);
  return wrong.length ? wrong.join("; ") : null;
}

/** `text` cut to `most` characters for a message. */
function cut(text: string, most = 40): string {
  return text.length > most ? `${text.slice(0, most)}…` : text;
}

/** A line of an index that is not an entry. */
export interface MalformedLine {
  /** 1-based. */
  readonly line: number;
  readonly problem: string;
}

/**
 * Every line of the index text `text` that is not an entry, but a last line without its
 * newline (a torn append).
 */
export function malformedLines(text: string): MalformedLine[] {
  const out: MalformedLine[] = [];
  const lines = text.split("\n");
  // The piece after the last newline: empty, or a torn append.
  lines.pop();
  lines.forEach((line, i) => {
    const problem = entryProblem(line);
    if (problem) out.push({ line: i + 1, problem });
  });
  return out;
}

/**
 * Check the datum index of `pipeline` at `path` in the store at `root`: throws IntegrityError
 * naming the file, the first line that is not an entry and what is wrong with it (or the
 * store entry of the wrong kind on the way).
 */
export async function checkDatumIndex(root: string, path: string, pipeline: string): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw await wrongKindError(err, root, path, "file");
  }
  const bad = malformedLines(text);
  if (bad.length === 0) return;
  const first = bad[0]!;
  const more = bad.length > 1 ? ` (and ${bad.length - 1} more line(s))` : "";
  throw new IntegrityError(
    `The datum index of pipeline "${pipeline}", ${path}, line ${first.line}, is not a ` +
      `datum index entry: ${first.problem}${more}; ${DROP_MALFORMED}`,
    {
      path: path,
      pipeline,
      line: first.line,
      problem: "malformed-datum-index",
      lines: bad.map((b) => b.line),
      repair: DROP_MALFORMED,
    },
  );
}
