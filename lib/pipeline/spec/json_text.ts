/**
 * Reading a spec file's JSON text: a syntax error is located (line and column, with what
 * was expected, which `JSON.parse` does not always say), and a key given twice in one
 * object is refused (`JSON.parse` keeps the last, so one of the two values would be dropped
 * without a word).
 */
import { joinPath, specError } from "./_check.ts";

/** The JSON value of a spec file's text (a byte order mark is skipped); `file` is named in errors. */
export function parseJsonText(text: string, file?: string): unknown {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const found = scanJson(body).broken;
    const { line, column } = lineAndColumn(body, found?.offset ?? body.length);
    const where = file === undefined
      ? `at line ${line}, column ${column}`
      : `in "${file}" at line ${line}, column ${column}`;
    throw specError(
      "BAD_JSON",
      `Invalid JSON ${where}: ${found?.reason ?? "the text is not valid JSON"}; fix the syntax`,
      "",
      { file, line, column },
    );
  }
  // JSON.parse keeps the last of two equal keys: one of the two values would be dropped.
  const twice = scanJson(body).twice;
  if (twice) {
    const { line, column } = lineAndColumn(body, twice.offset);
    const where = file === undefined ? "" : ` in "${file}"`;
    throw specError(
      "DUPLICATE_KEY",
      `Key ${JSON.stringify(twice.key)} is given twice at "${twice.path}"${where} ` +
        `(line ${line}, column ${column}): keep one`,
      twice.path,
      { file, line, column },
    );
  }
  return json;
}

/** The 1-based line and column of `offset` in `text`. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/**
 * Deepest nesting the scanner follows, well inside the call stack (a spec is refused far
 * sooner by the field table's own limit, naming the path).
 */
const MAX_SCAN_DEPTH = 1_000;

/** What a scan of a JSON text finds: where it breaks, and the first key given twice in an object. */
interface Scan {
  readonly broken?: { readonly offset: number; readonly reason: string };
  readonly twice?: { readonly path: string; readonly key: string; readonly offset: number };
}

/** Scan a JSON text as `JSON.parse` reads it, noting what `JSON.parse` does not say. */
function scanJson(s: string): Scan {
  let i = 0;
  let twice: Scan["twice"];
  class Stop {
    constructor(readonly offset: number, readonly reason: string) {}
  }
  const stop = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const ws = () => {
    while (i < s.length && " \t\n\r".includes(s[i]!)) i++;
  };
  const char = () => (i < s.length ? JSON.stringify(s[i]) : "the end of the text");
  const str = () => {
    i++;
    while (true) {
      if (i >= s.length) stop("a string is not closed");
      const ch = s[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < " ") stop("a control character inside a string: escape it");
      if (ch === "\\") {
        const e = s[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) stop("invalid \\u escape");
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else stop("invalid escape in a string");
      } else i++;
    }
  };
  const value = (path: string, depth: number): void => {
    if (depth > MAX_SCAN_DEPTH) stop("nested too deeply");
    ws();
    const ch = s[i];
    if (ch === "{" || ch === "[") {
      const close = ch === "{" ? "}" : "]";
      i++;
      ws();
      if (s[i] === close) {
        i++;
        return;
      }
      const seen = new Set<string>();
      for (let n = 0;; n++) {
        let here = `${path}[${n}]`;
        if (close === "}") {
          ws();
          if (s[i] !== '"') stop(`expected a string key, found ${char()}`);
          const offset = i;
          str();
          const key = JSON.parse(s.slice(offset, i)) as string;
          here = joinPath(path, key);
          if (seen.has(key)) twice ??= { path: here, key, offset };
          seen.add(key);
          ws();
          if (s[i] !== ":") stop(`expected ":" after the key, found ${char()}`);
          i++;
        }
        value(here, depth + 1);
        ws();
        if (s[i] === ",") {
          i++;
          continue;
        }
        if (s[i] === close) {
          i++;
          return;
        }
        stop(`expected "," or "${close}", found ${char()}`);
      }
    }
    if (ch === '"') return str();
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (ch !== undefined && /[-0-9]/.test(ch)) {
      if (!number.test(s)) stop("invalid number");
      i = number.lastIndex;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (s.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    stop(`expected a value, found ${char()}`);
  };
  try {
    value("", 0);
    ws();
    if (i < s.length) stop(`unexpected ${char()} after the JSON value`);
    return twice === undefined ? {} : { twice };
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const broken = { offset: err.offset, reason: err.reason };
    return twice === undefined ? { broken } : { broken, twice };
  }
}
