/**
 * Pachyderm's glob patterns over `/`-rooted paths: `*` and `?` stay within one segment,
 * `**` spans any number of segments, `[abc]`, `[a-z]` and `[!a]` match one character, and
 * parentheses capture (for `joinOn` / `groupBy` keys like `$1`).
 *
 * Matching takes time linear in the path for a given pattern, whatever both hold: a pattern
 * is a sequence of tokens read as an automaton, run over the path once with the set of
 * states it may be in; for captures, one table of (token, position) cells, filled from the
 * end, says which rests of the path the rest of the pattern matches. A path name comes from
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

/** Token kinds as numbers, for the matcher's inner loops. */
const CHAR = 0, ONE = 1, CLASS = 2, STAR = 3, ANY = 4, DIRS = 5, OPEN = 6, CLOSE = 7;
const KIND = {
  char: CHAR,
  one: ONE,
  class: CLASS,
  star: STAR,
  any: ANY,
  dirs: DIRS,
  open: OPEN,
  close: CLOSE,
};

/** Compile a glob pattern. Throws InvalidArgumentError naming a pattern that is not one. */
export function compileGlob(pattern: string): Glob {
  const { tokens, groups, root } = tokenize(pattern);
  const t = tokens.length;
  /** Each token's kind; its code unit (`char`) or group (`open`, `close`); its class test. */
  const kinds = Uint8Array.from(tokens, (tok) => KIND[tok.kind]);
  const units = Int32Array.from(
    tokens,
    (tok) =>
      tok.kind === "char" ? tok.unit : tok.kind === "open" || tok.kind === "close" ? tok.group : -1,
  );
  const tests = tokens.map((tok) => tok.kind === "class" ? tok.test : () => false);

  let cells = new Uint8Array(0);
  /**
   * The table: `ok[k * (n + 1) + i]` is 1 when tokens k… match `path` from code unit i to
   * its end. One pass per token, from the last, each cell in constant time. The buffer is
   * reused by the next call (matching is synchronous).
   */
  const table = (path: string, steps: { count: number } | undefined): Uint8Array => {
    const n = path.length;
    const w = n + 1;
    const size = (t + 1) * w;
    if (cells.length < size) cells = new Uint8Array(size);
    const ok = cells;
    ok.fill(0, 0, size);
    ok[t * w + n] = 1;
    for (let k = t - 1; k >= 0; k--) {
      const kind = kinds[k]!;
      const unitOf = units[k]!;
      const row = k * w;
      const next = (k + 1) * w;
      let dirs = 0; // for DIRS: some j > i with path[j - 1] === "/" and ok[next + j]
      for (let i = n; i >= 0; i--) {
        const unit = i < n ? path.charCodeAt(i) : -1;
        let v = 0;
        switch (kind) {
          case CHAR:
            v = unit === unitOf ? ok[next + i + 1]! : 0;
            break;
          case ONE:
            v = unit >= 0 && unit !== SLASH ? ok[next + i + 1]! : 0;
            break;
          case CLASS:
            v = unit >= 0 && tests[k]!(path[i]!) ? ok[next + i + 1]! : 0;
            break;
          case STAR:
            v = ok[next + i]! || (unit >= 0 && unit !== SLASH ? ok[row + i + 1]! : 0);
            break;
          case ANY:
            v = ok[next + i]! || (unit >= 0 ? ok[row + i + 1]! : 0);
            break;
          case DIRS:
            if (unit === SLASH && ok[next + i + 1]) dirs = 1;
            v = ok[next + i]! || dirs;
            break;
          default: // OPEN, CLOSE
            v = ok[next + i]!;
        }
        ok[row + i] = v;
      }
      if (steps) steps.count += w;
    }
    return ok;
  };

  // The automaton: state k is "tokens k… match the rest of the path", state t accepts. A
  // set of states is a bit mask when there are few enough; longer patterns use the table.
  // `after[k]` is the mask of k and the states reachable from it without reading a
  // character (past `*`, `**`, `(`, `)`).
  const small = t < 31;
  const after = new Int32Array(t + 2);
  for (let k = t; k >= 0; k--) {
    const skips = k < t && kinds[k]! >= STAR;
    after[k] = (small ? 1 << k : 0) | (skips ? after[k + 1]! : 0);
  }

  /** Does `path` match, by bit masks? One pass over it, each code unit against each state. */
  const acceptsSmall = (path: string, steps: { count: number } | undefined): boolean => {
    let now = after[0]!;
    let dirs = 0; // DIRS tokens that began a run which must end with "/"
    for (let i = 0; i < path.length && (now | dirs) !== 0; i++) {
      const unit = path.charCodeAt(i);
      let next = 0;
      let nextDirs = 0;
      for (let m = now | dirs; m !== 0; m &= m - 1) {
        const k = 31 - Math.clz32(m & -m);
        if (k === t) continue;
        const at = (now >>> k) & 1;
        switch (kinds[k]) {
          case CHAR:
            if (at && unit === units[k]) next |= after[k + 1]!;
            break;
          case ONE:
            if (at && unit !== SLASH) next |= after[k + 1]!;
            break;
          case CLASS:
            if (at && tests[k]!(path[i]!)) next |= after[k + 1]!;
            break;
          case STAR:
            if (at && unit !== SLASH) next |= after[k]!;
            break;
          case ANY:
            if (at) next |= after[k]!;
            break;
          case DIRS:
            nextDirs |= 1 << k;
            if (unit === SLASH) next |= after[k + 1]!;
            break;
        }
        if (steps) steps.count++;
      }
      now = next;
      dirs = nextDirs;
    }
    return ((now >>> t) & 1) === 1;
  };

  const accepts = (path: string, steps: { count: number } | undefined): boolean =>
    small ? acceptsSmall(path, steps) : table(path, steps)[0] === 1;

  const match = (path: string, options: GlobMatchOptions = {}): GlobMatch | null => {
    // The root "/" is a datum only for the pattern "/" itself; "/*" and "/**" match below it.
    if (path === "/" && !root) return null;
    if (!accepts(path, options.steps)) return null;
    const out: string[] = [path];
    if (groups === 0) return out;
    // Without the automaton, `accepts()` has just filled the table.
    const ok = small ? table(path, options.steps) : cells;
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
          while (end > i && !ok[next + end]) end--;
          i = end;
          break;
        }
        case "any": {
          let end = n;
          steps += n - i;
          while (end > i && !ok[next + end]) end--;
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
    test: (path) => (path !== "/" || root) && accepts(path, undefined),
    match,
  };
}
