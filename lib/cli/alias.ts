/**
 * Commands made from other commands by data: another grammar's form of a command (pachctl
 * 1.x's `list-commit repo branch` for 2.x's `list commit repo@branch`), declared on the
 * command as an `AliasForm`. An alias has its own positional arguments, turned into the
 * target's by templates, and the target's options, plus flags that set some of them and
 * defaults that differ from the target's. Like the parser, it knows nothing of the program
 * it serves.
 */
import {
  type AliasForm,
  type Command,
  command,
  flag,
  type Option,
  type OptionSpecs,
} from "./command_line.ts";
import { UsageError } from "../errors.ts";

export type { AliasFlag, AliasForm } from "./command_line.ts";

/** How an alias stands for its target, named by the words that name it. */
export interface AliasSpec extends AliasForm {
  /** The target, by the words that name it: `"list commit"`. */
  readonly for: string;
}

/** One piece of a parsed template: literal text, an argument, or an optional group. */
type Piece = string | { readonly arg: string } | readonly Piece[];

function parseTemplate(template: string, known: ReadonlySet<string>): Piece[] {
  const stack: Piece[][] = [[]];
  let i = 0;
  const bad = (why: string) => new TypeError(`Invalid template "${template}": ${why}`);
  while (i < template.length) {
    const c = template[i]!;
    if (c === "[") {
      const group: Piece[] = [];
      stack.at(-1)!.push(group);
      stack.push(group);
      i++;
    } else if (c === "]") {
      if (stack.length === 1) throw bad('a "]" closes no "["');
      stack.pop();
      i++;
    } else if (c === "{") {
      const end = template.indexOf("}", i);
      if (end < 0) throw bad('a "{" is not closed');
      const arg = template.slice(i + 1, end);
      if (!known.has(arg)) throw bad(`no argument "${arg}"`);
      stack.at(-1)!.push({ arg });
      i = end + 1;
    } else {
      let j = i;
      while (j < template.length && !"[]{}".includes(template[j]!)) j++;
      if (j === i) throw bad('a "}" closes no "{"');
      stack.at(-1)!.push(template.slice(i, j));
      i = j;
    }
  }
  if (stack.length !== 1) throw bad('a "[" is not closed');
  return stack[0]!;
}

interface Filled {
  readonly text: string;
  /** How many arguments in it (nested groups included) were given. */
  readonly given: number;
  /** The arguments directly in it that were not. */
  readonly missing: readonly string[];
}

/** Fill `pieces` with `values`; a group with an argument given needs all its own. */
function fill(
  pieces: readonly Piece[],
  values: ReadonlyMap<string, string | undefined>,
  missingArgument: (arg: string) => UsageError,
): Filled {
  let text = "";
  let given = 0;
  const missing: string[] = [];
  for (const p of pieces) {
    if (typeof p === "string") text += p;
    else if (Array.isArray(p)) {
      const group = fill(p as readonly Piece[], values, missingArgument);
      if (group.given === 0) continue;
      if (group.missing.length > 0) throw missingArgument(group.missing[0]!);
      text += group.text;
      given += group.given;
    } else {
      const v = values.get((p as { arg: string }).arg);
      if (v === undefined) missing.push((p as { arg: string }).arg);
      else {
        text += v;
        given++;
      }
    }
  }
  return { text, given, missing };
}

/** The command at `path` in `commands`, or a TypeError naming it. */
function resolve(commands: Readonly<Record<string, Command>>, path: string): Command {
  const [first, ...rest] = path.split(" ");
  let cmd = commands[first!];
  for (const word of rest) cmd = cmd?.commands.get(word);
  if (!cmd?.run) throw new TypeError(`Invalid alias target "${path}": no such command`);
  return cmd;
}

/** The value an option has when not given. */
function fallback(o: Option): boolean | string[] | undefined {
  return o.kind === "flag"
    ? false
    : o.kind === "negated"
    ? true
    : o.kind === "list"
    ? []
    : undefined;
}

/**
 * The alias `name` for a command of `commands`, as `spec` says; `prefix` starts its default
 * description (`"(1.x)"`). Throws TypeError for a spec that does not fit its target.
 */
export function alias(
  commands: Readonly<Record<string, Command>>,
  name: string,
  spec: AliasSpec,
  prefix: string,
): Command {
  const target = resolve(commands, spec.for);
  const targetRun = target.run!;
  const own: Record<string, ReturnType<typeof flag>> = {};
  for (const [key, f] of Object.entries(spec.flags ?? {})) {
    own[key] = flag(f.help, f.short === undefined ? {} : { short: f.short });
  }
  const byKey = new Map(target.options.map((o) => [o.key, o]));
  const settable = [
    ...Object.keys(spec.defaults ?? {}),
    ...Object.values(spec.flags ?? {}).flatMap((f) => Object.keys(f.sets)),
  ];
  for (const key of settable) {
    const o = byKey.get(key);
    if (!o || (o.kind !== "flag" && o.kind !== "negated")) {
      throw new TypeError(`Invalid alias "${name}": "${spec.for}" has no on/off option "${key}"`);
    }
  }
  const base = command({
    description: spec.description ?? `${prefix} ${target.description}`,
    args: spec.args ?? target.args.map((a) => ({
      usage: a.usage,
      ...(a.help !== undefined ? { help: a.help } : {}),
      ...(a.choices !== undefined ? { choices: a.choices } : {}),
    })),
    options: own as OptionSpecs,
    epilogue: `Another form of "${spec.for}".\n`,
    run: () => {},
  });
  const spelt = new Set(target.options.flatMap((o) => [o.long, ...(o.short ? [o.short] : [])]));
  for (const o of base.options) {
    for (const f of [o.long, ...(o.short ? [o.short] : [])]) {
      if (spelt.has(f)) throw new TypeError(`Invalid alias "${name}": "${f}" is the target's`);
    }
  }
  const names = new Set(base.args.map((a) => a.name));
  const templates = spec.to?.map((t) => parseTemplate(t, names));
  if (templates && templates.length !== target.args.length) {
    throw new TypeError(
      `Invalid alias "${name}": ${templates.length} templates for ${target.args.length} arguments`,
    );
  }
  if (templates && target.args.some((a) => a.variadic)) {
    throw new TypeError(`Invalid alias "${name}": templates cannot fill a variadic argument`);
  }
  const signature = [name, ...base.args.map((a) => a.usage)].join(" ");
  const missingArgument = (arg: string) => {
    const a = base.args.find((x) => x.name === arg)!;
    return new UsageError("MISSING_ARGUMENT", `Missing argument ${a.usage} of "${signature}"`, {
      command: name,
      argument: arg,
    });
  };

  return {
    ...base,
    options: [...target.options, ...base.options],
    run: (args, options, context) => {
      let targetArgs = args;
      if (templates) {
        const values = new Map(base.args.map((a, i) => [a.name, args[i] as string | undefined]));
        targetArgs = templates.map((pieces) => {
          const r = fill(pieces, values, missingArgument);
          if (r.given === 0) return undefined;
          if (r.missing.length > 0) throw missingArgument(r.missing[0]!);
          return r.text;
        });
        const lost = target.args.find((a, i) => a.required && targetArgs[i] === undefined);
        if (lost) {
          throw new UsageError(
            "MISSING_ARGUMENT",
            `Missing argument ${lost.usage} of "${signature}"`,
            {
              command: name,
              argument: lost.name,
            },
          );
        }
      }
      const values: Record<string, boolean | string | string[] | undefined> = {};
      for (const o of target.options) {
        const v = options[o.key];
        values[o.key] = v === fallback(o) && spec.defaults?.[o.key] !== undefined
          ? spec.defaults[o.key]
          : v;
      }
      for (const [key, f] of Object.entries(spec.flags ?? {})) {
        if (options[key] !== true) continue;
        for (const [set, to] of Object.entries(f.sets)) {
          const o = byKey.get(set)!;
          // Given on the command line (not its fallback) with the other value: a contradiction.
          if (options[set] !== fallback(o) && options[set] !== to) {
            const mine = base.options.find((x) => x.key === key)!;
            const spelt = (x: Option) =>
              [x.short, x.long].filter((v) => v !== undefined).join(", ");
            throw new UsageError(
              "CONFLICTING_OPTIONS",
              `Options "${spelt(mine)}" and "${
                spelt(o)
              }" of "${name}" contradict each other: give one of them`,
              { command: name, options: [mine.long, o.long] },
            );
          }
        }
        Object.assign(values, f.sets);
      }
      return targetRun(targetArgs, values, context);
    },
  };
}

/**
 * `commands`, then the aliases their commands declare (`aliases` of `command()`), in the
 * order the tree declares them, made by `alias()` with `prefix`. Throws TypeError for an
 * alias named as a command already is, or declared twice.
 */
export function withAliases(
  commands: Readonly<Record<string, Command>>,
  prefix: string,
): Record<string, Command> {
  const all: Record<string, Command> = { ...commands };
  const visit = (path: readonly string[], cmd: Command) => {
    for (const [name, form] of Object.entries(cmd.aliases)) {
      if (Object.hasOwn(all, name)) {
        throw new TypeError(`Invalid alias "${name}" of "${path.join(" ")}": the name is taken`);
      }
      all[name] = alias(commands, name, { ...form, for: path.join(" ") }, prefix);
    }
    for (const [word, sub] of cmd.commands) visit([...path, word], sub);
  };
  for (const [word, cmd] of Object.entries(commands)) visit([word], cmd);
  return all;
}
