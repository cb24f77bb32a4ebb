/**
 * The fast path of the iris inference: `readAttributes()` and `predictIndices()` must give
 * exactly what `parseAttributes()` and `predict()` give (same numbers, same errors, same
 * species), whichever path a file takes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodePredictions,
  IrisError,
  type PackedRows,
  parseAttributes,
  predict,
  predictIndices,
  readAttributes,
} from "../../pipelines/iris/iris.ts";
import { trainLda } from "../../pipelines/iris/lda.ts";
import { trainSvm } from "../../pipelines/iris/svm.ts";
import { irisTrainingSet } from "./_helpers.ts";

const data = await irisTrainingSet();
const models = { svm: trainSvm(data), lda: trainLda(data) };
const utf8 = new TextEncoder();

function unpack(rows: PackedRows): number[][] {
  return Array.from({ length: rows.count }, (_, r) => [...rows.values.subarray(4 * r, 4 * r + 4)]);
}

function sameAsSlowPath(text: string): void {
  let expected: number[][] | IrisError;
  try {
    expected = parseAttributes(text, "a.csv");
  } catch (e) {
    if (!(e instanceof IrisError)) throw e;
    expected = e;
  }
  if (expected instanceof IrisError) {
    assert.throws(() => readAttributes(utf8.encode(text), "a.csv"), (e: unknown) => {
      assert.ok(e instanceof IrisError);
      assert.equal(e.message, (expected as IrisError).message);
      return true;
    });
    return;
  }
  const rows = readAttributes(utf8.encode(text), "a.csv");
  assert.deepEqual(unpack(rows), expected);
  for (const model of Object.values(models)) {
    const indices = predictIndices(model, rows);
    assert.deepEqual([...indices].map((i) => model.classes[i]), predict(model, expected));
  }
}

Deno.test("readAttributes() reads plain rows as parseAttributes() does", () => {
  sameAsSlowPath("5.1,3.5,1.4,0.2\n4.9,3.0,1.4,0.2\n\n6,3,5,2\r\n-0.5,0.25,10.125,7\n");
  sameAsSlowPath("5.1,3.5,1.4,0.2");
  sameAsSlowPath("");
});

Deno.test("readAttributes() takes the slow path for other forms and gives the same rows", () => {
  sameAsSlowPath("\ufeff5.1,3.5,1.4,0.2\n");
  sameAsSlowPath("4.9, 3, 1.4e0 ,.2\n  \n5.,+1,2,3\n");
  sameAsSlowPath("1.2345678901234567,2,3,4\n");
});

Deno.test("readAttributes() refuses bad rows with parseAttributes()'s errors", () => {
  sameAsSlowPath("1,2,3,4\n1,2,3\n");
  sameAsSlowPath("1,2,3,4,5\n");
  sameAsSlowPath("1,2,x,4\n");
  assert.throws(
    () => readAttributes(new Uint8Array([0x31, 0x2c, 0xff, 0x0a]), "bin.csv"),
    IrisError,
  );
});

Deno.test("readAttributes() and predictIndices() agree with the slow path on random rows", () => {
  const field = fc.oneof(
    fc.integer({ min: -99999, max: 99999 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 99999999 }))
      .map(([a, b]) => `${a}.${b}`),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String),
    fc.constantFrom("", " 1", "1e3", ".5", "5.", "-", "a"),
  );
  const line = fc.oneof(
    fc.array(field, { minLength: 4, maxLength: 4 }).map((f) => f.join(",")),
    fc.array(field, { minLength: 0, maxLength: 6 }).map((f) => f.join(",")),
    fc.constantFrom("", "\r"),
  );
  fc.assert(
    fc.property(
      fc.array(line, { maxLength: 8 }),
      fc.constantFrom("\n", "\r\n"),
      (lines, eol) => sameAsSlowPath(lines.join(eol)),
    ),
    { numRuns: 500 },
  );
});

Deno.test("encodePredictions() writes one species per line", () => {
  const model = models.svm;
  const bytes = encodePredictions(model, new Uint32Array([0, 2, 1]));
  const c = model.classes;
  assert.equal(new TextDecoder().decode(bytes), `${c[0]}\n${c[2]}\n${c[1]}\n`);
});
