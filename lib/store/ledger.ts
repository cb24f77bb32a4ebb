/**
 * The ledger on disk: one append-only file of hash-chained entries, one per transaction,
 * and the state file that caches its replay. Appending writes the entry, then the state;
 * recovery replays whatever entries the state file does not cover yet. Reading the state
 * checks it against the ledger's last entry, so an altered ledger or state is refused.
 */
import { IntegrityError } from "../errors.ts";
import { canonicalJson } from "./codec.ts";
import {
  concatBytes,
  exists,
  mapWriteError,
  readAt,
  writeAll,
  writeFileAtomic,
} from "./fs_util.ts";
import { type Hash, sha256, sha256Async, sha256Native } from "./hash.ts";
import type { Layout } from "./layout.ts";
import { openOwn } from "./own_file.ts";
import {
  applyEntry,
  type Change,
  emptyState,
  GENESIS,
  type LedgerEntry,
  type StoreState,
} from "./state.ts";
import { decodeStateFile, encodeStateFile } from "./state_file.ts";

const NEWLINE = 10;

/**
 * How the state file is replaced: whole (temp → fsync → rename), but its folder is not
 * fsynced. It is a cache of the ledger, which is fsynced first: a power cut that loses the
 * rename leaves the state file before it, and the next command replays the entries after it.
 */
const STATE_WRITE = { syncFolder: false } as const;

/**
 * The ledger of a new store holding one entry, of `changes` at `time`: its bytes, and the
 * state it replays to (as `Ledger.append()` would leave them on an empty store).
 */
export async function firstEntry(
  time: string,
  changes: readonly Change[],
): Promise<{ ledger: Uint8Array; state: StoreState }> {
  const state = emptyState();
  const entry: LedgerEntry = { seq: 1, prev: GENESIS, time, changes };
  applyEntry(state, entry);
  const ledger = new TextEncoder().encode(canonicalJson(entry) + "\n");
  const hash = await sha256Native(ledger.subarray(0, ledger.length - 1));
  state.ledger = { seq: 1, hash, size: ledger.length };
  return { ledger, state };
}

/** The ledger and the state file of one store folder. */
export class Ledger {
  readonly #layout: Layout;

  constructor(layout: Layout) {
    this.#layout = layout;
  }

  /**
   * Recreate a ledger that a copy of the store dropped, when the state file proves it was
   * empty (some copy tools keep no empty file). A ledger that held entries cannot be
   * recreated: a store without it fails here, naming it.
   */
  async restore(): Promise<void> {
    if (await exists(this.#layout.ledger)) return;
    const state = (await this.stateFile().catch(() => null))?.state;
    if (state?.ledger.size !== 0) {
      throw new IntegrityError(
        `The store's ledger "${this.#layout.ledger}" is missing: the store's history is lost; restore the store from the copy it came from or a backup`,
        { path: this.#layout.ledger },
      );
    }
    await Deno.writeFile(this.#layout.ledger, new Uint8Array(), { createNew: true })
      .catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) mapWriteError(err, "the ledger");
      });
  }

  /**
   * The state file as written: null when there is none, `sealed` false for a file without a
   * checksum (as older versions wrote). A file that does not parse or does not match its
   * checksum is IntegrityError naming the fix. Not checked against the ledger here.
   */
  async stateFile(): Promise<{ state: StoreState; sealed: boolean } | null> {
    let bytes: Uint8Array;
    try {
      // Sync on purpose, as the reads below: a small file is read faster than an async op
      // is run, and every command reads it.
      bytes = Deno.readFileSync(this.#layout.state);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    const file = await decodeStateFile(bytes);
    if (file === "corrupt" || file === "altered") {
      throw new IntegrityError(
        `The store's state file "${this.#layout.state}" ${
          file === "corrupt" ? "is corrupt" : "was altered (it does not match its checksum)"
        }: it is a cache of the ledger, so remove it and tusk rebuilds it from the ledger; run "tusk verify" to check the ledger`,
        { path: this.#layout.state, problem: file },
      );
    }
    return file;
  }

  /**
   * The state, when the sealed state file is up to date with the ledger (checked against
   * the ledger's last entry, not by a replay); null when the ledger must be replayed first.
   */
  async current(): Promise<StoreState | null> {
    const file = await this.stateFile();
    if (file?.sealed) {
      const size = Deno.statSync(this.#layout.ledger).size;
      if (file.state.ledger.size === size) {
        await this.#checkEnd(file.state);
        return file.state;
      }
    }
    return null;
  }

  /**
   * Check that the ledger line ending where the state says the ledger ends is the one the
   * state records (by its hash): the ledger's end was not altered, removed or replaced.
   * Reads only that line.
   */
  async #checkEnd(state: StoreState): Promise<void> {
    const { seq, hash, size } = state.ledger;
    const line = seq > 0 ? this.#lineEndingAt(size) : null;
    const matches = seq === 0
      ? size === 0 && hash === GENESIS
      : line !== null && await sha256Async(line) === hash;
    if (!matches) {
      throw new IntegrityError(
        `Ledger entry ${seq} does not match the hash the state file records: the ledger was altered (run "tusk verify")`,
        { seq },
      );
    }
  }

  /** The ledger line (without its newline) whose newline is the byte before `end`, or null. */
  #lineEndingAt(end: number): Uint8Array | null {
    if (end < 2) return null;
    const f = Deno.openSync(this.#layout.ledger, { read: true });
    try {
      // Entries are short; a longer one is read again with a doubled window.
      for (let want = 4096;; want *= 2) {
        const from = Math.max(0, end - want);
        const buf = new Uint8Array(end - from);
        f.seekSync(from, Deno.SeekMode.Start);
        let off = 0;
        while (off < buf.length) {
          const n = f.readSync(buf.subarray(off));
          if (n === null) return null;
          off += n;
        }
        if (buf[buf.length - 1] !== NEWLINE) return null;
        const nl = buf.lastIndexOf(NEWLINE, buf.length - 2);
        if (nl >= 0) return buf.subarray(nl + 1, buf.length - 1);
        if (from === 0) return buf.subarray(0, buf.length - 1);
      }
    } finally {
      f.close();
    }
  }

  /**
   * Append one entry recording `changes` at `time` to the ledger, durably, then rewrite the
   * state file for `state`, which the changes were applied to. The caller holds the store
   * lock. A failure takes the entry back off, leaving the ledger as it was.
   */
  async append(state: StoreState, time: string, changes: readonly Change[]): Promise<void> {
    const before = { ...state.ledger };
    const entry: LedgerEntry = {
      seq: before.seq + 1,
      prev: before.hash,
      time,
      changes,
    };
    const line = canonicalJson(entry);
    const bytes = new TextEncoder().encode(line + "\n");
    // A ledger other names link to (a copy made with `cp -al`) is first made the store's own.
    const f = await openOwn(this.#layout.ledger, { write: true }, this.#layout.tmp);
    try {
      try {
        await f.seek(before.size, Deno.SeekMode.Start);
        await writeAll(f, bytes);
        await f.syncData();
      } catch (err) {
        await f.truncate(before.size).catch(() => {});
        mapWriteError(err, "the ledger");
      }
      state.ledger = { seq: entry.seq, hash: sha256(line), size: before.size + bytes.length };
      try {
        await writeFileAtomic(
          this.#layout.state,
          await encodeStateFile(state),
          this.#layout.tmp,
          STATE_WRITE,
        );
      } catch (err) {
        await f.truncate(before.size).catch(() => {});
        await f.syncData().catch(() => {});
        state.ledger = before;
        throw err;
      }
    } finally {
      f.close();
    }
  }

  /**
   * Bring the state file up to date with the ledger (the caller holds the store lock): a
   * missing state file, or one without a checksum, is rebuilt by replaying the whole ledger;
   * a sealed one is checked against the ledger's entry where it says the ledger ends, and
   * the entries after it are replayed. A torn last entry (a crash mid-append) is cut off.
   */
  async recover(): Promise<StoreState> {
    const file = await this.stateFile();
    const state = file?.sealed ? file.state : emptyState();
    const size = Deno.statSync(this.#layout.ledger).size;
    if (size < state.ledger.size) {
      throw new IntegrityError(
        `The ledger is shorter (${size} bytes) than the state records (${state.ledger.size}): run "tusk verify"`,
        { ledgerSize: size, recorded: state.ledger.size },
      );
    }
    await this.#checkEnd(state);
    if (size === state.ledger.size && file?.sealed) return state;
    const f = await openOwn(this.#layout.ledger, { read: true, write: true }, this.#layout.tmp);
    try {
      await f.seek(state.ledger.size, Deno.SeekMode.Start);
      const tail = new Uint8Array(size - state.ledger.size);
      let off = 0;
      while (off < tail.length) {
        const n = await f.read(tail.subarray(off));
        if (n === null) break;
        off += n;
      }
      let pos = 0;
      const dec = new TextDecoder();
      while (pos < tail.length) {
        const nl = tail.indexOf(10, pos);
        if (nl < 0) break;
        const line = dec.decode(tail.subarray(pos, nl));
        const entry = parseEntry(line, state.ledger.seq + 1);
        if (entry.prev !== state.ledger.hash) {
          throw new IntegrityError(
            `Ledger entry ${entry.seq} does not chain to the one before it`,
            {
              seq: entry.seq,
            },
          );
        }
        applyEntry(state, entry);
        state.ledger = {
          seq: entry.seq,
          hash: sha256(line),
          size: state.ledger.size + (nl - pos) + 1,
        };
        pos = nl + 1;
      }
      if (state.ledger.size < size) {
        await f.truncate(state.ledger.size);
        await f.syncData();
      }
    } finally {
      f.close();
    }
    await writeFileAtomic(
      this.#layout.state,
      await encodeStateFile(state),
      this.#layout.tmp,
      STATE_WRITE,
    );
    return state;
  }

  /** Every ledger entry, checked for chaining, with each line's hash. */
  async *entries(): AsyncGenerator<{ entry: LedgerEntry; hash: Hash; line: string }> {
    const text = await Deno.readTextFile(this.#layout.ledger);
    let prev = GENESIS;
    let seq = 0;
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) {
        throw new IntegrityError(`Ledger entry ${seq + 1} is incomplete`, { seq: seq + 1 });
      }
      const line = text.slice(pos, nl);
      const entry = parseEntry(line, seq + 1);
      if (entry.prev !== prev) {
        throw new IntegrityError(
          `Ledger entry ${entry.seq} is broken: it does not chain to entry ${seq} (an entry was altered)`,
          { seq: entry.seq },
        );
      }
      const hash = sha256(line);
      yield { entry, hash, line };
      prev = hash;
      seq = entry.seq;
      pos = nl + 1;
    }
  }

  /**
   * Ledger entries with seq ≥ `seq`, in order (no chain check; for lookups). Entries carry
   * their seq, so the ledger is read backwards from its end a block at a time and the read
   * stops at the first entry before `seq`: the scheduler asking for the few entries since its
   * last look reads a few kilobytes, not a ledger of a year of commits. A torn last line (a
   * crash mid-append, cut off by the next write) is left out, as reading forwards does.
   */
  async *since(seq: number): AsyncGenerator<{ entry: LedgerEntry }> {
    if (seq <= 1) {
      yield* this.#all();
      return;
    }
    const found: LedgerEntry[] = [];
    const f = await Deno.open(this.#layout.ledger, { read: true });
    try {
      const dec = new TextDecoder();
      // `buf` holds the file's bytes from `start` up to the end of the next line to give
      // (its newline), or up to the file's end until its last newline is found (`trimmed`).
      let start = (await f.stat()).size;
      let trimmed = false;
      let buf: Uint8Array = new Uint8Array(0);
      read: while (start > 0) {
        const from = Math.max(0, start - SINCE_BLOCK);
        const block = await readAt(f, from, start - from);
        buf = concatBytes([block, buf]);
        start = from;
        for (;;) {
          if (!trimmed) {
            const nl = buf.lastIndexOf(NEWLINE);
            if (nl < 0) continue read;
            trimmed = true;
            buf = buf.subarray(0, nl + 1);
          }
          if (buf.length < 2) {
            if (start > 0) continue read;
            break read;
          }
          const prev = buf.lastIndexOf(NEWLINE, buf.length - 2);
          if (prev < 0 && start > 0) continue read;
          const entry = JSON.parse(
            dec.decode(buf.subarray(prev + 1, buf.length - 1)),
          ) as LedgerEntry;
          if (entry.seq < seq) break read;
          found.push(entry);
          buf = buf.subarray(0, prev + 1);
          if (prev < 0) break read;
        }
      }
    } finally {
      f.close();
    }
    for (let i = found.length - 1; i >= 0; i--) yield { entry: found[i]! };
  }

  /**
   * Ledger entries with seq ≥ `seq` whose line holds `text` (no chain check; for finding a
   * commit by a prefix of its id). Only the lines holding `text` are decoded: a search of a
   * ledger of a year of commits costs one read of it and a string search, not a JSON parse
   * of every entry.
   */
  async *holding(text: string, seq: number): AsyncGenerator<{ entry: LedgerEntry }> {
    const all = await Deno.readTextFile(this.#layout.ledger);
    for (let at = all.indexOf(text); at >= 0;) {
      const from = all.lastIndexOf("\n", at) + 1;
      const nl = all.indexOf("\n", at);
      if (nl < 0) break;
      const entry = JSON.parse(all.slice(from, nl)) as LedgerEntry;
      if (entry.seq >= seq) yield { entry };
      at = all.indexOf(text, nl + 1);
    }
  }

  /** Every ledger entry, read forwards (no chain check). */
  async *#all(): AsyncGenerator<{ entry: LedgerEntry }> {
    const text = await Deno.readTextFile(this.#layout.ledger);
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      const entry = JSON.parse(text.slice(pos, nl)) as LedgerEntry;
      pos = nl + 1;
      yield { entry };
    }
  }
}

/** `since()` reads the ledger backwards this many bytes at a time. */
const SINCE_BLOCK = 64 << 10;

/** Decode the ledger line of entry `expectedSeq`, checking its shape (not its chain). */
function parseEntry(line: string, expectedSeq: number): LedgerEntry {
  let entry: LedgerEntry;
  try {
    entry = JSON.parse(line) as LedgerEntry;
  } catch {
    throw new IntegrityError(`Ledger entry ${expectedSeq} is corrupt: it is not valid JSON`, {
      seq: expectedSeq,
    });
  }
  if (
    typeof entry !== "object" || entry === null || entry.seq !== expectedSeq ||
    typeof entry.prev !== "string" || !Array.isArray(entry.changes)
  ) {
    throw new IntegrityError(`Ledger entry ${expectedSeq} is corrupt: its fields are wrong`, {
      seq: expectedSeq,
    });
  }
  return entry;
}
