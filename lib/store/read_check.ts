/**
 * Reading a loose object's file checked against its hash, so that a damaged object is
 * refused by name and its bytes never handed on: a small object is read and checked whole
 * before any byte is given; a large one is hashed as it streams or is copied, and the
 * stream errors (or the copy throws) at its end when the hash does not match.
 */
import { IntegrityError } from "../errors.ts";
import { createHasher, type Hash, type Hasher, sha256Async } from "./hash.ts";
import { writeAll } from "./fs_util.ts";

/** Objects up to this size are read and checked whole before any of their bytes is given out. */
export const STREAM_WHOLE = 8 << 20;
/** Chunk size of streams and copies of larger objects. */
const STREAM_CHUNK = 1 << 20;

/** A loose object's file, open for reading. */
export interface OpenObject {
  readonly hash: Hash;
  /** Its host path, named in errors. */
  readonly path: string;
  readonly file: Deno.FsFile;
  /** Its size when opened. */
  readonly size: number;
}

/** The loose object `hash` at `path` does not match its hash. */
export function corruptObject(hash: Hash, path: string): IntegrityError {
  return new IntegrityError(`Object ${hash} is corrupt: its content does not match its hash`, {
    object: hash,
    path,
  });
}

/** A stream of the one chunk `bytes`. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Read all `size` bytes of an open object, check them and close it. */
export async function readChecked(obj: OpenObject, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  let off = 0;
  try {
    while (off < size) {
      const n = await obj.file.read(bytes.subarray(off));
      if (n === null) break;
      off += n;
    }
  } finally {
    obj.file.close();
  }
  const got = bytes.subarray(0, off);
  if (await sha256Async(got) !== obj.hash) throw corruptObject(obj.hash, obj.path);
  return got;
}

/**
 * Stream an open object in fresh chunks, hashing each; errors at the end on a mismatch.
 * The next chunk is read while this one is hashed.
 */
export function checkedStream(obj: OpenObject): ReadableStream<Uint8Array> {
  const { file, hash } = obj;
  let hasher: Hasher | undefined;
  let open = true;
  const close = () => {
    if (open) file.close();
    open = false;
  };
  const readChunk = async () => {
    const buf = new Uint8Array(STREAM_CHUNK);
    return { buf, n: await file.read(buf) };
  };
  let next: ReturnType<typeof readChunk> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        hasher ??= await createHasher();
        const { buf, n } = await (next ?? readChunk());
        if (n === null) {
          close();
          if (hasher.hex() === hash) controller.close();
          else controller.error(corruptObject(hash, obj.path));
          return;
        }
        next = readChunk();
        next.catch(() => {});
        const chunk = buf.subarray(0, n);
        hasher.update(chunk);
        controller.enqueue(chunk);
      } catch (err) {
        close();
        throw err;
      }
    },
    cancel: close,
  }, { highWaterMark: 2 });
}

/**
 * Copy an open object to `out` while hashing it, then close it: a small object in one
 * read, a large one in chunks, the next read while this chunk is hashed and written.
 * Throws IntegrityError when the hash differs. Returns the number of bytes copied.
 */
export async function copyChecked(obj: OpenObject, out: Deno.FsFile): Promise<number> {
  const src = obj.file;
  const size = (await src.stat()).size;
  if (size <= STREAM_WHOLE) {
    const bytes = await readChecked(obj, size);
    await writeAll(out, bytes);
    return bytes.length;
  }
  try {
    const hasher = await createHasher();
    // Three buffers in turn: one being read, one being hashed, one being written, so the
    // hash (the slowest part) waits for neither the disk nor the copy.
    const bufs = [0, 1, 2].map(() => new Uint8Array(STREAM_CHUNK));
    let total = 0;
    let reading = src.read(bufs[0]!);
    let writing = Promise.resolve();
    try {
      for (let i = 0;; i = (i + 1) % 3) {
        const n = await reading;
        if (n === null) break;
        // The next buffer's write was started two chunks ago and awaited one chunk ago.
        reading = src.read(bufs[(i + 1) % 3]!);
        const chunk = bufs[i]!.subarray(0, n);
        hasher.update(chunk);
        await writing;
        writing = writeAll(out, chunk);
        total += n;
      }
      await writing;
    } finally {
      reading.catch(() => {});
      writing.catch(() => {});
    }
    if (hasher.hex() !== obj.hash) throw corruptObject(obj.hash, obj.path);
    return total;
  } finally {
    src.close();
  }
}
