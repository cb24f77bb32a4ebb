/**
 * The spec's hand type check against its zod schema, and `quickParseSpec()` (zod loaded only
 * to word a refusal) against `parseSpec()`: the same value, field order included, or the
 * same `SpecError`, over generated specs valid and not, and every JSON file under
 * `pipelines/` and `tests/fixtures/`.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { typedObject } from "../../lib/pipeline/spec/_typed_fields.ts";
import { SPEC_SCHEMA } from "../../lib/pipeline/spec/_schema.ts";
import { buildSpec } from "../../lib/pipeline/spec/_build.ts";
import { type FieldType, SPEC, type Table } from "../../lib/pipeline/spec/fields.ts";
import { parseSpec, parseSpecText } from "../../lib/pipeline/spec/parse_spec.ts";
import { quickParseSpec, quickParseSpecText } from "../../lib/pipeline/spec/quick_parse_spec.ts";
import { SpecError } from "../../lib/pipeline/spec/spec_error.ts";
import { ROOT, tempDir } from "../_helpers.ts";

const RUNS = 400;

/** Values that sit on the edge of some field type, JSON or not. */
const EDGES = [
  1.5,
  2 ** 53,
  2 ** 53 - 1,
  -(2 ** 53),
  -0,
  0,
  255,
  256,
  -1,
  "12",
  "-3",
  "-0",
  "1e3",
  "",
  " 1",
  "0x10",
  "9".repeat(400),
  Infinity,
  -Infinity,
  NaN,
  true,
  false,
  null,
  [],
  {},
  "until_success",
  "every_job",
  "600s",
  "512Mi",
];

const anyValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue(), fc.constantFrom(...EDGES));

/** An object's entries in a random order. */
function shuffled(entries: fc.Arbitrary<Record<string, unknown>>) {
  return entries.chain((o) =>
    fc.shuffledSubarray(Object.entries(o), { minLength: Object.keys(o).length })
      .map((e) => Object.fromEntries(e))
  );
}

const integerArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer() },
  { weight: 4, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constantFrom(...EDGES) },
);

/** A value for a field of `type`: mostly of its type, sometimes anything. */
function valueOf(type: FieldType, depth: number): fc.Arbitrary<unknown> {
  const mostly = (arb: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: anyValue });
  switch (type) {
    case "text":
      return mostly(fc.string());
    case "flag":
      return mostly(fc.boolean());
    case "integer":
      return integerArb;
    case "strings":
      return mostly(fc.array(mostly(fc.string()), { maxLength: 4 }));
    case "integers":
      return mostly(fc.array(integerArb, { maxLength: 4 }));
    case "env":
      return mostly(
        fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "1", "toString")),
          mostly(fc.string()),
          { maxKeys: 4, noNullPrototype: true },
        ),
      );
    case "duration":
    case "memory":
      return mostly(fc.oneof(fc.string(), fc.double(), fc.integer()));
    case "reprocess":
      return mostly(fc.constantFrom("until_success", "every_job", "until_success", "every"));
  }
  if ("list" in type) {
    return depth > 2
      ? fc.constant([])
      : mostly(fc.array(objectOf(type.list, depth + 1), { maxLength: 3 }));
  }
  return mostly(objectOf(type, depth + 1));
}

/** An object of `table` with any of its fields, in any order, of their types or not. */
function objectOf(table: Table, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(
    Object.entries(table.fields).map(([name, type]) => [name, valueOf(type, depth)]),
  );
  return shuffled(fc.record(fields, { requiredKeys: [] }));
}

/** The keys of every object in `v`, in order: what `deepStrictEqual` does not compare. */
function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (typeof v === "object" && v !== null) {
    return Object.entries(v).map(([k, x]) => [k, keyOrder(x)]);
  }
  return null;
}

function assertSameValue(got: unknown, want: unknown): void {
  assert.deepStrictEqual(got, want);
  assert.deepStrictEqual(keyOrder(got), keyOrder(want));
}

/** Does the spec's env (if typed as an object) hold a name the hand check leaves to zod? */
function hasOddEnvName(value: Record<string, unknown>): boolean {
  const t = value.transform;
  if (typeof t !== "object" || t === null) return false;
  const env = (t as Record<string, unknown>).env;
  return typeof env === "object" && env !== null &&
    (Object.hasOwn(env, "__proto__") || Object.hasOwn(env, "constructor"));
}

Deno.test("typedObject() gives what the zod schema gives for every spec it vouches for", () => {
  fc.assert(
    fc.property(objectOf(SPEC, 0), (value) => {
      const fast = typedObject(SPEC, value);
      if (fast === undefined) return;
      const slow = SPEC_SCHEMA.safeParse(value);
      assert.ok(slow.success, `zod refuses what the hand check took: ${slow.error}`);
      assertSameValue(fast, slow.data);
    }),
    { numRuns: RUNS * 5 },
  );
});

Deno.test("typedObject() vouches for every spec from JSON text the zod schema accepts", () => {
  let accepted = 0;
  fc.assert(
    fc.property(objectOf(SPEC, 0), (generated) => {
      const value = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>;
      const slow = SPEC_SCHEMA.safeParse(value);
      const fast = typedObject(SPEC, value);
      if (!slow.success) {
        assert.equal(fast, undefined);
        return;
      }
      accepted++;
      if (hasOddEnvName(value)) return; // left to zod, which accepts it
      assert.notEqual(fast, undefined, `the hand check refused ${JSON.stringify(value)}`);
      assertSameValue(fast, slow.data);
    }),
    { numRuns: RUNS * 5 },
  );
  assert.ok(accepted > RUNS / 8, `only ${accepted} generated specs were accepted`);
});

Deno.test("typedObject() leaves an environment variable named __proto__ to zod", () => {
  const value = JSON.parse('{"transform": {"env": {"__proto__": "x", "A": "1"}}}');
  assert.equal(typedObject(SPEC, value), undefined);
  assert.ok(SPEC_SCHEMA.safeParse(value).success);
});

/** The outcome of a parse: its value, or its error's class, message and data. */
async function outcome(parse: () => unknown): Promise<unknown> {
  try {
    return { value: await parse() };
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return {
      error: err.constructor.name,
      message: err.message,
      data: err instanceof SpecError ? err.toJSON() : undefined,
    };
  }
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `o` with some of its keys (at every depth) spelled snake_case and some fields null. */
function respelled(
  o: unknown,
  flips: fc.Arbitrary<boolean>,
): fc.Arbitrary<unknown> {
  if (Array.isArray(o)) return fc.tuple(...o.map((x) => respelled(x, flips)));
  if (typeof o !== "object" || o === null) return fc.constant(o);
  const entries = Object.entries(o).map(([k, v]) =>
    fc.tuple(flips, flips, respelled(v, flips)).map(([snake, nulled, x]) =>
      [snake ? snakeCase(k) : k, nulled && !REQUIRED.includes(k) ? null : x] as const
    )
  );
  return fc.tuple(...entries).map((e) => Object.fromEntries(e));
}

/** Fields a spec must have, never nulled by `respelled()`. */
const REQUIRED = ["pipeline", "name", "transform", "cmd", "input", "pfs", "repo"];

/** True about once in `n`. */
function oneIn(n: number): fc.Arbitrary<boolean> {
  return fc.integer({ min: 1, max: n }).map((x) => x === 1);
}

/** One of `valid` nine times in ten, else one of `invalid`. */
function mostlyFrom(valid: unknown[], invalid: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...valid) },
    { weight: 1, arbitrary: fc.constantFrom(...invalid) },
  );
}

/** Specs that are mostly valid: a name, a command and an input, then any other field. */
const specArb = fc.record({
  pipeline: fc.record({ name: mostlyFrom(["model", "inference", "p-1"], ["bad name"]) }),
  transform: shuffled(fc.record({
    cmd: fc.constantFrom(
      ["python3", "/code/pytrain.py", "/pfs/a/", "/pfs/out/"],
      ["deno", "run", "stage.ts", "/pfs/out/"],
      ["sh", "-c", "true"],
    ),
    image: fc.string({ maxLength: 8 }),
    env: fc.dictionary(
      fc.constantFrom("A", "B_1", "LANG", "PATH"),
      fc.string({ maxLength: 5 }),
      { maxKeys: 3, noNullPrototype: true },
    ),
    acceptReturnCode: fc.array(
      fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }).map(String)),
      { maxLength: 3 },
    ),
    stdin: fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
  }, { requiredKeys: ["cmd"] })),
  input: fc.constantFrom<unknown>(
    { pfs: { repo: "a", glob: "/*" } },
    { pfs: { repo: "a", glob: "/", branch: "dev", name: "a" } },
    { cross: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/" } }] },
    { union: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/*" } }] },
    { pfs: { repo: "a", glob: "/*", optional: true } },
  ),
  parallelismSpec: fc.record({
    constant: fc.oneof(fc.integer({ min: -1, max: 300 }), fc.constant("2")),
  }),
  datumTimeout: fc.constantFrom<unknown>("60s", 30, "1m30s", "soon"),
  jobTimeout: fc.constantFrom<unknown>("10m", 600),
  datumTries: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant("3")),
  resourceLimits: fc.record({ memory: fc.constantFrom<unknown>("512Mi", 1048576, "lots") }),
  outputBranch: fc.constantFrom("master", "out", "a b"),
  reprocessSpec: fc.constantFrom("until_success", "every_job"),
  salt: fc.string({ maxLength: 4 }),
  description: fc.string({ maxLength: 10 }),
  datumBatching: fc.boolean(),
}, { requiredKeys: ["pipeline", "transform", "input"] });

Deno.test("quickParseSpec() gives what parseSpec() gives, for specs mostly valid", async () => {
  let valid = 0;
  await fc.assert(
    fc.asyncProperty(
      shuffled(specArb).chain((s) => respelled(s, oneIn(5))),
      async (spec) => {
        const want = await outcome(() => parseSpec(spec));
        assert.deepStrictEqual(await outcome(() => quickParseSpec(spec)), want);
        if ("value" in (want as object)) {
          valid++;
          assertSameValue(await quickParseSpec(spec), (want as { value: unknown }).value);
          // A valid spec never needs the schema.
          buildSpec(spec, {}, () => {
            throw new Error("the schema was asked");
          });
        }
      },
    ),
    { numRuns: RUNS },
  );
  assert.ok(valid > RUNS / 10, `only ${valid} generated specs were valid`);
});

Deno.test("quickParseSpec() gives what parseSpec() gives, for any spec-shaped value", async () => {
  await fc.assert(
    fc.asyncProperty(objectOf(SPEC, 0), async (spec) => {
      assert.deepStrictEqual(
        await outcome(() => quickParseSpec(spec, { file: "x.json" })),
        await outcome(() => parseSpec(spec, { file: "x.json" })),
      );
    }),
    { numRuns: RUNS },
  );
});

Deno.test("quickParseSpec() refuses a wrong type with the message parseSpec() gives", async () => {
  const spec = {
    pipeline: { name: "model" },
    transform: { cmd: ["python3", "/code/a.py"], accept_return_code: [1, 2.5] },
    input: { pfs: { repo: "a", glob: "/" } },
  };
  const err = await quickParseSpec(spec, { file: "s.json" }).catch((e) => e);
  assert.ok(err instanceof SpecError);
  assert.equal(err.code, "INVALID_SPEC");
  assert.equal(err.data.rule, "WRONG_TYPE");
  assert.equal(err.data.path, "transform.accept_return_code[1]");
  assert.equal(
    err.message,
    'Invalid "transform.accept_return_code[1]" in "s.json": expected an integer (a number ' +
      "or a string of digits), got 2.5",
  );
});

/** Every `.json` file under `folder`, recursively. */
async function jsonFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(folder)) {
    const path = `${folder}/${e.name}`;
    if (e.isDirectory) out.push(...await jsonFiles(path));
    else if (e.isFile && e.name.endsWith(".json")) out.push(path);
  }
  return out.sort();
}

Deno.test("quickParseSpecText() gives what parseSpecText() gives for every JSON file of pipelines/ and tests/fixtures/", async () => {
  const files = [
    ...await jsonFiles(`${ROOT}/pipelines`),
    ...await jsonFiles(`${ROOT}/tests/fixtures`),
  ];
  let valid = 0;
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    const want = await outcome(() => parseSpecText(text, { file }));
    assert.deepStrictEqual(await outcome(() => quickParseSpecText(text, { file })), want, file);
    if ("value" in (want as object)) {
      valid++;
      assertSameValue(
        await quickParseSpecText(text, { file }),
        (want as { value: unknown }).value,
      );
    }
  }
  assert.ok(files.length >= 20 && valid >= 15, `${files.length} files, ${valid} valid specs`);
});

/**
 * Run `code` in a fresh Deno whose `zod` is a module that throws when loaded: what it
 * prints, or the failure.
 */
async function withoutZod(code: string): Promise<{ ok: boolean; out: string }> {
  await using dir = await tempDir("tusk-nozod-");
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  await Deno.writeTextFile(
    `${dir.path}/zod.ts`,
    'export const z = null;\nthrow new Error("zod was loaded");\n',
  );
  config.imports.zod = `${dir.path}/zod.ts`;
  await Deno.writeTextFile(`${dir.path}/deno.json`, JSON.stringify(config));
  const script = `${dir.path}/probe.ts`;
  await Deno.writeTextFile(
    script,
    `import { quickParseSpecText } from "${ROOT}/lib/pipeline/spec/quick_parse_spec.ts";\n${code}`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-lock",
      "--config",
      `${dir.path}/deno.json`,
      "--allow-read",
      script,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { ok: out.success, out: text.decode(out.stdout) + text.decode(out.stderr) };
}

Deno.test("quickParseSpecText() parses the tutorial's specs without loading zod", async () => {
  const r = await withoutZod(
    `for (const f of ["python_train", "python_infer"]) {
      const file = "${ROOT}/pipelines/iris-python/" + f + ".pipeline.json";
      console.log((await quickParseSpecText(await Deno.readTextFile(file))).name);
    }`,
  );
  assert.ok(r.ok, r.out);
  assert.equal(r.out, "model\ninference\n");
});

Deno.test("quickParseSpecText() loads zod to word the refusal of a wrong type", async () => {
  const r = await withoutZod(
    `await quickParseSpecText('{"pipeline": {"name": 5}}');`,
  );
  assert.equal(r.ok, false);
  assert.match(r.out, /zod was loaded/);
});
