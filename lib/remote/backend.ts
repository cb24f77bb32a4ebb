/**
 * What tusk needs of a place that holds a remote: keys and their bytes. A folder and an S3
 * bucket both give it (`folder_backend.ts`, `s3_backend.ts`); everything above works on
 * keys alone. The one operation that decides between two writers is `create()`: a write
 * that succeeds only when the key does not exist yet (an exclusive link in a folder,
 * `If-None-Match: *` on S3).
 */

/** One key found by a listing, with its size in bytes. */
export interface RemoteKey {
  readonly key: string;
  readonly size: number;
}

/** Keys and bytes of one remote. */
export interface RemoteBackend {
  /** How the remote is named to the user (its URL). */
  readonly url: string;
  /** Requests made so far (S3 HTTP requests; file-system calls for a folder). */
  readonly requests: number;
  /** The bytes of `key`, or null when there is no such key. */
  get(key: string): Promise<Uint8Array | null>;
  /** `length` bytes of `key` from `offset`; null when there is no such key. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** A stream of the bytes of `key`, or null when there is no such key. */
  stream(key: string): Promise<ReadableStream<Uint8Array> | null>;
  /** Write `key` (whole: readers never see a part), replacing it if it exists. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Write `key` from the local file `path` of `size` bytes, replacing it if it exists. */
  putFile(key: string, path: string, size: number): Promise<void>;
  /** Write `key` only if it does not exist: true when written, false when it was there. */
  create(key: string, bytes: Uint8Array): Promise<boolean>;
  /** Every key under `prefix` (which ends with "/" or is ""), in key order. */
  list(prefix: string): Promise<RemoteKey[]>;
  /** Let go of connections and handles. */
  close(): void;
}
