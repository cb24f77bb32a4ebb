/**
 * Open a local page in headless Chromium (Debian's `chromium`) and report what a reader would
 * see go wrong: console errors, uncaught exceptions and failed loads, and which `svg` and
 * `canvas` elements it drew, at what size. Driven over the DevTools protocol through
 * `--remote-debugging-pipe` (JSON messages ending in NUL on the browser's fds 3 and 4, which a
 * shell maps to our stdin and stdout), so the test needs no network permission and no npm
 * package.
 */

/** A drawn `svg` or `canvas` element. */
export interface DrawnElement {
  readonly tag: string;
  readonly width: number;
  readonly height: number;
  /** Its `path`, `rect`, `line`, `circle` and `text` descendants (0 for a canvas). */
  readonly marks: number;
}

/** What opening the page gave. */
export interface PageReport {
  /** Console errors, uncaught exceptions and error log entries, as text. */
  readonly errors: string[];
  readonly drawn: DrawnElement[];
}

// deno-lint-ignore no-explicit-any
type Json = any;

interface Message {
  readonly id?: number;
  readonly method?: string;
  readonly sessionId?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { message: string };
}

/** The Chromium program: `$CHROMIUM`, else `chromium` on PATH. */
export function chromiumPath(): string {
  return Deno.env.get("CHROMIUM") || "chromium";
}

/** Open `file` (an absolute path) in headless Chromium; fails after `timeoutMs`. */
export async function openInChromium(file: string, timeoutMs = 60_000): Promise<PageReport> {
  const profile = await Deno.makeTempDir({ prefix: "tusk-chromium-" });
  const flags = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-sync",
    "--remote-debugging-pipe",
    `--user-data-dir=${profile}`,
    "about:blank",
  ];
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null', chromiumPath(), ...flags],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const pending = new Map<number, (m: Message) => void>();
  const listeners: ((m: Message) => void)[] = [];
  let nextId = 1;
  let closed: (reason: Error) => void = () => {};
  const whenClosed = new Promise<never>((_, reject) => (closed = reject));
  whenClosed.catch(() => {});

  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf("\0")) >= 0) {
        const message = JSON.parse(buffer.slice(0, end)) as Message;
        buffer = buffer.slice(end + 1);
        if (message.id !== undefined) pending.get(message.id)?.(message);
        else for (const l of listeners) l(message);
      }
    }
    closed(new Error(`chromium closed the DevTools pipe:\n${(await stderr).slice(-2000)}`));
  })();

  const send = async (
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> => {
    const id = nextId++;
    const answer = new Promise<Message>((resolve) => pending.set(id, resolve));
    const line = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    try {
      await writer.write(encoder.encode(line + "\0"));
    } catch {
      throw new Error(
        `Cannot drive ${chromiumPath()} (Debian's chromium): ${(await stderr).slice(-1000)}`,
      );
    }
    const m = await Promise.race([answer, whenClosed]);
    pending.delete(id);
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result ?? {};
  };

  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  try {
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
    const session = sessionId as string;
    const errors: string[] = [];
    let loaded: () => void = () => {};
    const load = new Promise<void>((resolve) => (loaded = resolve));
    listeners.push((m) => {
      if (m.sessionId !== session || !m.params) return;
      const p = m.params as Json;
      if (m.method === "Page.loadEventFired") loaded();
      if (m.method === "Runtime.exceptionThrown") {
        errors.push(
          `exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`,
        );
      }
      if (m.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) {
        errors.push(
          `console.${p.type}: ${p.args?.map((a: Json) => a.value ?? a.description).join(" ")}`,
        );
      }
      if (m.method === "Log.entryAdded" && p.entry?.level === "error") {
        errors.push(`log (${p.entry.source}): ${p.entry.text}`);
      }
    });
    for (const domain of ["Runtime", "Log", "Page"]) await send(`${domain}.enable`, {}, session);
    const nav = await send("Page.navigate", { url: new URL(`file://${file}`).href }, session);
    if (nav.errorText) errors.push(`navigation: ${nav.errorText}`);
    await Promise.race([load, whenClosed]);
    // A round trip after the load: every event the page raised while loading has arrived.
    const { result } = await send("Runtime.evaluate", {
      expression: `JSON.stringify([...document.querySelectorAll("svg, canvas")]
        .filter((e) => !e.parentElement || !e.parentElement.closest("svg"))
        .map((e) => {
          const r = e.getBoundingClientRect();
          return { tag: e.tagName.toLowerCase(), width: r.width, height: r.height,
            marks: e.querySelectorAll("path, rect, line, circle, text").length };
        }))`,
      returnByValue: true,
    }, session) as { result: { value: string } };
    const drawn = JSON.parse(result.value) as DrawnElement[];
    await send("Browser.close").catch(() => {});
    return { errors, drawn };
  } finally {
    clearTimeout(timer);
    await writer.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    await reading.catch(() => {});
    await stderr.catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
