/**
 * Helpers private to the fault tests: hashing files and streams, flipping bytes, reading a
 * store's temp folder and counting its objects, and spawning the CLI without buffering.
 */
import { createHash } from "node:crypto";
import process from "node:process";
import { MAIN, ROOT, TUSK_PERMS } from "../_helpers.ts";

/** Absolute path of a fixture script of the fault tests. */
export function fixture(name: string): string {
  return `${ROOT}/tests/faults/fixtures/${name}`;
}

/** SHA-256 of a host file, streamed, as lower-case hex. */
export async function sha256File(path: string): Promise<string> {
  const f = await Deno.open(path, { read: true });
  const hasher = createHash("sha256");
  for await (const chunk of f.readable) hasher.update(chunk);
  return hasher.digest("hex");
}

/** The command that runs `tusk <args>` (the native Deno binary on main.ts). */
export function tuskCommand(
  args: readonly string[],
  store: string,
  options: Omit<Deno.CommandOptions, "args" | "env"> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", TUSK_STORE: store },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  });
}

/** Run `tusk <args>` and hash its standard output as it streams (for large `get file`). */
export async function tuskStdoutSha256(
  args: readonly string[],
  store: string,
): Promise<{ code: number; sha256: string; bytes: number; stderr: string }> {
  const child = tuskCommand(args, store).spawn();
  const hasher = createHash("sha256");
  let bytes = 0;
  const [, stderr] = await Promise.all([
    (async () => {
      for await (const chunk of child.stdout) {
        hasher.update(chunk);
        bytes += chunk.length;
      }
    })(),
    new Response(child.stderr).text(),
  ]);
  const { code } = await child.status;
  return { code, sha256: hasher.digest("hex"), bytes, stderr };
}

/** XOR one byte of a file with `mask` (1 by default), in place. */
export async function flipByte(path: string, offset: number, mask = 1): Promise<void> {
  const bytes = await Deno.readFile(path);
  if (offset < 0 || offset >= bytes.length) {
    throw new RangeError(`Offset ${offset} is outside "${path}" (${bytes.length} bytes)`);
  }
  bytes[offset] = bytes[offset]! ^ mask;
  await Deno.writeFile(path, bytes);
}

/** True when the process `pid` exists (`kill(pid, 0)` sends nothing; /proc needs --allow-all). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code !== "ESRCH";
  }
}

/** Names of the files in `<store>/tmp` that belong to processes no longer running. */
export async function deadTempFiles(store: string): Promise<string[]> {
  const dead: string[] = [];
  for await (const e of Deno.readDir(`${store}/tmp`)) {
    const pid = Number(e.name.split(".")[0]);
    if (!Number.isInteger(pid) || !pidAlive(pid)) dead.push(e.name);
  }
  return dead.sort();
}

/** Count a store's objects: loose object files and pack index entries. */
export async function countObjects(store: string): Promise<{ loose: number; packed: number }> {
  let loose = 0;
  for await (const d of Deno.readDir(`${store}/objects`)) {
    if (!d.isDirectory) continue;
    for await (const e of Deno.readDir(`${store}/objects/${d.name}`)) if (e.isFile) loose++;
  }
  let packed = 0;
  for await (const e of Deno.readDir(`${store}/packs`)) {
    if (!e.name.endsWith(".idx")) continue;
    const text = await Deno.readTextFile(`${store}/packs/${e.name}`);
    packed += text.split("\n").filter((l) => /^[0-9a-f]{64} \d+ \d+$/.test(l)).length;
  }
  return { loose, packed };
}

/** Host path of a loose object. */
export function loosePath(store: string, hash: string): string {
  return `${store}/objects/${hash.slice(0, 2)}/${hash.slice(2)}`;
}

/** True when a file exists at `path`. */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Wait `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Copy a folder tree (regular files and folders only). */
export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** Lines of a child's output stream, one at a time, then whatever is left at the end. */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line (without its newline), or null at the end of the stream. */
  async next(): Promise<string | null> {
    while (true) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) {
        const rest = this.#buffer;
        this.#buffer = "";
        return rest === "" ? null : rest;
      }
      this.#buffer += value;
    }
  }

  /** Everything up to the end of the stream. */
  async rest(): Promise<string> {
    let out = "";
    for (let line = await this.next(); line !== null; line = await this.next()) out += line + "\n";
    return out;
  }
}

/**
 * Mount a fresh tmpfs of `size` (as mount's `size=` option, e.g. "4m") on a new temp folder,
 * unmounted and removed when disposed. Returns the reason instead when mounting is not
 * permitted here (not root, no mount command, inside a container that forbids it).
 */
export async function mountTmpfs(
  size: string,
): Promise<(AsyncDisposable & { path: string }) | { error: string }> {
  const path = await Deno.makeTempDir({ prefix: "tusk-tmpfs-" });
  let error: string;
  try {
    const r = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (r.code === 0) {
      return {
        path,
        async [Symbol.asyncDispose]() {
          await new Deno.Command("umount", { args: [path], stdout: "null", stderr: "null" })
            .output();
          await Deno.remove(path, { recursive: true }).catch(() => {});
        },
      };
    }
    error = `mount exited ${r.code}: ${new TextDecoder().decode(r.stderr).trim()}`;
  } catch (err) {
    error = `cannot run mount: ${err instanceof Error ? err.message : String(err)}`;
  }
  await Deno.remove(path, { recursive: true }).catch(() => {});
  return { error };
}
