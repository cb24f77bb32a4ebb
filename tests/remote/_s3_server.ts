/**
 * A small S3-compatible server for the remote tests, on 127.0.0.1, run as its own process (so
 * the tests need no --allow-net). It speaks real S3 HTTP to the real AWS SDK: SigV4 signed
 * requests (checked: a wrong key or secret is refused as S3 refuses it), path-style
 * addressing, PutObject (with `If-None-Match: *` and `If-Match`, checked and applied with no
 * await in between, so two conditional writes cannot both win), GetObject (with `Range`),
 * HeadObject, DeleteObject, ListObjectsV2 (pages of `max-keys`, continuation tokens),
 * HeadBucket. Objects are files under `--root DIR/<bucket>/`, so a test can tamper with them.
 * Not implemented: multipart uploads, versioning, ACLs, presigned URLs, chunked payloads.
 *
 * Arguments: `--root DIR --bucket NAME --key ID --secret SECRET [--hang]
 * [--ignore-conditions]`. It prints `port <n>` once listening; with `--hang` it accepts
 * connections and never answers (an endpoint that does not respond); with
 * `--ignore-conditions` it writes whatever `If-None-Match` says, as servers without
 * conditional writes do. It counts requests in `DIR/requests` (one line each).
 */
import { createHash, createHmac } from "node:crypto";

const args = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i]!;
  if (a === "--hang") args.set("hang", "1");
  else if (a === "--ignore-conditions") args.set("ignore-conditions", "1");
  else args.set(a.replace(/^--/, ""), Deno.args[++i] ?? "");
}
const ROOT = args.get("root")!;
const BUCKET = args.get("bucket") ?? "tusk";
const KEY = args.get("key") ?? "test-key";
const SECRET = args.get("secret") ?? "test-secret";
/** Act as a server that ignores `If-None-Match` (as some S3-compatible servers did). */
const IGNORE_CONDITIONS = args.has("ignore-conditions");

if (args.has("hang")) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`port ${(listener.addr as Deno.NetAddr).port}`);
  const held: Deno.Conn[] = [];
  for await (const conn of listener) held.push(conn);
}

await Deno.mkdir(`${ROOT}/${BUCKET}`, { recursive: true });
const counter = await Deno.open(`${ROOT}/requests`, { append: true, create: true });

const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const hmac = (k: Uint8Array | string, s: string) =>
  new Uint8Array(createHmac("sha256", k).update(s).digest());

/** RFC 3986 encoding, as SigV4 wants it. */
const enc = (s: string) =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

function xml(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    status,
    headers: { "content-type": "application/xml", ...headers },
  });
}

function error(status: number, code: string, message: string): Response {
  return xml(status, `<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

/** Check the request's SigV4 signature; null when it holds, else the error response. */
function checkSignature(req: Request, url: URL, body: Uint8Array): Response | null {
  const auth = req.headers.get("authorization") ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/
      .exec(auth);
  if (!m) return error(403, "AccessDenied", "Missing or malformed Authorization");
  const [, key, date, region, signed, signature] = m;
  if (key !== KEY) {
    return error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist");
  }
  const payload = req.headers.get("x-amz-content-sha256") ?? "";
  if (/^[0-9a-f]{64}$/.test(payload) && sha256(body) !== payload) {
    return error(400, "XAmzContentSHA256Mismatch", "The payload hash does not match");
  }
  const query = url.search.slice(1).split("&").filter(Boolean).map((kv) => {
    const i = kv.indexOf("=");
    const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
    const v = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, "%20"));
    return [enc(k), enc(v)] as const;
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`).join("&");
  const names = signed!.split(";");
  const headers = names.map((n) =>
    `${n}:${(req.headers.get(n) ?? "").trim().replace(/\s+/g, " ")}\n`
  ).join("");
  const canonical = [req.method, url.pathname, query, headers, signed, payload].join("\n");
  const amzDate = req.headers.get("x-amz-date") ?? "";
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let k = hmac(`AWS4${SECRET}`, date!);
  for (const part of [region!, "s3", "aws4_request"]) k = hmac(k, part);
  const expected = createHmac("sha256", k).update(toSign).digest("hex");
  if (expected !== signature) {
    return error(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match",
    );
  }
  return null;
}

const etags = new Map<string, string>();
function etagOf(path: string): string | null {
  try {
    const st = Deno.statSync(path);
    const known = etags.get(path);
    if (known && known.startsWith(`${st.mtime?.getTime()}:`)) return known.split(":")[1]!;
    const tag = md5(Deno.readFileSync(path));
    etags.set(path, `${st.mtime?.getTime()}:${tag}`);
    return tag;
  } catch {
    return null;
  }
}

function listAll(dir: string, rel = ""): { key: string; size: number; mtime: Date }[] {
  const out: { key: string; size: number; mtime: Date }[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.endsWith(".s3tmp")) continue;
    const key = rel + e.name;
    if (e.isDirectory) out.push(...listAll(`${dir}/${e.name}`, `${key}/`));
    else {
      const st = Deno.statSync(`${dir}/${e.name}`);
      out.push({ key, size: st.size, mtime: st.mtime ?? new Date(0) });
    }
  }
  return out;
}

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

let tmpCount = 0;

async function handle(req: Request): Promise<Response> {
  counter.writeSync(new TextEncoder().encode(`${req.method}\n`));
  const url = new URL(req.url);
  const body = new Uint8Array(await req.arrayBuffer());
  const denied = checkSignature(req, url, body);
  if (denied) return denied;
  const parts = url.pathname.split("/").slice(1);
  const bucket = decodeURIComponent(parts[0] ?? "");
  const key = parts.slice(1).map(decodeURIComponent).join("/");
  if (bucket !== BUCKET) return error(404, "NoSuchBucket", "The specified bucket does not exist");
  const path = `${ROOT}/${BUCKET}/${key}`;
  if (key.split("/").some((s) => s === ".." || s === ".")) {
    return error(400, "InvalidArgument", "bad key");
  }
  if (key === "") {
    if (req.method === "HEAD") return new Response(null, { status: 200 });
    if (req.method !== "GET" || url.searchParams.get("list-type") !== "2") {
      return error(501, "NotImplemented", "Only ListObjectsV2 is implemented");
    }
    const prefix = url.searchParams.get("prefix") ?? "";
    const max = Math.min(Number(url.searchParams.get("max-keys") ?? 1000), 1000);
    const after = url.searchParams.get("continuation-token") ??
      url.searchParams.get("start-after") ?? "";
    const all = listAll(`${ROOT}/${BUCKET}`).filter((o) =>
      o.key.startsWith(prefix) && o.key > after
    )
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const page = all.slice(0, max);
    const truncated = all.length > max;
    const contents = page.map((o) =>
      `<Contents><Key>${
        escapeXml(o.key)
      }</Key><LastModified>${o.mtime.toISOString()}</LastModified><ETag>"${
        etagOf(`${ROOT}/${BUCKET}/${o.key}`)
      }"</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`
    ).join("");
    return xml(
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${BUCKET}</Name><Prefix>${
        escapeXml(prefix)
      }</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${
        truncated
          ? `<NextContinuationToken>${escapeXml(page.at(-1)!.key)}</NextContinuationToken>`
          : ""
      }</ListBucketResult>`,
    );
  }
  switch (req.method) {
    case "PUT": {
      if (req.headers.has("x-amz-copy-source")) return error(501, "NotImplemented", "copy");
      const dir = path.slice(0, path.lastIndexOf("/"));
      Deno.mkdirSync(dir, { recursive: true });
      const tmp = `${path}.${Deno.pid}.${++tmpCount}.s3tmp`;
      Deno.writeFileSync(tmp, body);
      // The condition is checked and the object placed with no await in between: one
      // conditional write wins.
      const current = etagOf(path);
      const noneMatch = req.headers.get("if-none-match");
      const match = req.headers.get("if-match");
      if (noneMatch === "*" && current !== null && !IGNORE_CONDITIONS) {
        Deno.removeSync(tmp);
        return error(
          412,
          "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
        );
      }
      if (match !== null && (current === null || match.replace(/"/g, "") !== current)) {
        Deno.removeSync(tmp);
        return current === null
          ? error(404, "NoSuchKey", "The specified key does not exist.")
          : error(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
          );
      }
      Deno.renameSync(tmp, path);
      return new Response(null, { status: 200, headers: { etag: `"${etagOf(path)}"` } });
    }
    case "GET":
    case "HEAD": {
      let data: Uint8Array;
      try {
        if (Deno.statSync(path).isDirectory) throw new Deno.errors.NotFound();
        data = Deno.readFileSync(path);
      } catch {
        if (req.method === "HEAD") return new Response(null, { status: 404 });
        return error(404, "NoSuchKey", "The specified key does not exist.");
      }
      const tag = `"${etagOf(path)}"`;
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.get("range") ?? "");
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
        if (start >= data.length) {
          return error(416, "InvalidRange", "The requested range is not satisfiable");
        }
        const slice = data.subarray(start, end + 1);
        return new Response(
          req.method === "HEAD" ? null : slice.slice() as Uint8Array<ArrayBuffer>,
          {
            status: 206,
            headers: {
              etag: tag,
              "content-length": String(slice.length),
              "content-range": `bytes ${start}-${end}/${data.length}`,
            },
          },
        );
      }
      return new Response(req.method === "HEAD" ? null : data as Uint8Array<ArrayBuffer>, {
        status: 200,
        headers: { etag: tag, "content-length": String(data.length) },
      });
    }
    case "DELETE":
      try {
        Deno.removeSync(path);
      } catch {
        // S3 answers 204 for a key that is not there too.
      }
      return new Response(null, { status: 204 });
  }
  return error(405, "MethodNotAllowed", "The method is not allowed");
}

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`port ${port}`),
}, (req) => handle(req).catch((err) => error(500, "InternalError", String(err))));
