import assert from "node:assert/strict";
import { sha256 } from "../../lib/store/hash.ts";
import { emptyState, type StoreState } from "../../lib/store/state.ts";
import { decodeStateFile, encodeStateFile } from "../../lib/store/state_file.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function aState(): StoreState {
  const state = emptyState();
  state.ledger = { seq: 2, hash: sha256("entry 2"), size: 420 };
  state.repos.training = {
    name: "training",
    description: "",
    created: "2024-01-02T03:04:05.000Z",
    createdSeq: 1,
    branches: { master: { head: sha256("c1"), created: "2024-01-02T03:04:05.000Z", movedSeq: 2 } },
  };
  return state;
}

Deno.test("encodeStateFile() and decodeStateFile() round-trip a sealed state", async () => {
  const state = aState();
  assert.deepEqual(await decodeStateFile(await encodeStateFile(state)), { state, sealed: true });
});

Deno.test("encodeStateFile() writes plain JSON ending with the checksum of the bytes before it", async () => {
  const text = dec.decode(await encodeStateFile(aState()));
  const value = JSON.parse(text) as Record<string, unknown>;
  assert.equal(Object.keys(value).at(-1), "checksum");
  const body = text.slice(0, text.indexOf(',"checksum":"'));
  assert.equal(value.checksum, sha256(body));
});

Deno.test("decodeStateFile() reads a state without a checksum, as older versions wrote, as unsealed", async () => {
  const state = aState();
  const file = await decodeStateFile(enc.encode(JSON.stringify(state)));
  assert.deepEqual(file, { state, sealed: false });
});

Deno.test("decodeStateFile() calls a state edited after it was sealed altered", async () => {
  const text = dec.decode(await encodeStateFile(aState()));
  const edited = text.replace('"seq":2', '"seq":3');
  assert.notEqual(edited, text);
  assert.equal(await decodeStateFile(enc.encode(edited)), "altered");
});

Deno.test("decodeStateFile() calls bytes that are not JSON corrupt", async () => {
  assert.equal(await decodeStateFile(enc.encode('{"version":1,')), "corrupt");
});

Deno.test("decodeStateFile() calls JSON without the shape of a state corrupt", async () => {
  assert.equal(await decodeStateFile(enc.encode('{"version":2,"repos":{}}')), "corrupt");
});
