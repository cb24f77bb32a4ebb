/**
 * A remote in an S3 bucket (AWS, or anything that speaks S3 at `AWS_ENDPOINT_URL`), through
 * the AWS SDK, configured the AWS way: `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`; then
 * path-style addressing), credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
 * `AWS_PROFILE` and the shared files, `AWS_REGION`. The SDK is loaded only here, on first
 * use, so no other command pays for it. `create()` relies on `If-None-Match: *` on
 * PutObject (S3 refuses with 412 when the key exists): the one conditional write a push
 * needs. Every failure the SDK reports is turned into a `RemoteError` naming the remote and
 * what to do; a remote that does not answer fails within seconds rather than hang.
 */
import { RemoteError } from "../errors.ts";
import type { RemoteBackend, RemoteKey } from "./backend.ts";

type Sdk = typeof import("@aws-sdk/client-s3");

/** The SDK, loaded on first use by a name Deno does not read ahead of time. */
async function sdk(): Promise<Sdk> {
  const name = "@aws-sdk/client-s3";
  return await import(name) as Sdk;
}

/** Milliseconds to connect, and of silence on a connection, before a request fails. */
const CONNECT_MS = 3_000;
const IDLE_MS = 3_000;
/** Small requests (listings, log entries) are given up after this long, retries included. */
const SMALL_REQUEST_MS = 8_000;
/** Files at least this big are uploaded as a stream rather than read into memory. */
const STREAM_UPLOAD = 64 << 20;

/** Where an S3 remote's settings come from: the environment, as the AWS tools read it. */
export interface S3Options {
  readonly bucket: string;
  readonly prefix: string;
  readonly url: string;
  readonly env: (name: string) => string | undefined;
}

/** A remote in an S3 bucket under a key prefix. */
export class S3Backend implements RemoteBackend {
  readonly url: string;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #env: (name: string) => string | undefined;
  #client: Promise<{ sdk: Sdk; client: InstanceType<Sdk["S3Client"]> }> | undefined;
  #requests = 0;

  constructor(options: S3Options) {
    this.url = options.url;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ? `${options.prefix}/` : "";
    this.#env = options.env;
  }

  get requests(): number {
    return this.#requests;
  }

  /** The endpoint asked for, if any: then addressing is path-style, as custom servers want. */
  get endpoint(): string | undefined {
    return this.#env("AWS_ENDPOINT_URL_S3") || this.#env("AWS_ENDPOINT_URL") || undefined;
  }

  #connect() {
    return this.#client ??= (async () => {
      const s = await sdk();
      const endpoint = this.endpoint;
      const region = this.#env("AWS_REGION") || this.#env("AWS_DEFAULT_REGION") ||
        (endpoint ? "us-east-1" : undefined);
      // Keys given in the environment are used as given; else the SDK's own chain (profile,
      // shared files, instance roles) finds them.
      const id = this.#env("AWS_ACCESS_KEY_ID");
      const secret = this.#env("AWS_SECRET_ACCESS_KEY");
      const token = this.#env("AWS_SESSION_TOKEN");
      const profile = this.#env("AWS_PROFILE");
      const client = new s.S3Client({
        ...(region ? { region } : {}),
        ...(id && secret
          ? {
            credentials: {
              accessKeyId: id,
              secretAccessKey: secret,
              ...(token ? { sessionToken: token } : {}),
            },
          }
          : profile
          ? { profile }
          : {}),
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        maxAttempts: 2,
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        requestHandler: {
          connectionTimeout: CONNECT_MS,
          requestTimeout: IDLE_MS,
          throwOnRequestTimeout: true,
        },
        // lib/ is silent: the SDK's own warnings would go to the console.
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {} },
        // The SDK's own user agent reads the OS release, which needs --allow-sys: tusk names
        // itself instead.
        defaultUserAgentProvider: () => Promise.resolve([["tusk"], ["aws-sdk-js"]]),
      });
      // Counted per HTTP attempt: the deserialize step runs inside the SDK's retries.
      client.middlewareStack.add((next) => (args) => {
        this.#requests++;
        return next(args);
      }, { step: "deserialize", name: "tuskRequestCount" });
      return { sdk: s, client };
    })();
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  /** `err` from the SDK as the error to throw: a RemoteError saying what went wrong. */
  #fail(err: unknown, key: string): never {
    const e = err as {
      name?: string;
      Code?: string;
      code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const name = e.name ?? e.Code ?? "";
    const status = e.$metadata?.httpStatusCode;
    const what = `S3 remote "${this.url}"`;
    const data = { remote: this.url, key, status, awsCode: name };
    if (name === "NoSuchBucket") {
      throw new RemoteError(
        `Cannot use ${what}: bucket "${this.#bucket}" does not exist (create it first)`,
        { ...data, problem: "no-bucket" },
      );
    }
    if (
      [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
        "InvalidToken",
        "CredentialsProviderError",
      ].includes(name) || status === 403 ||
      /credential/i.test(e.message ?? "")
    ) {
      throw new RemoteError(
        `${what} refused the credentials (${name || status}): check AWS_ACCESS_KEY_ID and ` +
          "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, and that they may read and write the bucket",
        { ...data, problem: "auth" },
      );
    }
    if (/region/i.test(e.message ?? "") && !status) {
      throw new RemoteError(`Cannot use ${what}: no region is set (set AWS_REGION)`, {
        ...data,
        problem: "config",
      });
    }
    if (
      status === undefined || name === "TimeoutError" || name === "AbortError" ||
      /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket|timed? ?out/i
        .test(`${e.code ?? ""} ${e.message ?? ""} ${name}`)
    ) {
      const at = this.endpoint ? ` at ${this.endpoint}` : "";
      const why = name === "AbortError" || /abort|timed? ?out|timeout/i.test(e.message ?? "")
        ? `no answer within ${IDLE_MS / 1000} s`
        : e.message || name || "no answer";
      throw new RemoteError(
        `Cannot reach ${what}${at}: ${why}`,
        { ...data, problem: "unreachable" },
      );
    }
    throw new RemoteError(`${what} failed on "${key}": ${name} ${e.message ?? ""}`.trim(), {
      ...data,
      problem: "failed",
    });
  }

  /** Send a small request, given up on after `SMALL_REQUEST_MS` whatever the retries. */
  async #send<T>(key: string, make: (s: Sdk) => unknown, small = true): Promise<T> {
    const { sdk, client } = await this.#connect();
    try {
      // deno-lint-ignore no-explicit-any
      return await client.send(make(sdk) as any, {
        ...(small ? { abortSignal: AbortSignal.timeout(SMALL_REQUEST_MS) } : {}),
      }) as T;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === "NoSuchKey" || name === "NotFound") throw new KeyAbsent();
      if (name === "PreconditionFailed" || name === "ConditionalRequestConflict") {
        throw new KeyPresent();
      }
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata
        ?.httpStatusCode;
      if (status === 404 && name !== "NoSuchBucket") throw new KeyAbsent();
      if (status === 412) throw new KeyPresent();
      this.#fail(err, key);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const r = await this.#send<{ Body: { transformToByteArray(): Promise<Uint8Array> } }>(
        key,
        (s) => new s.GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
        false,
      );
      return await r.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof KeyAbsent) return null;
      throw err;
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    if (length === 0) return new Uint8Array();
    try {
      const r = await this.#send<{ Body: { transformToByteArray(): Promise<Uint8Array> } }>(
        key,
        (s) =>
          new s.GetObjectCommand({
            Bucket: this.#bucket,
            Key: this.#key(key),
            Range: `bytes=${offset}-${offset + length - 1}`,
          }),
        false,
      );
      return await r.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof KeyAbsent) return null;
      throw err;
    }
  }

  async stream(key: string): Promise<ReadableStream<Uint8Array> | null> {
    try {
      const r = await this.#send<{ Body: { transformToWebStream(): ReadableStream<Uint8Array> } }>(
        key,
        (s) => new s.GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
        false,
      );
      return r.Body.transformToWebStream();
    } catch (err) {
      if (err instanceof KeyAbsent) return null;
      throw err;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.#send(key, (s) =>
      new s.PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#key(key),
        Body: bytes,
        ContentLength: bytes.length,
      }), false);
  }

  async putFile(key: string, path: string, size: number): Promise<void> {
    if (size < STREAM_UPLOAD) return await this.put(key, await Deno.readFile(path));
    const { createReadStream } = await import("node:fs");
    await this.#send(key, (s) =>
      new s.PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#key(key),
        Body: createReadStream(path),
        ContentLength: size,
      }), false);
  }

  async create(key: string, bytes: Uint8Array): Promise<boolean> {
    try {
      await this.#send(key, (s) =>
        new s.PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          Body: bytes,
          ContentLength: bytes.length,
          IfNoneMatch: "*",
        }));
      return true;
    } catch (err) {
      if (err instanceof KeyPresent) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<RemoteKey[]> {
    const out: RemoteKey[] = [];
    let token: string | undefined;
    do {
      const r = await this.#send<{
        Contents?: { Key?: string; Size?: number }[];
        IsTruncated?: boolean;
        NextContinuationToken?: string;
      }>(prefix, (s) =>
        new s.ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#key(prefix),
          ...(token ? { ContinuationToken: token } : {}),
        }));
      for (const c of r.Contents ?? []) {
        if (c.Key?.startsWith(this.#prefix)) {
          out.push({ key: c.Key.slice(this.#prefix.length), size: c.Size ?? 0 });
        }
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  close(): void {
    this.#client?.then(({ client }) => client.destroy()).catch(() => {});
  }
}

/** The key asked for does not exist (404). */
class KeyAbsent extends Error {}
/** A conditional write found the key there (412). */
class KeyPresent extends Error {}
