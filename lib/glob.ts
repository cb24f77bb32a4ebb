/**
 * Pachyderm's glob patterns over `/`-rooted paths: `*` and `?` stay within one segment,
 * `**` spans any number of segments, `[abc]`, `[a-z]` and `[!a]` match one character, and
 * parentheses capture (for `joinOn` / `groupBy` keys like `$1`).
 *
 * Matching takes time linear in the path for a given pattern, whatever both hold: a pattern
 * is a sequence of tokens, and one table of (token, position) cells, filled from the end,
 * says which rests of the path the rest of the pattern matches. A path name comes from
 * whoever puts data, so a backtracking matcher (a RegExp, where `/*_*_*_*_*.csv` against a
 * 250-character name takes minutes) would let one name stall the scheduler.
 *
 * The semantics are those of the regular expression the pattern reads as (`*` is
 * `[^/]*`, `**` is `.*` or, before a `/`, `(?:.*\/)?` with that `/`, `?` is `[^/]`, by
 * UTF-16 code unit):
 * captures are what a backtracking matcher would give, each quantifier taking as much as
 * it can while the rest still matches. Pure.
 */
import { InvalidArgumentError } from "./errors.ts";

/** One step of a pattern. */
type Token =
  /** One given code unit. */
  | { readonly kind: "char"; readonly unit: number }
  /** `?`: one code unit but `/`. */
  | { readonly kind: "one" }
  /** `[…]`: one code unit the class takes. */
  | { readonly kind: "class"; readonly test: (unit: string) => boolean }
  /** `*`: any run of code units without `/`. */
  | { readonly kind: "star" }
  /** `**` (not before `/`): any run of code units. */
  | { readonly kind: "any" }
  /** `**` then `/`: nothing, or any run of code units ending with `/`. */
  | { readonly kind: "dirs" }
  /** `(` and `)` of capture group `group` (1-based). */
  | { readonly kind: "open" | "close"; readonly group: number };

const SLASH = 0x2f;

/** What `Glob.match()` gives: the path, then capture group 1, 2, … (as `RegExp.exec()`). */
export type GlobMatch = readonly string[];

/** Options of `Glob.match()`. */
export interface GlobMatchOptions {
  /** Counts the matcher's steps, for tests that bound its work. */
  readonly steps?: { count: number };
}

/** A compiled glob pattern. */
export interface Glob {
  /** The pattern as given. */
  readonly pattern: string;
  /** How many capture groups it has (`$1` … `$<groups>`). */
  readonly groups: number;
  /** Does `path` (`/`-rooted) match? */
  test(path: string): boolean;
  /** The path and its captures when it matches, else null. */
  match(path: string, options?: GlobMatchOptions): GlobMatch | null;
}

function invalid(pattern: string, why?: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `Invalid glob pattern "${pattern}"${why ? `: ${why}` : ""}`,
    { glob: pattern },
  );
}

/** The tokens of `pattern` and its group count; throws InvalidArgumentError for a bad one. */
function tokenize(pattern: string): { tokens: Token[]; groups: number; root: boolean } {
  let p = pattern.startsWith("/") ? pattern : "/" + pattern;
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  const tokens: Token[] = [];
  const open: number[] = [];
  let groups = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      if (p[i + 1] === "*") {
        i++;
        if (p[i + 1] === "/") {
          i++;
          tokens.push({ kind: "dirs" });
        } else tokens.push({ kind: "any" });
      } else tokens.push({ kind: "star" });
    } else if (c === "?") tokens.push({ kind: "one" });
    else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) throw invalid(pattern, '"[" is not closed');
      let body = p.slice(i + 1, end);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      let re: RegExp;
      try {
        // One character class, tried on one code unit at a time: no backtracking.
        re = new RegExp(`^[${body.replace(/\\/g, "\\\\")}]$`, "s");
      } catch {
        throw invalid(pattern, `"[${p.slice(i + 1, end)}]" is not a valid character class`);
      }
      tokens.push({ kind: "class", test: (unit) => re.test(unit) });
      i = end;
    } else if (c === "(") {
      groups++;
      open.push(groups);
      tokens.push({ kind: "open", group: groups });
    } else if (c === ")") {
      const group = open.pop();
      if (group === undefined) throw invalid(pattern, '")" closes no "("');
      tokens.push({ kind: "close", group });
    } else tokens.push({ kind: "char", unit: c.charCodeAt(0) });
  }
  if (open.length > 0) throw invalid(pattern, '"(" is not closed');
  return { tokens, groups, root: p === "/" };
}

/** Compile a glob pattern. Throws InvalidArgumentError naming a pattern that is not one. */
export function compileGlob(pattern: string): Glob {
  const { tokens, groups, root } = tokenize(pattern);
  const t = tokens.length;

  /**
   * The table: `ok[k * (n + 1) + i]` is 1 when tokens k… match `path` from code unit i to
   * its end. One pass per token, from the last, each cell in constant time.
   */
  const table = (path: string, steps: { count: number } | undefined): Uint8Array => {
    const n = path.length;
    const w = n + 1;
    const ok = new Uint8Array((t + 1) * w);
    ok[t * w + n] = 1;
    for (let k = t - 1; k >= 0; k--) {
      const tok = tokens[k]!;
      const row = k * w;
      const next = (k + 1) * w;
      let dirs = 0; // for "dirs": some j > i with path[j - 1] === "/" and ok[next + j]
      for (let i = n; i >= 0; i--) {
        const unit = i < n ? path.charCodeAt(i) : -1;
        let v = 0;
        switch (tok.kind) {
          case "char":
            v = unit === tok.unit ? ok[next + i + 1]! : 0;
            break;
          case "one":
            v = unit >= 0 && unit !== SLASH ? ok[next + i + 1]! : 0;
            break;
          case "class":
            v = unit >= 0 && tok.test(path[i]!) ? ok[next + i + 1]! : 0;
            break;
          case "star":
            v = ok[next + i]! || (unit >= 0 && unit !== SLASH ? ok[row + i + 1]! : 0);
            break;
          case "any":
            v = ok[next + i]! || (unit >= 0 ? ok[row + i + 1]! : 0);
            break;
          case "dirs":
            if (unit === SLASH && ok[next + i + 1]) dirs = 1;
            v = ok[next + i]! || dirs;
            break;
          case "open":
          case "close":
            v = ok[next + i]!;
        }
        ok[row + i] = v;
      }
      if (steps) steps.count += w;
    }
    return ok;
  };

  const match = (path: string, options: GlobMatchOptions = {}): GlobMatch | null => {
    // The root "/" is a datum only for the pattern "/" itself; "/*" and "/**" match below it.
    if (path === "/" && !root) return null;
    const ok = table(path, options.steps);
    if (!ok[0]) return null;
    const out: string[] = [path];
    if (groups === 0) return out;
    // Walk the table from the start: each quantifier takes the longest run after which the
    // rest still matches, as a backtracking matcher's first success does.
    const n = path.length;
    const w = n + 1;
    const starts: number[] = [];
    let i = 0;
    let steps = 0;
    for (let k = 0; k < t; k++) {
      const tok = tokens[k]!;
      const next = (k + 1) * w;
      switch (tok.kind) {
        case "char":
        case "one":
        case "class":
          i++;
          break;
        case "star": {
          let end = i;
          while (end < n && path.charCodeAt(end) !== SLASH) end++;
          steps += end - i;
          while (!ok[next + end]) end--;
          i = end;
          break;
        }
        case "any": {
          let end = n;
          steps += n - i;
          while (!ok[next + end]) end--;
          i = end;
          break;
        }
        case "dirs": {
          let end = n;
          steps += n - i;
          while (end > i && !(path.charCodeAt(end - 1) === SLASH && ok[next + end])) end--;
          i = end;
          break;
        }
        case "open":
          starts[tok.group] = i;
          break;
        case "close":
          out[tok.group] = path.slice(starts[tok.group]!, i);
      }
      steps++;
    }
    if (options.steps) options.steps.count += steps;
    return out;
  };

  return {
    pattern,
    groups,
    test: (path) => match(path) !== null,
    match,
  };
}
