/**
 * The command line of a program: a declarative tree of commands (positional arguments,
 * options and a handler typed from them), a parser that turns argv into the handler's call,
 * a help text or the version, and usage errors naming the culprit. It knows nothing of tusk
 * and imports nothing but its error class, so a CLI built on it starts quickly.
 *
 * The grammar is the usual one: `--name value`, `--name=value`, `-n value`, `-nvalue`,
 * combined short flags (`-rc`), `--no-name` for options that default to true, a list option
 * (`-f a b c`) collecting values until the next option, `--` ending options, `-h`/`--help`
 * and `-V`/`--version` anywhere, and the root's options (the globals) at any depth. A group
 * (a command with subcommands) has an implicit `help [command]` subcommand.
 *
 * Handlers get a context as their third argument, whatever the program passes to
 * `Invocation.run()`; a command may also declare aliases, other forms of it at the root with
 * their own positional arguments, which `withAliases()` of `./alias.ts` makes into commands.
 */
import { UsageError } from "../errors.ts";

// ---- option and argument declarations ----

/** An option that is off unless given: `-r, --recursive`. */
export interface FlagSpec {
  readonly kind: "flag";
  readonly help: string;
  readonly short: string | undefined;
}

/** An option that is on unless `--no-<name>` is given (no short form). */
export interface NegatedSpec {
  readonly kind: "negated";
  readonly help: string;
}

/**
 * An option taking one value (`-m, --message <text>`); the last one given wins. An empty
 * value (`--job ""`) is a usage error unless `allowEmpty`: most values name something, and
 * an empty name would read as "none given".
 */
export interface ValueSpec<V extends string = string, R extends boolean = boolean> {
  readonly kind: "value";
  readonly help: string;
  readonly short: string | undefined;
  /** What the value is, shown as `<placeholder>`. */
  readonly placeholder: string;
  readonly required: R;
  /** The values it accepts, when fixed. */
  readonly choices: readonly V[] | undefined;
  /** Whether `""` is a value (a commit message may be empty; a name may not). */
  readonly allowEmpty: boolean;
}

/** An option collecting values: `-f a b -f c` gives `["a", "b", "c"]`; none may be empty. */
export interface ListSpec {
  readonly kind: "list";
  readonly help: string;
  readonly short: string | undefined;
  readonly placeholder: string;
}

/** Any option declaration. */
export type OptionSpec = FlagSpec | NegatedSpec | ValueSpec | ListSpec;

/** A command's options by property name; `skipSpecial` is spelt `--skip-special`. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What the handler gets for an option. */
export type OptionValue<S> = S extends FlagSpec | NegatedSpec ? boolean
  : S extends ListSpec ? string[]
  : S extends ValueSpec<infer V, infer R> ? (R extends true ? V : V | undefined)
  : never;

/** What the handler gets for a command's options. */
export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]: OptionValue<O[K]> };

/**
 * A positional argument: `"<repo>"` (required), `"[path]"` (optional), `"[name...]"`
 * (the rest), or an object adding a help line and fixed choices.
 */
export type ArgSpec = string | {
  readonly usage: string;
  readonly help?: string;
  readonly choices?: readonly string[];
};

type UsageOf<A> = A extends string ? A : A extends { readonly usage: infer U } ? U : never;
type ChoiceOf<A> = A extends { readonly choices: readonly (infer C)[] } ? C : string;

/** What the handler gets for a positional argument. */
export type ArgValue<A> = UsageOf<A> extends `${string}...${">" | "]"}` ? ChoiceOf<A>[]
  : UsageOf<A> extends `[${string}]` ? ChoiceOf<A> | undefined
  : ChoiceOf<A>;

/** What the handler gets for a command's positional arguments, in order. */
export type ArgValues<A extends readonly ArgSpec[]> = { -readonly [I in keyof A]: ArgValue<A[I]> };

/** `-r, --recursive`: a flag, off unless given. */
export function flag(help: string, options: { short?: string } = {}): FlagSpec {
  return { kind: "flag", help, short: checkShort(options.short) };
}

/** `--no-wait`: the option is true unless `--no-<name>` is given. */
export function negated(help: string): NegatedSpec {
  return { kind: "negated", help };
}

/**
 * `-m, --message <text>`: one value; `required: true` makes it mandatory, `allowEmpty: true`
 * accepts `""`.
 */
export function value<const V extends string = string, const R extends boolean = false>(
  placeholder: string,
  help: string,
  options: { short?: string; required?: R; choices?: readonly V[]; allowEmpty?: boolean } = {},
): ValueSpec<V, R> {
  return {
    kind: "value",
    help,
    short: checkShort(options.short),
    placeholder,
    required: (options.required ?? false) as R,
    choices: options.choices,
    allowEmpty: options.allowEmpty ?? false,
  };
}

/** `-f, --file <source...>`: values collected into a list (empty unless given). */
export function list(
  placeholder: string,
  help: string,
  options: { short?: string } = {},
): ListSpec {
  return { kind: "list", help, short: checkShort(options.short), placeholder };
}

function checkShort(short: string | undefined): string | undefined {
  if (short !== undefined && !/^[a-zA-Z]$/.test(short)) {
    throw new TypeError(`Invalid short option "${short}": give one letter`);
  }
  return short;
}

// ---- the command tree ----

/** One option as the parser and the help see it. */
export interface Option {
  /** Its property in the handler's options: `skipSpecial`. */
  readonly key: string;
  /** `--skip-special`, or `--no-wait` for a negated option. */
  readonly long: string;
  /** `-f`, if it has a short form. */
  readonly short: string | undefined;
  readonly kind: OptionSpec["kind"];
  /** `<text>` or `<source...>` for options taking values. */
  readonly placeholder: string | undefined;
  readonly help: string;
  readonly required: boolean;
  readonly choices: readonly string[] | undefined;
  /** Whether it takes `""` as a value. */
  readonly allowEmpty: boolean;
}

/** One positional argument as the parser and the help see it. */
export interface Argument {
  /** Its name without brackets: `repo@branch[:/path]`. */
  readonly name: string;
  /** As written in usage lines: `<repo>`, `[path]`, `[pipeline...]`. */
  readonly usage: string;
  readonly required: boolean;
  readonly variadic: boolean;
  readonly help: string | undefined;
  readonly choices: readonly string[] | undefined;
}

type Handler = (
  args: readonly (string | string[] | undefined)[],
  options: Readonly<Record<string, boolean | string | string[] | undefined>>,
  context: unknown,
) => void | Promise<void>;

/** A flag of an alias alone that sets options of its target when given. */
export interface AliasFlag {
  readonly help: string;
  readonly short?: string;
  /** The target's options it sets: `{ append: false }`. */
  readonly sets: Readonly<Record<string, boolean>>;
}

/** Another form of a command, at the program's root: how it stands for the command. */
export interface AliasForm {
  /** The alias's positional arguments; the command's when left out. */
  readonly args?: readonly ArgSpec[];
  /**
   * One template per argument of the command, made of the alias's arguments: `{name}` is
   * the argument's value and `[…]` a part left out when none of its arguments is given
   * (`"{repo}@{branch}[:{path}]"`). Without templates the arguments pass as they are.
   */
  readonly to?: readonly string[];
  /** Values of the command's on/off options where the alias's differ from the command's. */
  readonly defaults?: Readonly<Record<string, boolean>>;
  /** Flags the command does not have, by property name. */
  readonly flags?: Readonly<Record<string, AliasFlag>>;
  /** Its description in help; `"<prefix> <the command's>"` when left out. */
  readonly description?: string;
}

/** A command: a leaf with a handler, or a group of subcommands. Made by `command()` or `group()`. */
export interface Command {
  readonly description: string;
  readonly args: readonly Argument[];
  readonly options: readonly Option[];
  /** Subcommands by name, in the order help and completion list them. */
  readonly commands: ReadonlyMap<string, Command>;
  /** Left out of help and completion. */
  readonly hidden: boolean;
  /** Text printed after the help. */
  readonly epilogue: string | undefined;
  readonly run: Handler | undefined;
  /** Other forms of the command at the program's root, by name (see `AliasForm`). */
  readonly aliases: Readonly<Record<string, AliasForm>>;
  /** Set for a command the program knows by name but does not have: what it says instead. */
  readonly unsupported?: string;
}

/**
 * What `command()` takes: arguments, options and the handler typed from them; the handler
 * also gets the context `C` the program runs it with.
 */
export interface CommandSpec<A extends readonly ArgSpec[], O extends OptionSpecs, C = void> {
  readonly description?: string;
  readonly args?: A;
  readonly options?: O;
  readonly hidden?: boolean;
  readonly epilogue?: string;
  /** Other forms of the command at the program's root, by name. */
  readonly aliases?: Readonly<Record<string, AliasForm>>;
  readonly run: (
    args: ArgValues<A>,
    options: OptionValues<O>,
    context: C,
  ) => void | Promise<void>;
}

/** A leaf command: `command({ args: ["<repo>"], options: { json: flag("…") }, run })`. */
export function command<
  const A extends readonly ArgSpec[] = readonly [],
  const O extends OptionSpecs = Record<never, never>,
  C = void,
>(spec: CommandSpec<A, O, C>): Command {
  const args = (spec.args ?? []).map(toArgument);
  args.forEach((a, i) => {
    if (a.variadic && i < args.length - 1) {
      throw new TypeError(`Invalid argument "${a.usage}": only the last can be variadic`);
    }
    if (a.required && args.slice(0, i).some((b) => !b.required)) {
      throw new TypeError(`Invalid argument "${a.usage}": a required one follows an optional one`);
    }
  });
  const run = spec.run;
  return {
    description: spec.description ?? "",
    args,
    options: toOptions(spec.options ?? {}),
    commands: new Map(),
    hidden: spec.hidden ?? false,
    epilogue: spec.epilogue,
    // The parser builds these values from the same declarations the types come from, and
    // the program that declared the handler with context `C` runs it with one.
    run: (a, o, c) => run(a as unknown as ArgValues<A>, o as unknown as OptionValues<O>, c as C),
    aliases: spec.aliases ?? {},
  };
}

/** A group of subcommands: `tusk list repo`, `tusk list file`, … */
export function group(description: string, commands: Readonly<Record<string, Command>>): Command {
  return {
    description,
    args: [],
    options: [],
    commands: new Map(Object.entries(commands)),
    hidden: false,
    epilogue: undefined,
    run: undefined,
    aliases: {},
  };
}

/**
 * Where the rows of a table go, by top-level word: a command, named by the noun whose rows
 * declare it, or a group, its description and the nouns whose rows are its subcommands.
 */
export type TablePlace = string | { readonly about: string; readonly from: readonly string[] };

/**
 * A program's top-level commands, in the order of `table`, from rows declared apart: `rows`
 * holds each loaded noun's rows by the words that name them (`"init"`, `"list repo"`). A
 * place whose nouns are not loaded is left out, so a program can load only the nouns a
 * command line needs. Throws TypeError for a row no place takes, or a place of a loaded noun
 * that has no row.
 */
export function placeRows(
  table: Readonly<Record<string, TablePlace>>,
  rows: ReadonlyMap<string, Readonly<Record<string, Command>>>,
): Record<string, Command> {
  const placed = new Set<string>();
  const take = (noun: string, word: string, sub: boolean): [string, Command][] => {
    const found = Object.entries(rows.get(noun) ?? {}).filter(([path]) =>
      sub ? path.startsWith(`${word} `) : path === word
    );
    if (rows.has(noun) && found.length === 0) {
      throw new TypeError(`Invalid place "${word}": noun "${noun}" has no row for it`);
    }
    found.forEach(([path]) => placed.add(`${noun}\0${path}`));
    return found.map(([path, command]) => [path.slice(word.length + 1), command]);
  };
  const commands: Record<string, Command> = {};
  for (const [word, place] of Object.entries(table)) {
    if (typeof place === "string") {
      const [found] = take(place, word, false);
      if (found) commands[word] = found[1];
    } else {
      const subs = place.from.flatMap((noun) => take(noun, word, true));
      if (subs.length > 0) commands[word] = group(place.about, Object.fromEntries(subs));
    }
  }
  for (const [noun, declared] of rows) {
    const stray = Object.keys(declared).find((path) => !placed.has(`${noun}\0${path}`));
    if (stray) throw new TypeError(`Invalid row "${stray}" of noun "${noun}": no place takes it`);
  }
  return commands;
}

/**
 * A command the program knows by name but does not have (a hidden one): naming it, with any
 * arguments or options, is a usage error saying `message`.
 */
export function unsupported(message: string): Command {
  return {
    description: "",
    args: [],
    options: [],
    commands: new Map(),
    hidden: true,
    epilogue: undefined,
    run: undefined,
    aliases: {},
    unsupported: message,
  };
}

/** A whole program: the root group, its global options and its version. */
export interface Program<G extends OptionSpecs> {
  readonly name: string;
  readonly version: string;
  readonly root: Command;
  /** Only for typing `Invocation.globals`. */
  readonly globals?: G;
}

/** Declare a program; `options` are global: accepted before and after any subcommand. */
export function program<const G extends OptionSpecs>(spec: {
  name: string;
  version: string;
  description: string;
  options: G;
  commands: Readonly<Record<string, Command>>;
}): Program<G> {
  const root = group(spec.description, spec.commands);
  return {
    name: spec.name,
    version: spec.version,
    root: { ...root, options: toOptions(spec.options) },
  };
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function toOptions(specs: OptionSpecs): Option[] {
  const options = Object.entries(specs).map(([key, s]): Option => ({
    key,
    long: s.kind === "negated" ? `--no-${kebab(key)}` : `--${kebab(key)}`,
    short: s.kind === "negated" || s.short === undefined ? undefined : `-${s.short}`,
    kind: s.kind,
    placeholder: s.kind === "value"
      ? `<${s.placeholder}>`
      : s.kind === "list"
      ? `<${s.placeholder}...>`
      : undefined,
    help: s.help,
    required: s.kind === "value" && s.required,
    choices: s.kind === "value" ? s.choices : undefined,
    allowEmpty: s.kind === "value" && s.allowEmpty,
  }));
  const taken = new Set(["-h", "--help", "-V", "--version"]);
  for (const o of options) {
    for (const f of [o.long, ...(o.short ? [o.short] : [])]) {
      if (taken.has(f)) throw new TypeError(`Invalid option "${o.long}": "${f}" is taken`);
      taken.add(f);
    }
  }
  return options;
}

function toArgument(spec: ArgSpec): Argument {
  const s = typeof spec === "string" ? { usage: spec } : spec;
  const m = /^(?:<(.+)>|\[(.+)\])$/.exec(s.usage);
  if (!m) throw new TypeError(`Invalid argument "${s.usage}": write <name> or [name]`);
  const inner = m[1] ?? m[2]!;
  const variadic = inner.endsWith("...");
  return {
    name: variadic ? inner.slice(0, -3) : inner,
    usage: s.usage,
    required: m[1] !== undefined,
    variadic,
    help: s.help,
    choices: s.choices,
  };
}

// ---- suggestions ----

/** Optimal string alignment distance (Levenshtein plus transpositions). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(
        d[i - 1]![j]! + 1,
        row[j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

/** `: did you mean "x"?` for the nearest candidates, or an empty string. */
function suggest(word: string, candidates: readonly string[], show = (c: string) => c): string {
  const bare = (w: string) => w.replace(/^-+/, "");
  let best = 3;
  let found: string[] = [];
  for (const c of new Set(candidates)) {
    const d = distance(bare(word), bare(c));
    const length = Math.max(bare(word).length, bare(c).length);
    if (bare(c).length < 2 || (length - d) / length <= 0.4 || d > best) continue;
    if (d < best) found = [];
    best = d;
    found.push(c);
  }
  if (found.length === 0) return "";
  return `: did you mean ${found.sort().map((c) => `"${show(c)}"`).join(" or ")}?`;
}

// ---- parsing ----

/** What a command line asks for: a handler's call, a help text or the version. */
export type Invocation<G extends OptionSpecs> =
  | {
    readonly kind: "run";
    /** The words naming the command: `["put", "file"]`. */
    readonly path: readonly string[];
    readonly globals: OptionValues<G>;
    /** Call the handler with the parsed values and `context`, as its third argument. */
    readonly run: (context?: unknown) => Promise<void>;
  }
  | {
    readonly kind: "help";
    readonly text: string;
    /** True when shown because a group was named without a subcommand (a usage error). */
    readonly error: boolean;
  }
  | { readonly kind: "version"; readonly text: string };

type Value = boolean | string | string[];

/** True for `-x`, `--xyz`: a word the parser reads as an option (`-` alone is a value). */
function optionLike(word: string): boolean {
  return word.length > 1 && word.startsWith("-");
}

/** `-f, --file <source...>`, as help and messages spell an option. */
function flags(o: Option): string {
  return [o.short, o.long].filter((f) => f !== undefined).join(", ") +
    (o.placeholder ? ` ${o.placeholder}` : "");
}

/** One pass over argv: descends the tree, collects values, remembers the first error. */
class Scan {
  cmd: Command;
  readonly path: string[] = [];
  readonly positionals: string[] = [];
  /** Values of the command's own options, then of the root's (global) ones. */
  readonly values = new Map<Option, Value>();
  readonly globals = new Map<Option, Value>();
  /** The words after a `help` subcommand, once one was typed. */
  helpWords: string[] | undefined;
  wantsHelp = false;
  wantsVersion = false;
  error: UsageError | undefined;
  /** A list option taking the following values until the next option. */
  private collecting: [Option, Map<Option, Value>] | undefined;
  private literal = false;
  private next = 0;

  constructor(readonly program: Program<OptionSpecs>, readonly argv: readonly string[]) {
    this.cmd = program.root;
    while (this.next < argv.length) this.word(argv[this.next++]!);
  }

  /** `tusk put file`: the command as messages name it. */
  get name(): string {
    return [this.program.name, ...this.path].join(" ");
  }

  private fail(e: UsageError): void {
    this.error ??= e;
  }

  private word(word: string): void {
    if (this.literal) return this.positional(word);
    if (word === "--") {
      this.literal = true;
      this.collecting = undefined;
    } else if (this.collecting && !optionLike(word)) {
      const [option, into] = this.collecting;
      if (word === "") this.fail(emptyValue(this.name, option));
      else into.set(option, [...this.list(option, into), word]);
    } else {
      this.collecting = undefined;
      if (optionLike(word)) this.option(word);
      else this.positional(word);
    }
  }

  private positional(word: string): void {
    if (this.helpWords) this.helpWords.push(word);
    else if (this.cmd.run) this.positionals.push(word);
    else if (this.error) return;
    else if (word === "help") this.helpWords = [];
    else {
      const sub = this.cmd.commands.get(word);
      if (!sub) return this.fail(unknownCommand(this.program, this.path, word, this.cmd));
      this.cmd = sub;
      this.path.push(word);
      if (sub.unsupported !== undefined) this.fail(unsupportedCommand(this.name, sub));
    }
  }

  private option(word: string): void {
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const flag = eq < 0 ? word : word.slice(0, eq);
      const inline = eq < 0 ? undefined : word.slice(eq + 1);
      if (inline === undefined && flag === "--help") this.wantsHelp = true;
      else if (inline === undefined && flag === "--version") this.wantsVersion = true;
      else this.set(flag, inline, word);
      return;
    }
    // A group of short options: flags until one taking a value, which takes the rest. By
    // code point, so that a character outside the BMP is named whole in an error.
    const chars = [...word.slice(1)];
    for (let j = 0; j < chars.length; j++) {
      const flag = `-${chars[j]}`;
      const rest = chars.slice(j + 1).join("");
      if (flag === "-h") this.wantsHelp = true;
      else if (flag === "-V") this.wantsVersion = true;
      else if (!this.set(flag, rest === "" ? undefined : rest, flag)) return;
    }
  }

  /** The option spelt `flag` and where its value goes: the command's own, else a global. */
  private find(flag: string): [Option, Map<Option, Value>] | undefined {
    const spelt = (o: Option) => o.long === flag || o.short === flag;
    const own = this.cmd === this.program.root ? undefined : this.cmd.options.find(spelt);
    if (own) return [own, this.values];
    const global = this.program.root.options.find(spelt);
    return global ? [global, this.globals] : undefined;
  }

  private list(option: Option, into: Map<Option, Value>): string[] {
    const v = into.get(option);
    return Array.isArray(v) ? v : [];
  }

  /**
   * Take option `flag` with its `inline` value (`--x=v`, `-xv`), if any. Returns true when
   * the rest of a short-option group is still to read (the option was a flag).
   */
  private set(flag: string, inline: string | undefined, typed: string): boolean {
    const found = this.find(flag);
    if (!found) {
      this.fail(unknownOption(this.program, this.cmd, this.name, typed));
      return false;
    }
    const [option, into] = found;
    const data = { command: this.name, option: option.long };
    if (option.kind === "flag" || option.kind === "negated") {
      if (inline !== undefined && flag.startsWith("--")) {
        this.fail(
          new UsageError("UNEXPECTED_VALUE", `Option "${option.long}" takes no value`, {
            ...data,
            value: inline,
          }),
        );
        return false;
      }
      into.set(option, option.kind === "flag");
      return true;
    }
    const v = inline ?? this.argv[this.next++];
    if (v === undefined) {
      this.fail(new UsageError("MISSING_VALUE", `Option "${flags(option)}" needs a value`, data));
    } else if (v === "" && !option.allowEmpty) {
      this.fail(emptyValue(this.name, option));
    } else if (option.choices && !option.choices.includes(v)) {
      this.fail(
        new UsageError(
          "INVALID_CHOICE",
          `Invalid ${flag} "${v}": expected one of ${option.choices.join(", ")}`,
          { ...data, value: v, choices: option.choices },
        ),
      );
    } else if (option.kind === "list") {
      into.set(option, [...this.list(option, into), v]);
      if (inline === undefined) this.collecting = [option, into];
    } else into.set(option, v);
    return false;
  }
}

function emptyValue(name: string, option: Option): UsageError {
  return new UsageError(
    "EMPTY_VALUE",
    `Option "${flags(option)}" cannot be empty: give a value, or leave the option out`,
    { command: name, option: option.long },
  );
}

function unknownOption(
  program: Program<OptionSpecs>,
  cmd: Command,
  name: string,
  typed: string,
): UsageError {
  const known = ["--help", ...(cmd === program.root ? [] : cmd.options), ...program.root.options]
    .map((o) => typeof o === "string" ? o : o.long);
  const hint = typed.startsWith("--") ? suggest(typed.replace(/=.*/, ""), known) : "";
  return new UsageError("UNKNOWN_OPTION", `Unknown option "${typed}" for "${name}"${hint}`, {
    command: name,
    option: typed,
  });
}

function unknownCommand(
  program: Program<OptionSpecs>,
  path: readonly string[],
  word: string,
  cmd: Command,
): UsageError {
  const names = [...cmd.commands].filter(([, c]) => !c.hidden).map(([n]) => n);
  const prefix = path.length > 0 ? `${path.join(" ")} ` : "";
  return new UsageError(
    "UNKNOWN_COMMAND",
    `Unknown command "${prefix}${word}"${suggest(word, [...names, "help"], (n) => prefix + n)}`,
    { command: [program.name, ...path].join(" "), name: word },
  );
}

function unsupportedCommand(name: string, cmd: Command): UsageError {
  return new UsageError("UNSUPPORTED_COMMAND", cmd.unsupported ?? "", { command: name });
}

/**
 * The first `count` words of `argv` that are not options, as the parser reads them while it
 * is still at the root and its groups (which take only the root's options): the value of a
 * root option taking one is skipped, `--` ends options. These are the words that name the
 * command, so a program can load the declarations of that command alone before parsing.
 */
export function commandWords(
  program: Program<OptionSpecs>,
  argv: readonly string[],
  count: number,
): string[] {
  const words: string[] = [];
  const takesValue = (flag: string) => {
    const o = program.root.options.find((x) => x.long === flag);
    return o?.kind === "value" || o?.kind === "list" ? o.kind : undefined;
  };
  let literal = false;
  let collecting = false;
  for (let i = 0; i < argv.length && words.length < count; i++) {
    const word = argv[i]!;
    if (literal || !optionLike(word)) {
      if (!collecting || literal) words.push(word);
      continue;
    }
    collecting = false;
    if (word === "--") {
      literal = true;
    } else if (word.startsWith("--")) {
      const kind = word.includes("=") ? undefined : takesValue(word);
      if (kind) i++;
      collecting = kind === "list";
    } else {
      // As `Scan.option`: flags until one taking a value, which takes the rest of the word
      // or the next one; an unknown letter ends the group.
      const chars = [...word.slice(1)];
      for (let j = 0; j < chars.length; j++) {
        const flag = `-${chars[j]}`;
        if (flag === "-h" || flag === "-V") continue;
        const o = program.root.options.find((x) => x.short === flag);
        if (!o) break;
        if (o.kind !== "value" && o.kind !== "list") continue;
        if (j === chars.length - 1) {
          i++;
          collecting = o.kind === "list";
        }
        break;
      }
    }
  }
  return words;
}

/** The handler's values: given ones, else false for flags, true for negated, [] for lists. */
function valuesOf(
  options: readonly Option[],
  given: ReadonlyMap<Option, Value>,
): Record<string, Value | undefined> {
  const fallback = (o: Option) =>
    o.kind === "flag" ? false : o.kind === "negated" ? true : o.kind === "list" ? [] : undefined;
  return Object.fromEntries(options.map((o) => [o.key, given.get(o) ?? fallback(o)]));
}

/**
 * Parse `argv` (the words after the program's name) against `program`. Throws `UsageError`
 * for a command line that does not fit; `-h`/`--help` anywhere wins over such errors, but
 * for an unknown command.
 */
export function parseCommandLine<G extends OptionSpecs>(
  program: Program<G>,
  argv: readonly string[],
): Invocation<G> {
  const scan = new Scan(program, argv);
  const { cmd, path, name } = scan;
  if (scan.helpWords) {
    let shown = cmd;
    const shownPath = [...path];
    for (const w of scan.helpWords) {
      if (w === "help" && !shown.run) continue;
      const sub = shown.commands.get(w);
      if (!sub) throw unknownCommand(program, shownPath, w, shown);
      shown = sub;
      shownPath.push(w);
      if (sub.unsupported !== undefined) {
        throw unsupportedCommand([program.name, ...shownPath].join(" "), sub);
      }
    }
    return { kind: "help", text: helpText(program, shownPath, shown), error: false };
  }
  // Help for a command that does not exist would hide the typo: that error comes first.
  if (scan.error?.code === "UNKNOWN_COMMAND" || scan.error?.code === "UNSUPPORTED_COMMAND") {
    throw scan.error;
  }
  if (scan.wantsHelp) return { kind: "help", text: helpText(program, path, cmd), error: false };
  if (scan.wantsVersion) return { kind: "version", text: program.version };
  if (scan.error) throw scan.error;
  const run = cmd.run;
  if (!run) return { kind: "help", text: helpText(program, path, cmd), error: true };

  const signature = [name, ...cmd.args.map((a) => a.usage)].join(" ");
  const positionals = [...scan.positionals];
  const args = cmd.args.map((a) => {
    const taken = a.variadic ? positionals.splice(0) : positionals.splice(0, 1);
    if (a.required && taken.length === 0) {
      throw new UsageError("MISSING_ARGUMENT", `Missing argument ${a.usage} of "${signature}"`, {
        command: name,
        argument: a.name,
      });
    }
    const bad = a.choices && taken.find((t) => !a.choices?.includes(t));
    if (a.choices && bad !== undefined) {
      throw new UsageError(
        "INVALID_CHOICE",
        `Invalid ${a.name} "${bad}": expected one of ${a.choices.join(", ")}`,
        { command: name, argument: a.name, value: bad, choices: a.choices },
      );
    }
    return a.variadic ? taken : taken[0];
  });
  if (positionals.length > 0) {
    throw new UsageError(
      "UNEXPECTED_ARGUMENT",
      `Unexpected argument "${positionals[0]}" for "${signature}"`,
      { command: name, argument: positionals[0] },
    );
  }
  const missing = [
    ...cmd.options.filter((o) => o.required && !scan.values.has(o)),
    ...program.root.options.filter((o) => o.required && !scan.globals.has(o)),
  ][0];
  if (missing) {
    throw new UsageError(
      "MISSING_OPTION",
      `Missing required option "${flags(missing)}" for "${name}"`,
      { command: name, option: missing.long },
    );
  }
  const options = valuesOf(cmd.options, scan.values);
  return {
    kind: "run",
    path,
    // Built from the root's declarations, which `G` describes.
    globals: valuesOf(program.root.options, scan.globals) as unknown as OptionValues<G>,
    run: async (context?: unknown) => await run(args, options, context),
  };
}

// ---- help ----

const HELP_WIDTH = 80;
/** Terms longer than this get their description on the next line. */
const TERM_WIDTH = 40;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** Two columns within 80 characters: terms padded to one width, descriptions wrapped. */
function items(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([t]) => t.length).filter((n) => n <= TERM_WIDTH));
  const indent = " ".repeat(width + 4);
  return rows.map(([term, desc]) => {
    const text = wrap(desc, HELP_WIDTH - indent.length).join(`\n${indent}`);
    if (desc === "") return `  ${term}\n`;
    if (term.length > width) return `  ${term}\n${indent}${text}\n`;
    return `  ${term.padEnd(width)}  ${text}\n`;
  }).join("");
}

function choicesNote(choices: readonly string[] | undefined): string {
  return choices ? ` (one of ${choices.join(", ")})` : "";
}

function visible(cmd: Command): [string, Command][] {
  return [...cmd.commands].filter(([, c]) => !c.hidden);
}

/** The help of the command at `path`: usage, description, arguments, options, subcommands. */
export function helpText(
  program: Program<OptionSpecs>,
  path: readonly string[],
  cmd: Command,
): string {
  const isRoot = cmd === program.root;
  const usage = [program.name, ...path, "[options]"];
  if (!cmd.run) usage.push("[command]");
  usage.push(...cmd.args.map((a) => a.usage));
  let text = `Usage: ${usage.join(" ")}\n\n`;
  if (cmd.description) text += `${cmd.description}\n\n`;
  const described = cmd.args.filter((a) => a.help !== undefined || a.choices !== undefined);
  if (described.length > 0) {
    text += `Arguments:\n${
      items(described.map((a) => [a.name, `${a.help ?? ""}${choicesNote(a.choices)}`.trim()]))
    }\n`;
  }
  const options: [string, string][] = cmd.options.map((o) => [
    flags(o),
    `${o.help}${choicesNote(o.choices)}${o.required ? " (required)" : ""}`,
  ]);
  if (isRoot) options.unshift(["-V, --version", "print the version"]);
  options.push(["-h, --help", "print help for the command"]);
  text += `Options:\n${items(options)}`;
  if (!cmd.run) {
    const rows: [string, string][] = visible(cmd).map(([n, c]) => [
      [n, ...(c.options.length > 0 ? ["[options]"] : []), ...c.args.map((a) => a.usage)].join(" "),
      c.description,
    ]);
    rows.push(["help [command]", "print help for a command"]);
    text += `\nCommands:\n${items(rows)}`;
  }
  if (cmd.epilogue) text += `\n${cmd.epilogue}`;
  return text;
}

// ---- the tree, for shell completion ----

/** One option as shell completion sees it. */
export interface OptionInfo {
  /** Every spelling: `["-f", "--file"]`. */
  readonly flags: readonly string[];
  /** Its long name without dashes (`file`, `no-wait`), which says what its value is. */
  readonly name: string;
  /** True when it takes a value. */
  readonly takesValue: boolean;
  /** The values it accepts, when fixed. */
  readonly choices?: readonly string[];
}

/** One positional argument as shell completion sees it. */
export interface ArgumentInfo {
  /** Its name as declared (`repo@ref[:/path]`, `pipeline`, `branch`). */
  readonly name: string;
  readonly variadic: boolean;
  readonly choices?: readonly string[];
}

/** One command as shell completion sees it, built-in help and version included. */
export interface CommandInfo {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly options: readonly OptionInfo[];
  readonly args: readonly ArgumentInfo[];
  readonly commands: readonly CommandInfo[];
}

const HELP_INFO: OptionInfo = { flags: ["-h", "--help"], name: "help", takesValue: false };
const HELP_COMMAND: CommandInfo = {
  name: "help",
  aliases: [],
  options: [],
  args: [{ name: "command", variadic: false }],
  commands: [],
};

/** The visible command tree of `program` (hidden commands left out), for completion scripts. */
export function commandTree(program: Program<OptionSpecs>): CommandInfo {
  const info = (name: string, cmd: Command): CommandInfo => {
    const options: OptionInfo[] = cmd.options.map((o) => ({
      flags: o.short ? [o.short, o.long] : [o.long],
      name: o.long.slice(2),
      takesValue: o.kind === "value" || o.kind === "list",
      ...(o.choices ? { choices: o.choices } : {}),
    }));
    if (cmd === program.root) {
      options.unshift({ flags: ["-V", "--version"], name: "version", takesValue: false });
    }
    options.push(HELP_INFO);
    const commands = visible(cmd).map(([n, c]) => info(n, c));
    if (!cmd.run) commands.push(HELP_COMMAND);
    return {
      name,
      aliases: [],
      options,
      args: cmd.args.map((a) => ({
        name: a.name,
        variadic: a.variadic,
        ...(a.choices ? { choices: a.choices } : {}),
      })),
      commands,
    };
  };
  return info(program.name, program.root);
}
