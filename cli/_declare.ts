/**
 * What the command tables of `cli/<noun>_table.ts` share: binding a row to its handler in
 * `cli/<noun>.ts`, imported only when the command runs, and the options several commands
 * take. A table imports this and the parser alone, so reading the grammar loads no handler.
 */
import { flag, negated, value } from "../lib/cli/command_line.ts";
import type { CliContext } from "./context.ts";

/** A handler `(cli, args, options)` as a row's `run`: `(args, options, cli)`. */
type Run<H> = H extends (cli: CliContext, args: infer A, options: infer O) => void | Promise<void>
  ? (args: A, options: O, cli: CliContext) => Promise<void>
  : never;

/**
 * The handlers of the file `path` (from cli/, `"./repo.ts"`), typed as `M`, each imported
 * when its command runs, by a specifier Deno cannot read ahead of time: for a literal
 * `import("./repo.ts")`, Deno prepares that module's whole graph (the library included)
 * as soon as the table loads.
 *
 * @example
 * ```ts
 * const on = handlers<typeof import("./repo.ts")>("./repo.ts");
 * command({ description: "list repos", run: on("listRepo") });
 * ```
 */
export function handlers<M>(path: string): <H extends keyof M & string>(name: H) => Run<M[H]> {
  return <H extends keyof M & string>(name: H) => {
    const run = async (args: unknown, options: unknown, cli: CliContext) => {
      const module = await import(new URL(path, import.meta.url).href) as Record<
        string,
        (...a: unknown[]) => unknown
      >;
      await module[name]!(cli, args, options);
    };
    return run as Run<M[H]>;
  };
}

/** `--json`. */
export const JSON_OPTION = { json: flag("print JSON for scripts") };

/** `--no-wait`, for commands that make a commit. */
export const WAIT = { wait: negated("do not run the jobs this commit triggers now") };

/** `-m, --message <text>`. */
export const MESSAGE = {
  message: value("text", "commit message", { short: "m", allowEmpty: true }),
};
