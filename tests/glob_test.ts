import assert from "node:assert/strict";
import fc from "fast-check";
import { compileGlob } from "../lib/glob.ts";
import { InvalidArgumentError } from "../lib/errors.ts";

const paths = ["/", "/a", "/b", "/ab", "/a/x", "/a/y", "/b/x", "/a/x/deep", "/c.csv"];

function matching(pattern: string): string[] {
  const glob = compileGlob(pattern);
  return paths.filter((p) => glob.test(p));
}

Deno.test('compileGlob() "/*" matches top-level entries only', () => {
  assert.deepEqual(matching("/*"), ["/a", "/b", "/ab", "/c.csv"]);
});

Deno.test('compileGlob() "/*/*" matches second-level entries only', () => {
  assert.deepEqual(matching("/*/*"), ["/a/x", "/a/y", "/b/x"]);
});

Deno.test('compileGlob() "/**" matches every path below the root', () => {
  assert.deepEqual(matching("/**"), paths.filter((p) => p !== "/"));
});

Deno.test('compileGlob() "/*" does not match the root itself', () => {
  assert.equal(compileGlob("/*").test("/"), false);
});

Deno.test('compileGlob() "/a/**" matches everything under /a', () => {
  assert.deepEqual(matching("/a/**"), ["/a/x", "/a/y", "/a/x/deep"]);
});

Deno.test('compileGlob() "?" matches exactly one character within a segment', () => {
  assert.deepEqual(matching("/?"), ["/a", "/b"]);
});

Deno.test('compileGlob() "[ab]" matches one of the listed characters', () => {
  assert.deepEqual(matching("/[ab]"), ["/a", "/b"]);
});

Deno.test('compileGlob() "[!a]" matches any character but the listed ones', () => {
  assert.deepEqual(matching("/[!a]"), ["/b"]);
});

Deno.test('compileGlob() "[a-b]" matches a range', () => {
  assert.deepEqual(matching("/[a-b]/x"), ["/a/x", "/b/x"]);
});

Deno.test('compileGlob() treats "." literally', () => {
  assert.deepEqual(matching("/c.csv"), ["/c.csv"]);
  assert.equal(compileGlob("/c.csv").test("/cxcsv"), false);
});

Deno.test("compileGlob() accepts a pattern without the leading /", () => {
  assert.deepEqual(matching("*"), matching("/*"));
});

Deno.test('compileGlob() "/" matches only the root', () => {
  assert.deepEqual(matching("/"), ["/"]);
});

Deno.test('compileGlob() refuses an unclosed "[" and names the pattern', () => {
  assert.throws(() => compileGlob("/[ab"), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.equal(err.data.glob, "/[ab");
    assert.ok(err.message.includes("/[ab"));
    return true;
  });
});

Deno.test('compileGlob() "**", "*" and "?" match names holding U+2028 and U+2029', () => {
  const odd = ["/a/line\u2028sep", "/a/para\u2029sep/deep"];
  for (const p of odd) assert.ok(compileGlob("/a/**").test(p), `/a/** matches ${p}`);
  assert.ok(compileGlob("/a/*").test(odd[0]!));
  assert.ok(compileGlob("/a/line?sep").test(odd[0]!));
});

Deno.test("compileGlob() refuses unbalanced parentheses and a bad class, naming the pattern", () => {
  for (const pattern of ["/(*.csv", "/*).csv", "/[z-a]"]) {
    assert.throws(() => compileGlob(pattern), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, pattern);
      assert.equal(err.data.glob, pattern);
      return true;
    });
  }
});

Deno.test("compileGlob() captures as a backtracking matcher would: each star as much as it can", () => {
  const glob = compileGlob("/(*)_(*).csv");
  assert.equal(glob.groups, 2);
  assert.deepEqual(glob.match("/a_b_c.csv"), ["/a_b_c.csv", "a_b", "c"]);
  assert.deepEqual(compileGlob("/(**/)(*)").match("/x/y/z"), ["/x/y/z", "x/y/", "z"]);
  assert.deepEqual(compileGlob("/(**)/(*)").match("/x/y/z"), ["/x/y/z", "x/y", "z"]);
  assert.deepEqual(compileGlob("/(**/)(**)").match("/x/y/z"), ["/x/y/z", "x/y/", "z"]);
  assert.deepEqual(compileGlob("/((?)*)").match("/abc"), ["/abc", "abc", "a"]);
  assert.equal(compileGlob("/(*)_(*).csv").match("/abc.csv"), null);
});

/**
 * The matcher glob.ts had before: the pattern compiled to a backtracking RegExp. Kept here
 * as the reference the linear matcher must agree with.
 */
function regExpGlob(pattern: string): RegExp {
  let p = pattern.startsWith("/") ? pattern : "/" + pattern;
  if (p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
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
      if (end < 0) throw new Error("unclosed [");
      let body = p.slice(i + 1, end);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "(" || c === ")") re += c;
    else re += c.replace(/[.+^${}|\\]/g, "\\$&");
  }
  return new RegExp(re + "$", "s");
}

const PATTERN_PARTS = [
  ...["a", "b", "/", "_", ".", "*", "**", "**/", "?", "[ab]", "[!a]", "(", ")"],
  ...["(*)", "(**)", "(**/)", "(?)", "(a*)"],
];
const PATH_UNITS = ["a", "b", "/", "_", "."];

/** Check `compileGlob()` against the RegExp matcher on random patterns of `parts` parts. */
function agreesWithRegExp(
  parts: { minLength: number; maxLength: number; from: readonly string[] },
  numRuns: number,
): void {
  const { from, ...length } = parts;
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...from), length).map((a) => a.join("")),
      fc.array(
        fc.array(fc.constantFrom(...PATH_UNITS), { maxLength: 9 }).map((a) => "/" + a.join("")),
        { minLength: 1, maxLength: 8 },
      ),
      (pattern, paths) => {
        let old: RegExp;
        try {
          old = regExpGlob(pattern);
        } catch {
          assert.throws(() => compileGlob(pattern), InvalidArgumentError, pattern);
          return;
        }
        const glob = compileGlob(pattern);
        for (const path of paths) {
          const want = old.exec(path);
          const got = glob.match(path);
          assert.deepEqual(got, want ? [...want] : null, `${pattern} on ${path}`);
          assert.equal(glob.test(path), want !== null);
        }
      },
    ),
    { numRuns },
  );
}

Deno.test("compileGlob() agrees with the RegExp matcher on small patterns and paths, captures included", () => {
  agreesWithRegExp({ minLength: 0, maxLength: 8, from: PATTERN_PARTS }, 3000);
});

Deno.test("compileGlob() agrees with the RegExp matcher on patterns of 31 tokens or more, matched by table", () => {
  // Parts that may match nothing, so that long patterns still match short paths, and whole
  // groups: of 31 parts or more, loose parentheses would hardly ever balance.
  const parts = ["*", "**", "**/", "(*)", "(**)", "(**/)", "()", "?"];
  agreesWithRegExp({ minLength: 31, maxLength: 40, from: parts }, 500);
});

Deno.test("compileGlob() matches a pattern of many stars against a long name in steps linear in its length", () => {
  // As a RegExp, 5 stars against 250 characters took about 45 s, and each star multiplies it.
  const name = "/" + "_".repeat(5000);
  for (
    const pattern of ["/*_*_*_*_*.csv", "/" + "*_".repeat(20) + "*.csv", "/(*)_(*)_(*)_(*).csv"]
  ) {
    const steps = { count: 0 };
    const glob = compileGlob(pattern);
    assert.equal(glob.match(name, { steps }), null, pattern);
    const cells = (pattern.length + 1) * (name.length + 1);
    assert.ok(steps.count <= 2 * cells, `${pattern}: ${steps.count} steps for ${cells} cells`);
  }
  const steps = { count: 0 };
  const m = compileGlob("/(*)_(*)_(*)_(*).csv").match(`${name}.csv`, { steps });
  assert.deepEqual(m?.slice(2), ["", "", ""], "the first star takes all it can");
  assert.ok(steps.count <= 2 * 25 * (name.length + 5), `${steps.count} steps`);
});
