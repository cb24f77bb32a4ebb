/**
 * A real terminal for dashboard tests: a tmux pane on a tmux server of its own (its own
 * socket), running an interactive bash, driven with send-keys and read with capture-pane.
 * A server per pane: with one shared server, a pane opened while the last one's server was
 * exiting failed ("server exited unexpectedly").
 */
import { MAIN, TUSK_PERMS } from "../_helpers.ts";

let panes = 0;

/** Run tmux on the server at `socket`; returns its stdout. */
async function tmux(socket: string, ...args: string[]): Promise<string> {
  const r = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (r.code !== 0) throw new Error(`tmux ${args.join(" ")} failed: ${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout);
}

/** Quote a word for bash. */
export function shq(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line that runs `tusk up` in the pane with `env` set and the listed names unset
 * (`denoFlags` go to `deno run`, e.g. `--v8-flags=…`).
 */
export function tuskUpLine(
  store: string,
  options: {
    env?: Record<string, string>;
    unset?: readonly string[];
    args?: readonly string[];
    denoFlags?: readonly string[];
    /** The `main.ts` to run (default: this checkout's). */
    main?: string;
  } = {},
): string {
  const unset = (options.unset ?? ["NO_COLOR", "CI", "TUSK_TUI_CRASH_TEST"]).map((n) => `-u ${n}`);
  const env = Object.entries({ TUSK_STORE: store, ...options.env }).map(([k, v]) =>
    `${k}=${shq(v)}`
  );
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    ...TUSK_PERMS,
    ...(options.denoFlags ?? []),
    options.main ?? MAIN,
    "up",
    ...(options.args ?? []),
  ];
  return `env ${unset.join(" ")} ${env.join(" ")} ${deno.map(shq).join(" ")}; echo "EXIT=$?"`;
}

/** A tmux pane running bash on a server of its own; dispose to kill both. */
export class Pane implements AsyncDisposable {
  readonly target = "t";
  readonly #socket: string;

  private constructor(socket: string) {
    this.#socket = socket;
  }

  /** A new `width` × `height` pane with an interactive bash (prompt `PROMPT> `). */
  static async open(width = 120, height = 36): Promise<Pane> {
    const pane = new Pane(`tusk-tui-test-${Deno.pid}-${++panes}`);
    await pane.#tmux(
      "new-session",
      "-d",
      "-s",
      pane.target,
      "-x",
      String(width),
      "-y",
      String(height),
      "env PS1='PROMPT> ' bash --norc --noprofile",
    );
    await pane.waitFor((s) => s.includes("PROMPT>"), "the shell prompt", 5000);
    return pane;
  }

  #tmux(...args: string[]): Promise<string> {
    return tmux(this.#socket, ...args);
  }

  /** Type a line and press Enter. */
  async run(line: string): Promise<void> {
    await this.#tmux("send-keys", "-t", this.target, "-l", line);
    await this.#tmux("send-keys", "-t", this.target, "Enter");
  }

  /** Press keys by tmux name (`Down`, `Enter`, `C-c`, `q`). */
  async keys(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", "-t", this.target, ...keys);
  }

  /** The visible screen as text (`escapes`: with colour and attribute codes). */
  async capture(options: { escapes?: boolean } = {}): Promise<string> {
    return await this.#tmux(
      "capture-pane",
      "-p",
      ...(options.escapes ? ["-e"] : []),
      "-t",
      this.target,
    );
  }

  /** A tmux format about the pane, e.g. `#{alternate_on}`. */
  async display(format: string): Promise<string> {
    return (await this.#tmux("display-message", "-p", "-t", this.target, format)).trim();
  }

  /** Resize the window. */
  async resize(width: number, height: number): Promise<void> {
    await this.#tmux("resize-window", "-t", this.target, "-x", String(width), "-y", String(height));
  }

  /** Poll the screen every 20 ms until `check` holds; returns that screen. */
  async waitFor(
    check: (screen: string) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < end) {
      screen = await this.capture();
      if (check(screen)) return screen;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${screen}`);
  }

  /**
   * Clear the screen of a pane whose shell waits at its prompt, and wait until it is clear:
   * a next `exitStatus()` then cannot read the `EXIT=` of the command before.
   */
  async clear(): Promise<void> {
    await this.run("clear");
    await this.waitFor((s) => !/EXIT=\d+/.test(s), "the screen to clear", 5000);
  }

  /** Wait for the `EXIT=<status>` line the command line prints; returns the status. */
  async exitStatus(timeoutMs = 10_000): Promise<number> {
    const screen = await this.waitFor((s) => /EXIT=\d+/.test(s), "the command to exit", timeoutMs);
    return Number(/EXIT=(\d+)/.exec(screen)![1]);
  }

  /** Pid of the process the shell is running (the foreground command), or null. */
  async childPid(): Promise<number | null> {
    // Deno reads /proc only with --allow-all, so ask ps.
    const shell = await this.display("#{pane_pid}");
    const r = await new Deno.Command("ps", {
      args: ["-o", "pid=", "--ppid", shell],
      stdout: "piped",
    })
      .output();
    const pid = Number(new TextDecoder().decode(r.stdout).trim().split(/\s+/)[0]);
    return pid > 0 ? pid : null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
  }
}

/** SGR sequences in `text` that set a colour (not bold, inverse or resets). */
export function colourCodes(text: string): string[] {
  const out: string[] = [];
  // deno-lint-ignore no-control-regex
  for (const m of text.matchAll(/\x1b\[([0-9;:]*)m/g)) {
    const params = m[1]!.split(/[;:]/).map(Number);
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      if (p === 38 || p === 48 || p === 58) {
        out.push(m[0]);
        break;
      }
      if (
        (p >= 30 && p <= 37) || (p >= 40 && p <= 47) || (p >= 90 && p <= 97) ||
        (p >= 100 && p <= 107)
      ) {
        out.push(m[0]);
        break;
      }
    }
  }
  return out;
}
