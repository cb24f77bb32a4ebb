/**
 * SHA-256, the name of every object: the plain-TypeScript hash for the small inputs of a
 * short command, the native one (`node:crypto`) once there is enough to hash to repay
 * loading it. No I/O.
 */
import { Sha256 } from "./sha256.ts";

/** A 64-hex SHA-256 digest naming an object. */
export type Hash = string;

const encoder = new TextEncoder();

/** An incremental SHA-256. */
export interface Hasher {
  update(data: Uint8Array): unknown;
  /** The hash as lower-case hex; call once. */
  hex(): Hash;
}

type NativeCreateHash = typeof import("node:crypto").createHash;
let native: NativeCreateHash | undefined;
let loading: Promise<NativeCreateHash> | undefined;
let hashedBytes = 0;
/** After this many bytes hashed in plain TypeScript, load the native hash for the rest. */
const NATIVE_AFTER = 1 << 20;
/** An input this large is hashed natively at once, loading the native hash if need be. */
const NATIVE_NOW = 16 << 20;

/**
 * The native (OpenSSL) SHA-256 of `node:crypto`, about ten times faster than `Sha256` but
 * costing ~30 ms of Node-compat set-up to load: so it is loaded only for large inputs, or
 * in the background once a command has hashed enough to repay it.
 */
function loadNative(): Promise<NativeCreateHash> {
  // A specifier in a variable: Deno prepares a literal `import("node:…")` ahead of time,
  // Node-compat set-up included, in every process that merely could run it.
  const specifier = "node:crypto";
  return loading ??= (import(specifier) as Promise<typeof import("node:crypto")>).then((m) =>
    native = m.createHash
  );
}

/**
 * Load the native hash now, for work that will hash a lot (planning a thousand datums or
 * more, verify, gc): its ~30 ms load is repaid many times over, and every `sha256` after it
 * is native.
 */
export async function preloadNativeHash(): Promise<void> {
  await loadNative();
}

/** SHA-256 of bytes or a string, as lower-case hex. */
export function sha256(data: Uint8Array | string): Hash {
  if (native) return native("sha256").update(data).digest("hex");
  hashedBytes += data.length;
  if (hashedBytes > NATIVE_AFTER) loadNative().catch(() => {});
  return new Sha256().update(data).digestHex();
}

/** SHA-256 of `data` as 8 big-endian 32-bit words into `out`. */
export function sha256Words(data: Uint8Array, out: Int32Array): void {
  const hex = sha256(data);
  for (let i = 0; i < 8; i++) out[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16) | 0;
}

/**
 * SHA-256 for async code, without loading `node:crypto`: large inputs (a big tree, a pack
 * index) go to Web Crypto's native digest, small ones to `Sha256`.
 */
export async function sha256Async(data: Uint8Array | string): Promise<Hash> {
  if (native) return native("sha256").update(data).digest("hex");
  // Past 16 MiB (a tree of 200,000 entries) the native hash repays its load by itself: it
  // is about twice as fast as Web Crypto's here.
  if (data.length >= NATIVE_NOW) return (await loadNative())("sha256").update(data).digest("hex");
  // Below a few KiB the plain hash is done before an asynchronous digest would start.
  if (data.length < 16 << 10) return new Sha256().update(data).digestHex();
  return await webDigest(typeof data === "string" ? encoder.encode(data) : data);
}

/**
 * SHA-256 by a native digest whatever the size: for a short command that checks many small
 * objects as they arrive (a clone), where the plain hash would still be warming up (a few
 * dozen cold hashes of a few KiB cost it milliseconds, Web Crypto a tenth of that).
 */
export async function sha256Native(data: Uint8Array): Promise<Hash> {
  if (native) return native("sha256").update(data).digest("hex");
  return await webDigest(data);
}

async function webDigest(bytes: Uint8Array): Promise<Hash> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** An incremental SHA-256 for streams and large files: the native one. */
export async function createHasher(): Promise<Hasher> {
  const h = (native ?? await loadNative())("sha256");
  return {
    update: (data) => h.update(data),
    hex: () => h.digest("hex"),
  };
}
