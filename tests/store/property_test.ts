/**
 * Property test of the store: random sequences of file, revert and branch operations run
 * against a real store and against a plain in-memory model; afterwards every branch lists
 * the same files with the same contents in both, and the store verifies. Operations the
 * model deems invalid must fail with the expected typed error and leave the ledger as it was.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  type TuskError,
} from "../../lib/errors.ts";
import { Store } from "../../lib/store/store.ts";
import { collectGarbage, verifyStore } from "../../lib/store/verify.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { deleteFile, globFile } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { createBranch, deleteBranch, listBranch, revert } from "../../lib/commands/commit.ts";
import type { CommitInfo } from "../../lib/store/store.ts";
import { fakeClock, readText } from "./_fixtures.ts";

const REPO = "r";
const BRANCHES = ["master", "dev", "exp"] as const;
const NAMES = ["a", "b", "c"] as const;

type Op =
  | { kind: "put"; branch: string; path: string; content: string; append: boolean }
  | { kind: "delete"; branch: string; path: string }
  | { kind: "revert"; branch: string; pick: number }
  | { kind: "branch"; branch: string; head: { branch: string } | { pick: number } | null }
  | { kind: "deleteBranch"; branch: string }
  | { kind: "gc" };

const branchArb = fc.constantFrom(...BRANCHES);
const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).map((s) =>
  "/" + s.join("/")
);
const pickArb = fc.nat({ max: 1000 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      branch: branchArb,
      path: pathArb,
      content: fc.string({ unit: "grapheme", maxLength: 6 }),
      append: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      branch: branchArb,
      path: pathArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("revert" as const),
      branch: branchArb,
      pick: pickArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("branch" as const),
      branch: branchArb,
      head: fc.oneof(
        fc.record({ branch: branchArb }),
        fc.record({ pick: pickArb }),
        fc.constant(null),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("deleteBranch" as const), branch: branchArb }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "gc" as const }) },
);

type Files = ReadonlyMap<string, string>;

/** The model: each branch's head and files, and every commit made with its files. */
interface Model {
  branches: Map<string, { head: string | null; files: Files }>;
  commits: { id: string; files: Files }[];
}

type ErrorClass = new (...args: never[]) => TuskError;

/** What the model expects of an operation: a new model from the commit made, or an error. */
type Expect =
  | { ok: (made: CommitInfo | null) => void }
  | { error: ErrorClass; code: string };

const notFound: Expect = { error: NotFoundError, code: "NOT_FOUND" };
const invalid: Expect = { error: InvalidArgumentError, code: "INVALID_ARGUMENT" };
const exists: Expect = { error: AlreadyExistsError, code: "ALREADY_EXISTS" };

/** True when some proper ancestor folder of `path` is a file. */
function underFile(files: Files, path: string): boolean {
  const segs = path.split("/").slice(1);
  for (let i = 1; i < segs.length; i++) {
    if (files.has("/" + segs.slice(0, i).join("/"))) return true;
  }
  return false;
}

function isFolder(files: Files, path: string): boolean {
  for (const k of files.keys()) if (k.startsWith(path + "/")) return true;
  return false;
}

/** What the model says `op` does; `ok` updates the model with the store's commit. */
function expect(model: Model, op: Op): Expect | null {
  const commitTo = (branch: string, files: Files) => (made: CommitInfo | null) => {
    assert.ok(made);
    model.branches.set(branch, { head: made.id, files });
    model.commits.push({ id: made.id, files });
  };
  switch (op.kind) {
    case "put": {
      const files = model.branches.get(op.branch)?.files ?? new Map<string, string>();
      if (isFolder(files, op.path) || underFile(files, op.path)) return invalid;
      const next = new Map(files);
      const old = op.append ? files.get(op.path) ?? "" : "";
      next.set(op.path, old + op.content);
      return { ok: commitTo(op.branch, next) };
    }
    case "delete": {
      const b = model.branches.get(op.branch);
      if (!b || b.head === null) return notFound;
      if (underFile(b.files, op.path)) return invalid;
      if (!b.files.has(op.path) && !isFolder(b.files, op.path)) return notFound;
      const next = new Map(
        [...b.files].filter(([k]) => k !== op.path && !k.startsWith(op.path + "/")),
      );
      return { ok: commitTo(op.branch, next) };
    }
    case "revert": {
      if (model.commits.length === 0) return null;
      if (!model.branches.has(op.branch)) return notFound;
      const target = model.commits[op.pick % model.commits.length]!;
      return { ok: commitTo(op.branch, new Map(target.files)) };
    }
    case "branch": {
      const existing = model.branches.get(op.branch);
      if (op.head === null) {
        if (existing) return exists;
        return { ok: () => model.branches.set(op.branch, { head: null, files: new Map() }) };
      }
      let to: { head: string | null; files: Files };
      if ("branch" in op.head) {
        const from = model.branches.get(op.head.branch);
        if (!from) return notFound;
        to = from;
      } else {
        if (model.commits.length === 0) return null;
        const c = model.commits[op.head.pick % model.commits.length]!;
        to = { head: c.id, files: c.files };
      }
      return { ok: () => model.branches.set(op.branch, { head: to.head, files: to.files }) };
    }
    case "deleteBranch":
      if (!model.branches.has(op.branch)) return notFound;
      return { ok: () => model.branches.delete(op.branch) };
    case "gc":
      return { ok: () => {} };
  }
}

/** Run `op` against the store; returns the commit it made, if any. */
async function run(
  store: Store,
  model: Model,
  host: string,
  op: Op,
): Promise<CommitInfo | null> {
  const ref = `${REPO}@${op.kind === "gc" ? "master" : op.branch}`;
  switch (op.kind) {
    case "put": {
      await Deno.writeTextFile(host, op.content);
      return (await putFile(store, `${ref}:${op.path}`, { sources: [host], append: op.append }))
        .commit;
    }
    case "delete":
      return await deleteFile(store, `${ref}:${op.path}`);
    case "revert": {
      const target = model.commits[op.pick % model.commits.length]!;
      return await revert(store, ref, { to: target.id });
    }
    case "branch": {
      if (op.head === null) await createBranch(store, ref);
      else if ("branch" in op.head) await createBranch(store, ref, { head: op.head.branch });
      else {
        const c = model.commits[op.head.pick % model.commits.length]!;
        await createBranch(store, ref, { head: c.id });
      }
      return null;
    }
    case "deleteBranch":
      await deleteBranch(store, ref);
      return null;
    case "gc":
      await collectGarbage(store);
      return null;
  }
}

/** Every file of a branch and its content, as the store lists them. */
async function storeFiles(store: Store, branch: string, head: string | null): Promise<Files> {
  const files = new Map<string, string>();
  if (head === null) return files;
  for (const f of await globFile(store, `${REPO}@${branch}:/**`)) {
    if (f.type === "file") files.set(f.path, await readText(store, `${REPO}@${branch}:${f.path}`));
  }
  return files;
}

async function checkAgainstModel(store: Store, model: Model): Promise<void> {
  const branches = await listBranch(store, REPO);
  assert.deepEqual(branches.map((b) => b.name).sort(), [...model.branches.keys()].sort());
  for (const b of branches) {
    const m = model.branches.get(b.name)!;
    assert.equal(b.head, m.head, `head of ${b.name}`);
    assert.deepEqual(
      new Map([...(await storeFiles(store, b.name, b.head))].sort()),
      new Map([...m.files].sort()),
      `files of ${b.name}`,
    );
  }
}

for (
  const [how, spliceMinBytes] of [
    ["", undefined],
    [", every tree edited in place", 0],
  ] as const
) {
  Deno.test(`the store agrees with an in-memory model over random operation sequences${how}`, async () => {
    await property(spliceMinBytes);
  });
}

async function property(spliceMinBytes: number | undefined): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 15 }), async (ops) => {
      const dir = await Deno.makeTempDir({ prefix: "tusk-property-" });
      const store = await Store.init(`${dir}/.tusk`, {
        clock: fakeClock(),
        ...(spliceMinBytes !== undefined ? { spliceMinBytes } : {}),
      });
      try {
        await createRepo(store, REPO);
        const model: Model = {
          branches: new Map([["master", { head: null, files: new Map() }]]),
          commits: [],
        };
        for (const op of ops) {
          const e = expect(model, op);
          if (e === null) continue;
          if ("error" in e) {
            const before = (await store.state()).ledger;
            await assert.rejects(run(store, model, `${dir}/host`, op), (err: unknown) => {
              assert.ok(err instanceof e.error, `${JSON.stringify(op)}: got ${String(err)}`);
              assert.equal((err as TuskError).code, e.code);
              return true;
            });
            assert.deepEqual((await store.state()).ledger, before, "a failed op changed nothing");
          } else {
            e.ok(await run(store, model, `${dir}/host`, op));
          }
        }
        await checkAgainstModel(store, model);
        await verifyStore(store);
      } finally {
        store.objects.close();
        await Deno.remove(dir, { recursive: true });
      }
    }),
    { numRuns: 25 },
  );
}
