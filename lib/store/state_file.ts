/**
 * The state file's format (`state.json`), pure (no I/O): the store's state as plain JSON,
 * sealed by a checksum of its own bytes, so that an edited or damaged file is noticed
 * before it is believed. The state is a cache of the ledger's replay; a file without a
 * checksum (as older versions wrote) is read as unsealed, to be rebuilt from the ledger.
 */
import { sha256Async, sha256Native } from "./hash.ts";
import type { StoreState } from "./state.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `state.json` ends with a checksum of everything before it: `…,"checksum":"<sha256>"}`.
 * The file stays plain JSON; the checksum is taken over its bytes as written, so reading it
 * back costs one hash, not a re-encoding.
 */
const CHECKSUM_FIELD = ',"checksum":"';
const CHECKSUM_TAIL = CHECKSUM_FIELD.length + 64 + 2;

/** The bytes of `state.json` for `state`, sealed with its checksum. */
export async function encodeStateFile(state: StoreState): Promise<Uint8Array> {
  const json = JSON.stringify(state);
  const body = json.slice(0, -1);
  return encoder.encode(`${body}${CHECKSUM_FIELD}${await sha256Native(encoder.encode(body))}"}`);
}

/**
 * Decode `state.json`: its state, and whether it was sealed by a checksum (a file without
 * one, as older versions wrote, is not); "altered" when a checksum is there and does not
 * match, "corrupt" when it is not a state file at all.
 */
export async function decodeStateFile(
  bytes: Uint8Array,
): Promise<{ state: StoreState; sealed: boolean } | "corrupt" | "altered"> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return "corrupt";
  }
  if (!isStateShape(value)) return "corrupt";
  const record = value as unknown as Record<string, unknown>;
  if (!("checksum" in record)) return { state: value, sealed: false };
  const tail = decoder.decode(bytes.subarray(bytes.length - CHECKSUM_TAIL));
  const sum = tail.slice(CHECKSUM_FIELD.length, -2);
  if (
    !tail.startsWith(CHECKSUM_FIELD) || !tail.endsWith('"}') || sum !== record.checksum ||
    await sha256Async(bytes.subarray(0, bytes.length - CHECKSUM_TAIL)) !== sum
  ) {
    return "altered";
  }
  delete record.checksum;
  return { state: value, sealed: true };
}

/** True when `value` has the shape of a state file; `verify` checks its contents. */
function isStateShape(value: unknown): value is StoreState {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null;
  if (!isObject(value) || value.version !== 1 || !isObject(value.ledger)) return false;
  const { seq, hash, size } = value.ledger;
  return Number.isSafeInteger(seq) && typeof hash === "string" && Number.isSafeInteger(size) &&
    isObject(value.repos) && isObject(value.meta);
}
