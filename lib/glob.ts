/**
 * Pachyderm's glob patterns over `/`-rooted paths: `*` and `?` stay within one segment,
 * `**` spans any number of segments, `[abc]`, `[a-z]` and `[!a]` match one character, and
 * parentheses capture (for `joinOn` / `groupBy` keys like `$1`).
 */
import { InvalidArgumentError } from "./errors.ts";

/** Compile a glob pattern to a RegExp over full `/`-rooted paths. */
export function globToRegExp(pattern: string): RegExp {
  let p = pattern.startsWith("/") ? pattern : "/" + pattern;
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  // The root "/" is a datum only for the pattern "/" itself; "/*" and "/**" match below it.
  let re = p === "/" ? "^" : "^(?!/$)";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      if (p[i + 1] === "*") {
        i++;
        if (p[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) {
        throw new InvalidArgumentError(`Invalid glob pattern "${pattern}": "[" is not closed`, {
          glob: pattern,
        });
      }
      let body = p.slice(i + 1, end);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "(" || c === ")") re += c;
    else re += c.replace(/[.+^${}|\\]/g, "\\$&");
  }
  re += "$";
  try {
    // "s": `**`'s `.*` also crosses U+2028 and U+2029, which names may hold.
    return new RegExp(re, "s");
  } catch {
    throw new InvalidArgumentError(`Invalid glob pattern "${pattern}"`, { glob: pattern });
  }
}
