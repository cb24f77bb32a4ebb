/**
 * What every handler of `cli/` gets in place of globals: where to print (escaped for
 * people, or exact), the user's folder, the store the command works on (found and opened
 * on first use), the sandbox chosen for stages, and the library, loaded on first use.
 *
 * @example
 * ```ts
 * const cli = new CliContext({ store: "/data/.tusk" });
 * const store = await cli.store();
 * cli.out(`${store.root}\n`);
 * ```
 */
import { printable } from "../lib/format/format.ts";
import type { CompletionCommand, SandboxChoice, Store } from "../lib/mod.ts";

type Lib = typeof import("../lib/mod.ts");
type Pfs = typeof import("../lib/pfs/store.ts");
type Sandbox = typeof import("../lib/pps/sandbox.ts");

/** The modes `--sandbox` and `$TUSK_SANDBOX` take. */
export const SANDBOX_REQUESTS = ["auto", "deno", "bwrap"] as const;

/** How stages are sandboxed, as `--sandbox` and `$TUSK_SANDBOX` ask. */
export type SandboxRequest = typeof SANDBOX_REQUESTS[number];

/** The `--json` option, which many commands take. */
export type JsonOption = { readonly json: boolean };

/** A stream the CLI prints to: `Deno.stdout` or `Deno.stderr`, or a stand-in in tests. */
export interface Output {
  writeSync(bytes: Uint8Array): number;
  readonly writable: WritableStream<Uint8Array>;
  isTerminal(): boolean;
}

/** Options of a `CliContext`: the global options, and the process it speaks to. */
export interface CliContextOptions {
  /** `--store`: the store folder (else `$TUSK_STORE`, else `.tusk` found upward). */
  readonly store?: string | undefined;
  /** `--sandbox` (else `$TUSK_SANDBOX`, else auto). */
  readonly sandbox?: SandboxRequest | undefined;
  /** The program's whole command tree, for completion scripts. */
  readonly commandTree?: () => Promise<CompletionCommand>;
  readonly stdout?: Output;
  readonly stderr?: Output;
  /** Reads an environment variable (default: `Deno.env.get`). */
  readonly env?: (name: string) => string | undefined;
}

/**
 * Import a module of this checkout (`path` from cli/) on first use, by a specifier Deno
 * cannot read ahead of time: for a literal `import("../lib/mod.ts")`, Deno prepares that
 * module's whole graph (npm packages included) as soon as the importer loads, ~10 ms on
 * every command.
 */
export function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}

const encoder = new TextEncoder();

/** Write all of `bytes`: a write to a pipe may take only part of them. */
function writeAll(to: Output, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += to.writeSync(bytes.subarray(off));
}

/** The context of one command: see the module's doc. */
export class CliContext {
  /** The user's folder: `$INIT_CWD` when run through `deno task`, else the working folder. */
  readonly cwd: string;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly #options: CliContextOptions;
  readonly #env: (name: string) => string | undefined;
  #store: Promise<Store> | undefined;
  #sandbox: Promise<SandboxChoice> | undefined;

  constructor(options: CliContextOptions = {}) {
    this.#options = options;
    this.#env = options.env ?? ((name) => Deno.env.get(name));
    this.stdout = options.stdout ?? Deno.stdout;
    this.stderr = options.stderr ?? Deno.stderr;
    this.cwd = this.#env("INIT_CWD") || Deno.cwd();
  }

  /** This context with other global options: the one a command runs with. */
  with(globals: Pick<CliContextOptions, "store" | "sandbox">): CliContext {
    return new CliContext({ ...this.#options, ...globals });
  }

  /**
   * Print text for people on stdout: anything that came from a stage or a user is in it,
   * so every control or invisible character but the line breaks is escaped (`printable()`).
   */
  readonly out = (text: string): void => {
    this.outExact(printable(text, { keepNewlines: true }));
  };

  /** Print on stderr, escaped as `out()` does. */
  readonly err = (text: string): void => {
    this.errExact(printable(text, { keepNewlines: true }));
  };

  /** Print text as it is: JSON, `logs --raw`, completion scripts. */
  readonly outExact = (text: string): void => {
    writeAll(this.stdout, encoder.encode(text));
  };

  /** Write to stderr as it is: the progress line's own cursor codes. */
  readonly errExact = (text: string): void => {
    writeAll(this.stderr, encoder.encode(text));
  };

  /** Print `data` as indented JSON, for scripts. */
  json(data: unknown): void {
    this.outExact(JSON.stringify(data, null, 2) + "\n");
  }

  /** `path` from the user's folder. */
  absolute(path: string): string {
    return path.startsWith("/") ? path : `${this.cwd}/${path}`;
  }

  /** The store folder asked for, `--store` or else `$TUSK_STORE`, absolute; or undefined. */
  get storeFolder(): string | undefined {
    const asked = this.#options.store ?? (this.#env("TUSK_STORE") || undefined);
    return asked === undefined ? undefined : this.absolute(asked);
  }

  /** The store folder given by `--store` alone (not `$TUSK_STORE`), absolute; or undefined. */
  get storeFlag(): string | undefined {
    const asked = this.#options.store;
    return asked === undefined ? undefined : this.absolute(asked);
  }

  /** The store the command works on: the one asked for, else `.tusk` found upward. */
  store(): Promise<Store> {
    return this.#store ??= this.#openStore();
  }

  async #openStore(): Promise<Store> {
    const { Store, NoStoreError } = await this.pfs();
    const asked = this.storeFolder;
    if (asked !== undefined) return await Store.open(asked);
    const found = await Store.find(this.cwd);
    if (!found) {
      throw new NoStoreError(
        `No tusk store in "${this.cwd}" or any folder above it: run "tusk init" first (or pass --store)`,
        { cwd: this.cwd },
      );
    }
    return await Store.open(found);
  }

  /**
   * The sandbox asked for: `--sandbox`, else `$TUSK_SANDBOX` (unset or empty: auto). Rejects
   * with InvalidArgumentError for a `$TUSK_SANDBOX` that is not a mode, as the parser does
   * for `--sandbox`: a typo must not quietly fall back to auto.
   */
  async sandboxRequest(): Promise<SandboxRequest> {
    const asked = this.#options.sandbox ?? "auto";
    const env = this.#env("TUSK_SANDBOX") || undefined;
    if (env !== undefined && !(SANDBOX_REQUESTS as readonly string[]).includes(env)) {
      const { InvalidArgumentError } = await this.pfs();
      throw new InvalidArgumentError(
        `Invalid $TUSK_SANDBOX "${env}": expected one of ${SANDBOX_REQUESTS.join(", ")}`,
        { variable: "TUSK_SANDBOX", value: env, choices: SANDBOX_REQUESTS },
      );
    }
    return asked !== "auto" ? asked : (env as SandboxRequest | undefined) ?? "auto";
  }

  /**
   * The most datums one batched process is given, from `$TUSK_BATCH_DATUMS` (unset or
   * empty: undefined, the library's default). Rejects with InvalidArgumentError for a value
   * that is not a whole number from 1 to 1,000,000.
   */
  async batchDatums(): Promise<number | undefined> {
    const text = this.#env("TUSK_BATCH_DATUMS") || undefined;
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000) {
      const { InvalidArgumentError } = await this.pfs();
      throw new InvalidArgumentError(
        `Invalid $TUSK_BATCH_DATUMS "${text}": expected a whole number of datums from 1 to 1000000`,
        { variable: "TUSK_BATCH_DATUMS", value: text },
      );
    }
    return n;
  }

  /** The sandbox stages get, as `sandboxRequest()` asks, and why. */
  sandbox(): Promise<SandboxChoice> {
    return this.#sandbox ??= this.sandboxRequest().then(async (asked) =>
      (await load<Sandbox>("../lib/pps/sandbox.ts")).detectSandbox(asked)
    );
  }

  /** The program's whole command tree, for completion scripts. */
  commandTree(): Promise<CompletionCommand> {
    if (!this.#options.commandTree) throw new TypeError("This context has no command tree");
    return this.#options.commandTree();
  }

  /** The store and its errors alone, for commands that touch no pipeline: a quicker start. */
  pfs(): Promise<Pfs> {
    return load<Pfs>("../lib/pfs/store.ts");
  }

  /** The whole library, for a store command's occasional pipeline work. */
  lib(): Promise<Lib> {
    return load<Lib>("../lib/mod.ts");
  }
}
