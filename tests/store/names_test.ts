import assert from "node:assert/strict";
import {
  checkBranchName,
  checkNewBranchName,
  checkRepoName,
  didYouMean,
  editDistance,
  formatPath,
  MAX_PATH_BYTES,
  nearest,
  parsePath,
  parseRef,
} from "../../lib/store/names.ts";
import { InvalidArgumentError } from "../../lib/errors.ts";

/** Assert that `fn` throws InvalidArgumentError whose message names `culprit`. */
function assertInvalid(fn: () => unknown, culprit?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.equal(err.exitCode, 2);
    if (culprit !== undefined) assert.ok(err.message.includes(culprit), err.message);
    return true;
  });
}

Deno.test('checkRepoName() refuses "/" and names the repo', () => {
  assertInvalid(() => checkRepoName("a/b"), '"a/b"');
});

Deno.test("checkRepoName() refuses a space", () => {
  assertInvalid(() => checkRepoName("my repo"), '"my repo"');
});

Deno.test("checkRepoName() refuses 64 characters", () => {
  assertInvalid(() => checkRepoName("a".repeat(64)));
});

Deno.test("checkRepoName() refuses an empty name", () => {
  assertInvalid(() => checkRepoName(""));
});

Deno.test("checkRepoName() accepts 63 characters", () => {
  const name = "a".repeat(63);
  assert.equal(checkRepoName(name), name);
});

Deno.test("checkRepoName() accepts letters, digits, _ and -", () => {
  assert.equal(checkRepoName("Iris_data-2"), "Iris_data-2");
});

Deno.test("checkRepoName() records the repo in the error data", () => {
  assert.throws(() => checkRepoName("a b"), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.data.repo, "a b");
    return true;
  });
});

Deno.test("checkBranchName() refuses a name that looks like a commit id", () => {
  assertInvalid(() => checkBranchName("ab".repeat(32)));
});

Deno.test("checkNewBranchName() refuses 4 or more hex digits, which read as a commit id prefix", () => {
  for (const name of ["cafe", "deadbeef", "00b32468", "0123456789abcdef0123"]) {
    assertInvalid(() => checkNewBranchName(name), `"${name}"`);
    assert.equal(checkBranchName(name), name, "a branch made before the rule stays usable");
  }
  for (const name of ["abc", "cafe-1", "dead_beef", "CAFE", "feature", "master"]) {
    assert.equal(checkNewBranchName(name), name);
  }
  assertInvalid(() => checkNewBranchName("HEAD"), '"HEAD"');
});

Deno.test('checkBranchName() refuses "HEAD", which git and tusk users read as a reference', () => {
  assertInvalid(() => checkBranchName("HEAD"), '"HEAD"');
});

Deno.test('checkBranchName() refuses a name starting with "-"', () => {
  assertInvalid(() => checkBranchName("-x"), '"-x"');
});

Deno.test("checkBranchName() refuses an ancestry reference and names it", () => {
  assertInvalid(() => checkBranchName("HEAD~1"), '"HEAD~1"');
  assertInvalid(() => checkBranchName("master^"), '"master^"');
});

Deno.test('checkBranchName() accepts "head", "dev-1" and "a_b"', () => {
  for (const name of ["head", "dev-1", "a_b", "x-"]) assert.equal(checkBranchName(name), name);
});

Deno.test('checkBranchName() refuses "/"', () => {
  assertInvalid(() => checkBranchName("feature/x"), "feature/x");
});

Deno.test('parsePath() refuses ".." and names the path', () => {
  assertInvalid(() => parsePath("/a/../b"), "/a/../b");
});

Deno.test('parsePath() refuses "." and names the path', () => {
  assertInvalid(() => parsePath("/a/./b"), "/a/./b");
});

Deno.test("parsePath() refuses a NUL byte", () => {
  assertInvalid(() => parsePath("/a\0b"));
});

Deno.test("parsePath() refuses a control character", () => {
  assertInvalid(() => parsePath("/a\nb"));
});

Deno.test("parsePath() refuses a lone surrogate, which would be stored as U+FFFD", () => {
  assertInvalid(() => parsePath("/a\uD800b"));
  assertInvalid(() => parsePath("/\uDC00"));
  // A whole surrogate pair is a character like any other.
  assert.deepEqual(parsePath("/\u{1F418}"), ["\u{1F418}"]);
});

Deno.test("parsePath() for storing refuses U+FFFD, which is what bytes that are not UTF-8 become", () => {
  assertInvalid(() => parsePath("/x\uFFFD", { storing: true }), "U+FFFD");
  assertInvalid(() => parsePath("/dir/\uFFFD.csv/a", { storing: true }), "U+FFFD");
});

Deno.test("parsePath() for reading accepts U+FFFD, so a name stored before stays reachable", () => {
  assert.deepEqual(parsePath("/x\uFFFD"), ["x\uFFFD"]);
});

Deno.test("parsePath() refuses DEL", () => {
  assertInvalid(() => parsePath("/a\x7fb"));
});

Deno.test('parsePath() refuses an empty segment in "a//b"', () => {
  assertInvalid(() => parsePath("a//b"), "a//b");
});

Deno.test("parsePath() refuses a segment over 255 bytes", () => {
  assertInvalid(() => parsePath(`/d/${"x".repeat(256)}`));
});

Deno.test("parsePath() accepts a segment of exactly 255 bytes", () => {
  assert.deepEqual(parsePath(`/${"x".repeat(255)}`), ["x".repeat(255)]);
});

Deno.test("parsePath() counts multi-byte UTF-8 in bytes, not characters", () => {
  const name = "é".repeat(128); // 128 characters, 256 bytes
  assert.equal(name.length, 128);
  assertInvalid(() => parsePath(`/${name}`));
});

Deno.test("parsePath() accepts multi-byte UTF-8 within 255 bytes", () => {
  const name = "é".repeat(127); // 254 bytes
  assert.deepEqual(parsePath(`/${name}`), [name]);
});

Deno.test('parsePath() normalises "/a/b/" to ["a", "b"]', () => {
  assert.deepEqual(parsePath("/a/b/"), ["a", "b"]);
});

Deno.test('parsePath() normalises "a/b" to ["a", "b"]', () => {
  assert.deepEqual(parsePath("a/b"), ["a", "b"]);
});

Deno.test('parsePath() gives no segments for "/"', () => {
  assert.deepEqual(parsePath("/"), []);
});

Deno.test("parsePath() records the path in the error data", () => {
  assert.throws(() => parsePath("a/../b"), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.data.path, "a/../b");
    return true;
  });
});

Deno.test("formatPath() roots the segments at /", () => {
  assert.equal(formatPath(["a", "b"]), "/a/b");
  assert.equal(formatPath([]), "/");
});

Deno.test("parseRef() reads a bare repo as its master branch", () => {
  assert.deepEqual(parseRef("training"), {
    repo: "training",
    ref: "master",
    ancestry: 0,
    path: undefined,
  });
});

Deno.test("parseRef() uses the default ref given for a bare repo", () => {
  assert.equal(parseRef("training", "dev").ref, "dev");
});

Deno.test("parseRef() reads repo@branch", () => {
  assert.deepEqual(parseRef("training@dev"), {
    repo: "training",
    ref: "dev",
    ancestry: 0,
    path: undefined,
  });
});

Deno.test("parseRef() reads repo@branch:/path", () => {
  assert.deepEqual(parseRef("training@master:/data/iris.csv"), {
    repo: "training",
    ref: "master",
    ancestry: 0,
    path: "/data/iris.csv",
  });
});

Deno.test("parseRef() reads repo@master^ as one generation back", () => {
  const r = parseRef("training@master^");
  assert.equal(r.ref, "master");
  assert.equal(r.ancestry, 1);
});

Deno.test("parseRef() reads repo@master^2 as two generations back", () => {
  const r = parseRef("training@master^2");
  assert.equal(r.ref, "master");
  assert.equal(r.ancestry, 2);
});

Deno.test("parseRef() reads repo@master~3 as three generations back", () => {
  const r = parseRef("training@master~3");
  assert.equal(r.ref, "master");
  assert.equal(r.ancestry, 3);
});

Deno.test("parseRef() adds up repeated ancestry markers", () => {
  assert.equal(parseRef("training@master^^~2").ancestry, 4);
});

Deno.test("parseRef() keeps the path after an ancestry marker", () => {
  const r = parseRef("training@master^:/iris.csv");
  assert.equal(r.ancestry, 1);
  assert.equal(r.path, "/iris.csv");
});

Deno.test("parseRef() refuses an invalid repo name", () => {
  assertInvalid(() => parseRef("bad repo@master"), "bad repo");
});

Deno.test('parseRef() refuses an empty ref after "@"', () => {
  assertInvalid(() => parseRef("training@"), "training@");
});

Deno.test("editDistance() counts single-character edits", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("same", "same"), 0);
});

Deno.test("nearest() suggests the closest candidate for a typo", () => {
  assert.equal(nearest("trainig", ["inference", "training", "model"]), "training");
});

Deno.test("nearest() ignores case", () => {
  assert.equal(nearest("TRAINING", ["training"]), "training");
});

Deno.test("nearest() suggests nothing when no candidate is close", () => {
  assert.equal(nearest("zzzzzzzz", ["training", "inference"]), undefined);
});

Deno.test("nearest() suggests nothing without candidates", () => {
  assert.equal(nearest("training", []), undefined);
});

Deno.test("didYouMean() phrases the suggestion", () => {
  assert.equal(didYouMean("trainig", ["training"]), ': did you mean "training"?');
});

Deno.test("didYouMean() is empty when there is nothing to suggest", () => {
  assert.equal(didYouMean("trainig", ["zzzzzzzzzz"]), "");
});

/** A path of exactly `bytes` UTF-8 bytes, of 3-byte characters where they fit. */
function pathOfBytes(bytes: number): string {
  const segments: string[] = [];
  let left = bytes;
  while (left > 0) {
    const take = Math.min(left - 1, 252);
    segments.push("€".repeat(Math.floor(take / 3)) + "x".repeat(take % 3));
    left -= take + 1;
  }
  return "/" + segments.join("/");
}

Deno.test("parsePath() for storing takes a path of MAX_PATH_BYTES UTF-8 bytes and refuses one more", () => {
  const longest = pathOfBytes(MAX_PATH_BYTES);
  assert.equal(new TextEncoder().encode(longest).length, MAX_PATH_BYTES);
  assert.ok(parsePath(longest, { storing: true }).length > 1);
  const over = pathOfBytes(MAX_PATH_BYTES + 1);
  assert.throws(
    () => parsePath(over, { storing: true }),
    (e) => e instanceof InvalidArgumentError && e.data.limit === MAX_PATH_BYTES,
  );
  // Reading takes it: a path stored before the limit stays reachable.
  assert.ok(parsePath(over).length > 1);
});
