/**
 * A datum whose input object was damaged on disk never runs: the job fails naming the
 * object, and nothing is committed to the output repo. Through the real CLI, one datum at a
 * time and batched.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  state: string;
  reason?: string;
  progress: { processed: number; failed: number };
}

/** XOR one byte of a host file, in place. */
async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[offset] = bytes[offset]! ^ 1;
  await Deno.writeFile(path, bytes);
}

/** Text of `size` bytes, lower-case letters and newlines, so the stage can upper-case it. */
function letters(size: number): string {
  let s = "";
  while (s.length < size) s += "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\n";
  return s.slice(0, size);
}

for (
  const [name, spec, pipeline, size] of [
    ["a 2 MiB loose input", "upper.json", "upper", 2 << 20],
    ["a small input of a batched pipeline", "batch_upper.json", "batched", 100],
  ] as const
) {
  Deno.test(`a job whose input is ${name} with a flipped byte fails naming it and commits nothing`, async () => {
    await using s = await tempStore();
    const store = s.store;
    await tuskOk(["create", "repo", "data"], { store });
    await tuskOk(["put", "file", "data@master:/good.txt", "-f", "-"], { store, stdin: "fine\n" });
    await tuskOk(["put", "file", "data@master:/bad.txt", "-f", "-"], {
      store,
      stdin: letters(size),
    });
    const [row] = JSON.parse(
      (await tuskOk(["list", "file", "data@master:/bad.txt", "--json"], { store })).stdout,
    ) as { hash: string }[];
    const hash = row!.hash;
    await flipByte(`${store}/objects/${hash.slice(0, 2)}/${hash.slice(2)}`, size >> 1);
    await tuskOk(["create", "pipeline", "-f", `${STAGES}/${spec}`], { store });
    const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
    assert.equal(job!.state, "FAILURE", JSON.stringify(job));
    assert.ok(job!.reason?.includes(hash), `the reason does not name ${hash}: ${job!.reason}`);
    assert.equal(job!.progress.failed, 1);
    const out = await tusk(["list", "commit", `${pipeline}@master`, "--json"], { store });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), [], "the output repo got a commit");
  });
}
