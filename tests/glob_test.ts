import assert from "node:assert/strict";
import { globToRegExp } from "../lib/glob.ts";
import { InvalidArgumentError } from "../lib/errors.ts";

const paths = ["/", "/a", "/b", "/ab", "/a/x", "/a/y", "/b/x", "/a/x/deep", "/c.csv"];

function matching(pattern: string): string[] {
  const re = globToRegExp(pattern);
  return paths.filter((p) => re.test(p));
}

Deno.test('globToRegExp() "/*" matches top-level entries only', () => {
  assert.deepEqual(matching("/*"), ["/a", "/b", "/ab", "/c.csv"]);
});

Deno.test('globToRegExp() "/*/*" matches second-level entries only', () => {
  assert.deepEqual(matching("/*/*"), ["/a/x", "/a/y", "/b/x"]);
});

Deno.test('globToRegExp() "/**" matches every path below the root', () => {
  assert.deepEqual(matching("/**"), paths.filter((p) => p !== "/"));
});

Deno.test('globToRegExp() "/*" does not match the root itself', () => {
  assert.equal(globToRegExp("/*").test("/"), false);
});

Deno.test('globToRegExp() "/a/**" matches everything under /a', () => {
  assert.deepEqual(matching("/a/**"), ["/a/x", "/a/y", "/a/x/deep"]);
});

Deno.test('globToRegExp() "?" matches exactly one character within a segment', () => {
  assert.deepEqual(matching("/?"), ["/a", "/b"]);
});

Deno.test('globToRegExp() "[ab]" matches one of the listed characters', () => {
  assert.deepEqual(matching("/[ab]"), ["/a", "/b"]);
});

Deno.test('globToRegExp() "[!a]" matches any character but the listed ones', () => {
  assert.deepEqual(matching("/[!a]"), ["/b"]);
});

Deno.test('globToRegExp() "[a-b]" matches a range', () => {
  assert.deepEqual(matching("/[a-b]/x"), ["/a/x", "/b/x"]);
});

Deno.test('globToRegExp() treats "." literally', () => {
  assert.deepEqual(matching("/c.csv"), ["/c.csv"]);
  assert.equal(globToRegExp("/c.csv").test("/cxcsv"), false);
});

Deno.test("globToRegExp() accepts a pattern without the leading /", () => {
  assert.deepEqual(matching("*"), matching("/*"));
});

Deno.test('globToRegExp() "/" matches only the root', () => {
  assert.deepEqual(matching("/"), ["/"]);
});

Deno.test('globToRegExp() refuses an unclosed "[" and names the pattern', () => {
  assert.throws(() => globToRegExp("/[ab"), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.equal(err.data.glob, "/[ab");
    assert.ok(err.message.includes("/[ab"));
    return true;
  });
});

Deno.test('globToRegExp() "**", "*" and "?" match names holding U+2028 and U+2029', () => {
  const odd = ["/a/line\u2028sep", "/a/para\u2029sep/deep"];
  for (const p of odd) assert.ok(globToRegExp("/a/**").test(p), `/a/** matches ${p}`);
  assert.ok(globToRegExp("/a/*").test(odd[0]!));
  assert.ok(globToRegExp("/a/line?sep").test(odd[0]!));
});
