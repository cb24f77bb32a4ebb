/**
 * docs/json.md documents exactly the `--json` shapes that `tests/e2e/json_shapes_test.ts`
 * pins: its table names every command of `JSON_OUTPUTS` and no other, and each command's
 * documented type — read from the page's TypeScript declarations — has the same keys, the
 * same optional keys and the same value types as the pinned shape, all the way down.
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";
import {
  AnyObject,
  ArrayOf,
  JSON_OUTPUTS,
  Lazy,
  Nullable,
  OneOf,
  RecordOf,
  type Shape,
} from "../_json_shapes.ts";

// ---- the TypeScript the page uses: `type Name = …;` declarations of primitives, string and
// boolean literals, names, `T[]`, object types with optional keys, `|` and `&`.

type Type =
  | { readonly k: "prim"; readonly name: string }
  | { readonly k: "lit"; readonly value: string | boolean }
  | { readonly k: "ref"; readonly name: string }
  | { readonly k: "array"; readonly item: Type }
  | { readonly k: "record"; readonly value: Type }
  | { readonly k: "obj"; readonly fields: ReadonlyMap<string, Field> }
  | { readonly k: "union"; readonly of: readonly Type[] }
  | { readonly k: "and"; readonly of: readonly Type[] };

interface Field {
  readonly optional: boolean;
  readonly type: Type;
}

const PRIMITIVES = new Set(["string", "number", "boolean", "null", "object"]);

function tokenize(code: string): string[] {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[A-Za-z_$][\w$]*|\S/g) ?? [];
  return tokens;
}

class Parser {
  #at = 0;
  constructor(readonly tokens: readonly string[]) {}

  get done(): boolean {
    return this.#at >= this.tokens.length;
  }
  peek(): string | undefined {
    return this.tokens[this.#at];
  }
  next(): string {
    const t = this.tokens[this.#at++];
    if (t === undefined) throw new SyntaxError("Unexpected end of type");
    return t;
  }
  expect(t: string): void {
    const got = this.next();
    if (got !== t) throw new SyntaxError(`Expected "${t}", got "${got}"`);
  }
  eat(t: string): boolean {
    if (this.peek() !== t) return false;
    this.#at++;
    return true;
  }

  /** `A | B | …`, a leading `|` allowed. */
  type(): Type {
    this.eat("|");
    const of = [this.intersection()];
    while (this.eat("|")) of.push(this.intersection());
    return of.length === 1 ? of[0]! : { k: "union", of };
  }
  intersection(): Type {
    const of = [this.postfix()];
    while (this.eat("&")) of.push(this.postfix());
    return of.length === 1 ? of[0]! : { k: "and", of };
  }
  postfix(): Type {
    let t = this.primary();
    while (this.peek() === "[") {
      this.expect("[");
      this.expect("]");
      t = { k: "array", item: t };
    }
    return t;
  }
  primary(): Type {
    const t = this.next();
    if (t === "(") {
      const inner = this.type();
      this.expect(")");
      return inner;
    }
    if (t === "{") return this.object();
    if (t === "Record") {
      this.expect("<");
      this.expect("string");
      this.expect(",");
      const value = this.type();
      this.expect(">");
      return { k: "record", value };
    }
    if (t.startsWith('"')) return { k: "lit", value: JSON.parse(t) as string };
    if (t === "true" || t === "false") return { k: "lit", value: t === "true" };
    if (PRIMITIVES.has(t)) return { k: "prim", name: t };
    if (/^[A-Za-z_$]/.test(t)) return { k: "ref", name: t };
    throw new SyntaxError(`Unexpected "${t}" in a type`);
  }
  object(): Type {
    const fields = new Map<string, Field>();
    while (!this.eat("}")) {
      const name = this.next();
      const optional = this.eat("?");
      this.expect(":");
      if (fields.has(name)) throw new SyntaxError(`Key "${name}" given twice`);
      fields.set(name, { optional, type: this.type() });
      if (!this.eat(";")) this.eat(",");
    }
    return { k: "obj", fields };
  }
}

/** Parse one type expression. */
function parseType(text: string): Type {
  const p = new Parser(tokenize(text));
  const t = p.type();
  if (!p.done) throw new SyntaxError(`Unexpected "${p.peek()}" after the type "${text}"`);
  return t;
}

/** The `type Name = …;` declarations of every ```ts block of `markdown`. */
function declarations(markdown: string): Map<string, Type> {
  const decls = new Map<string, Type>();
  for (const block of markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const p = new Parser(tokenize(block[1]!));
    while (!p.done) {
      p.eat("export");
      p.expect("type");
      const name = p.next();
      p.expect("=");
      if (decls.has(name)) throw new SyntaxError(`Type "${name}" declared twice`);
      decls.set(name, p.type());
      p.expect(";");
    }
  }
  return decls;
}

/** A row of the page's command table. */
interface Row {
  readonly commands: readonly string[];
  readonly type: string;
  readonly lines: boolean;
}

/** Rows of every table whose first cell is code: the commands and what they print. */
function commandRows(markdown: string): Row[] {
  const rows: Row[] = [];
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cells = line.split(/\|(?=(?:[^`]*`[^`]*`)*[^`]*$)/).slice(1, -1).map((c) => c.trim());
    const code = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const [first, second] = [code(cells[0] ?? ""), code(cells[1] ?? "")];
    assert.ok(second.length > 0, `The row "${line}" names what the command prints`);
    rows.push({ commands: first, type: second[0]!, lines: /one per line/.test(cells[1]!) });
  }
  return rows;
}

// ---- comparing a documented type with a pinned shape.

const ids = new WeakMap<object, number>();
let lastId = 0;
function idOf(shape: object): number {
  const id = ids.get(shape) ?? ++lastId;
  ids.set(shape, id);
  return id;
}

/** One alternative of a union, with the structure of arrays and objects kept. */
type Alt =
  | { readonly sig: string }
  | { readonly sig: "[]"; readonly array: Type | Shape }
  | { readonly sig: "Record"; readonly record: Type | Shape }
  | {
    readonly sig: "{}";
    readonly fields: ReadonlyMap<string, { optional: boolean; t: Type | Shape }>;
  };

class Comparison {
  readonly problems: string[] = [];
  /** Pairs of a named type and a shape being compared, on the way down. */
  readonly #comparing = new Set<string>();
  constructor(readonly decls: ReadonlyMap<string, Type>) {}

  #resolve(t: Type, path: string): Type {
    while (t.k === "ref") {
      const found = this.decls.get(t.name);
      if (!found) {
        this.problems.push(`${path}: the type "${t.name}" is not declared`);
        return { k: "prim", name: "unknown" };
      }
      t = found;
    }
    return t;
  }

  #docAlts(t: Type, path: string): Alt[] {
    t = this.#resolve(t, path);
    switch (t.k) {
      case "prim":
        return [{ sig: t.name }];
      case "lit":
        return [{ sig: JSON.stringify(t.value) }];
      case "array":
        return [{ sig: "[]", array: t.item }];
      case "record":
        return [{ sig: "Record", record: t.value }];
      case "union":
        return t.of.flatMap((x) => this.#docAlts(x, path));
      case "obj":
        return [{ sig: "{}", fields: mapFields(t.fields) }];
      case "and": {
        const fields = new Map<string, { optional: boolean; t: Type | Shape }>();
        for (const part of t.of) {
          const alts = this.#docAlts(part, path);
          const obj = alts.length === 1 && "fields" in alts[0]! ? alts[0].fields : undefined;
          if (!obj) {
            this.problems.push(`${path}: "&" joins something that is not an object type`);
            continue;
          }
          for (const [k, v] of obj) fields.set(k, v);
        }
        return [{ sig: "{}", fields }];
      }
      case "ref":
        throw new Error("resolved above");
    }
  }

  #shapeAlts(s: Shape): Alt[] {
    if (s instanceof Lazy) return this.#shapeAlts(s.get());
    if (s instanceof Nullable) return [...this.#shapeAlts(s.shape), { sig: "null" }];
    if (typeof s === "string") return s.split("|").map((sig) => ({ sig }));
    if (s instanceof OneOf) return s.values.map((v) => ({ sig: JSON.stringify(v) }));
    if (s instanceof ArrayOf) return [{ sig: "[]", array: s.item }];
    if (s instanceof AnyObject) return [{ sig: "object" }];
    if (s instanceof RecordOf) return [{ sig: "Record", record: s.value }];
    const fields = new Map<string, { optional: boolean; t: Shape }>();
    for (const [key, sub] of Object.entries(s)) {
      const optional = key.endsWith("?");
      fields.set(optional ? key.slice(0, -1) : key, { optional, t: sub });
    }
    return [{ sig: "{}", fields }];
  }

  /** Compare the documented `doc` with the pinned `shape` at `path`. */
  compare(doc: Type, shape: Shape, path: string): void {
    while (shape instanceof Lazy) shape = shape.get();
    if (doc.k === "ref" && typeof shape === "object") {
      // A recursive type meets itself again below: that pair is being compared already.
      const key = `${doc.name}#${idOf(shape)}`;
      if (this.#comparing.has(key)) return;
      this.#comparing.add(key);
      try {
        this.#compareResolved(doc, shape, path);
      } finally {
        this.#comparing.delete(key);
      }
      return;
    }
    this.#compareResolved(doc, shape, path);
  }

  #compareResolved(doc: Type, shape: Shape, path: string): void {
    const docs = this.#docAlts(doc, path);
    const pinned = this.#shapeAlts(shape);
    const sigs = (alts: Alt[]) => [...new Set(alts.map((a) => a.sig))].sort();
    if (sigs(docs).join(" | ") !== sigs(pinned).join(" | ")) {
      this.problems.push(
        `${path}: documented ${sigs(docs).join(" | ")}, pinned ${sigs(pinned).join(" | ")}`,
      );
      return;
    }
    const docArray = docs.find((a) => "array" in a);
    const pinnedArray = pinned.find((a) => "array" in a);
    if (docArray && pinnedArray && "array" in docArray && "array" in pinnedArray) {
      this.compare(docArray.array as Type, pinnedArray.array as Shape, `${path}[]`);
    }
    const docRecord = docs.find((a) => "record" in a);
    const pinnedRecord = pinned.find((a) => "record" in a);
    if (docRecord && pinnedRecord && "record" in docRecord && "record" in pinnedRecord) {
      this.compare(docRecord.record as Type, pinnedRecord.record as Shape, `${path}[key]`);
    }
    const docObj = docs.find((a) => "fields" in a);
    const pinnedObj = pinned.find((a) => "fields" in a);
    if (docObj && pinnedObj && "fields" in docObj && "fields" in pinnedObj) {
      const keys = new Set([...docObj.fields.keys(), ...pinnedObj.fields.keys()]);
      for (const key of [...keys].sort()) {
        const d = docObj.fields.get(key);
        const p = pinnedObj.fields.get(key);
        const at = `${path}.${key}`;
        if (!d) this.problems.push(`${at}: pinned, not documented`);
        else if (!p) this.problems.push(`${at}: documented, not pinned`);
        else if (d.optional !== p.optional) {
          this.problems.push(
            `${at}: documented ${d.optional ? "optional" : "required"}, pinned ${
              p.optional ? "optional" : "required"
            }`,
          );
        } else this.compare(d.t as Type, p.t as Shape, at);
      }
    }
  }
}

function mapFields(
  fields: ReadonlyMap<string, Field>,
): Map<string, { optional: boolean; t: Type }> {
  return new Map([...fields].map(([k, f]) => [k, { optional: f.optional, t: f.type }]));
}

/** Every difference between the page `markdown` and the pinned shapes; none when it is true. */
function differences(markdown: string): string[] {
  const decls = declarations(markdown);
  const c = new Comparison(decls);
  const documented = new Map<string, Row>();
  for (const row of commandRows(markdown)) {
    for (const command of row.commands) {
      if (documented.has(command)) c.problems.push(`${command}: documented twice`);
      documented.set(command, row);
    }
  }
  for (const command of documented.keys()) {
    if (!JSON_OUTPUTS.some((o) => o.command === command)) {
      c.problems.push(`${command}: documented, but the shape test does not run it`);
    }
  }
  for (const { command, shape, lines } of JSON_OUTPUTS) {
    const row = documented.get(command);
    if (!row) {
      c.problems.push(`${command}: pinned, not documented`);
      continue;
    }
    if (row.lines !== (lines ?? false)) {
      c.problems.push(`${command}: ${lines ? "prints one value per line" : "prints one value"}`);
    }
    c.compare(parseType(row.type), shape, command);
  }
  return c.problems;
}

const PAGE = `${ROOT}/docs/json.md`;

Deno.test("docs/json.md documents exactly the --json shapes the shape test pins", async () => {
  assert.deepEqual(differences(await Deno.readTextFile(PAGE)), []);
});

/** The page with `from` replaced by `to`, checking that `from` is there. */
async function altered(from: string, to: string): Promise<string> {
  const page = await Deno.readTextFile(PAGE);
  assert.ok(page.includes(from), `docs/json.md holds ${JSON.stringify(from)}`);
  return page.replace(from, to);
}

Deno.test("the docs/json.md check notices a pinned key the page leaves out", async () => {
  const problems = differences(await altered("  restart: number;\n", ""));
  assert.ok(problems.includes("list job[].restart: pinned, not documented"), problems.join("\n"));
  assert.ok(problems.includes("inspect job.restart: pinned, not documented"), problems.join("\n"));
});

Deno.test("the docs/json.md check notices a key documented as required that may be absent", async () => {
  const problems = differences(await altered("  reason?: string;", "  reason: string;"));
  assert.ok(problems.includes("inspect job.reason: documented required, pinned optional"));
});

Deno.test("the docs/json.md check notices a wrong literal in a union", async () => {
  const problems = differences(await altered('  | "KILLED"', '  | "KILL"'));
  assert.ok(problems.some((p) => p.startsWith("list pipeline[].lastJobState: documented")));
});

Deno.test("the docs/json.md check notices a command the page does not list", async () => {
  const problems = differences(await altered("| `doctor`", "| `doctors`"));
  assert.deepEqual(problems.sort(), [
    "doctor: pinned, not documented",
    "doctors: documented, but the shape test does not run it",
  ]);
});

Deno.test("the docs/json.md check notices a wrong type deep in a recursive type", async () => {
  const problems = differences(await altered("  upstream: Lineage[];", "  upstream: Lineage;"));
  assert.ok(problems.includes("lineage.upstream: documented {}, pinned []"));
});

Deno.test("the docs/json.md check notices a wrong value type of a record", async () => {
  const problems = differences(
    await altered("  metrics: Record<string, number> /*", "  metrics: Record<string, string> /*"),
  );
  assert.ok(
    problems.includes("metrics show[].metrics[key]: documented string, pinned number"),
    problems.join("\n"),
  );
});
