/**
 * `tusk completions bash|zsh|fish`: shell completion scripts for the command tree (both
 * grammars), generated from a description of it. The scripts hold the tree as tables and
 * one POSIX `sh` function that turns the words typed so far into candidates; for repo,
 * branch and pipeline names they call back `tusk __complete repos|branches <repo>|pipelines`,
 * which `completionNames()` answers from the store.
 */
import { PIPELINE_KIND } from "../pipeline/kind.ts";
import type { Store } from "../store/store.ts";
import type { ArgumentInfo, CommandInfo, OptionInfo } from "../cli/command_line.ts";

/** The shells `completionScript()` writes for. */
export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;
/** A shell `completionScript()` writes for. */
export type CompletionShell = typeof COMPLETION_SHELLS[number];

/** One option of a command, as completion sees it (the command line's own description). */
export type CompletionOption = OptionInfo;
/** One positional argument of a command. */
export type CompletionArgument = ArgumentInfo;
/** One command of the tree: the root is the program itself (its name is not typed). */
export type CompletionCommand = CommandInfo;

/**
 * What a value is, for completion: a repo name, a `repo@branch` reference, a branch of
 * the repo given before it, a pipeline, a host file or folder, one of fixed choices, or
 * nothing tusk can offer.
 */
export type ValueKind =
  | "repo"
  | "ref"
  | "branch"
  | "pipeline"
  | "file"
  | "dir"
  | `choice:${string}`
  | "none";

/** The kind of a positional argument named `name` of the command at `path`. */
export function argumentKind(
  arg: Pick<CompletionArgument, "name" | "choices">,
  path: readonly string[],
): ValueKind {
  if (arg.choices && arg.choices.length > 0) return `choice:${arg.choices.join(" ")}`;
  const name = arg.name;
  if (name.includes("@")) return "ref";
  if (name === "repo" || name === "old-repo") return "repo";
  if (name === "branch" || name === "ref" || name === "old-ref" || name === "commit") {
    return "branch";
  }
  if (name === "pipeline" || (name === "name" && path.some((p) => p.includes("pipeline")))) {
    return "pipeline";
  }
  return "none";
}

/** The kind of the value of option `option` of the command at `path`. */
export function optionKind(option: CompletionOption, path: readonly string[]): ValueKind {
  if (!option.takesValue) return "none";
  if (option.choices && option.choices.length > 0) return `choice:${option.choices.join(" ")}`;
  switch (option.name) {
    case "sandbox":
      return "choice:auto deno bwrap";
    case "store":
      return "dir";
    case "pipeline":
      return "pipeline";
    case "file":
      return "file";
    case "output":
      return path[0] === "export" ? "dir" : "file";
    default:
      return "none";
  }
}

/** Names for `tusk __complete`: `repos`, `branches <repo>` or `pipelines`, sorted. */
export async function completionNames(
  store: Store,
  what: string,
  arg?: string,
): Promise<string[]> {
  const state = await store.state();
  switch (what) {
    case "repos":
      return Object.keys(state.repos).sort();
    case "branches":
      return arg === undefined || !Object.hasOwn(state.repos, arg)
        ? []
        : Object.keys(state.repos[arg]!.branches).sort();
    case "pipelines":
      return Object.keys(state.meta[PIPELINE_KIND] ?? {}).sort();
    default:
      return [];
  }
}

/** A word safe inside single quotes in sh (names and flags never hold a quote). */
function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

interface Row {
  readonly path: string;
  readonly node: CompletionCommand;
  readonly parts: readonly string[];
}

function rows(root: CompletionCommand): Row[] {
  const out: Row[] = [];
  const walk = (node: CompletionCommand, parts: string[]) => {
    out.push({ path: parts.join(" "), node, parts });
    for (const c of node.commands) {
      for (const name of [c.name, ...c.aliases]) walk(c, [...parts, name]);
    }
  };
  walk(root, []);
  return out;
}

/** The POSIX sh tables and candidate function shared by every script. */
function core(root: CompletionCommand): string {
  const all = rows(root);
  const globals = root.options.filter((o) => o.takesValue);
  const subs = all.filter((r) => r.node.commands.length > 0).map((r) =>
    `    ${q(r.path)}) echo ${
      q(r.node.commands.flatMap((c) => [c.name, ...c.aliases]).join(" "))
    } ;;`
  );
  const opts = all.map((r) => {
    const flags = [...r.node.options, ...(r.path === "" ? [] : root.options)]
      .flatMap((o) => o.flags);
    return `    ${q(r.path)}) echo ${q([...new Set(flags)].join(" "))} ;;`;
  });
  const optKinds: string[] = [];
  for (const r of all) {
    for (const o of r.node.options) {
      if (!o.takesValue || globals.includes(o)) continue;
      optKinds.push(
        `    ${o.flags.map((f) => q(`${r.path}|${f}`)).join("|")}) echo ${
          q(optionKind(o, r.parts))
        } ;;`,
      );
    }
  }
  for (const o of globals) {
    optKinds.push(
      `    ${o.flags.map((f) => `*${q(`|${f}`)}`).join("|")}) echo ${q(optionKind(o, []))} ;;`,
    );
  }
  const argKinds: string[] = [];
  for (const r of all) {
    r.node.args.forEach((a, i) => {
      const kind = argumentKind(a, r.parts);
      if (kind === "none") return;
      argKinds.push(`    ${q(`${r.path}|${i + 1}`)}) echo ${q(kind)} ;;`);
    });
    const last = r.node.args.at(-1);
    if (last?.variadic) {
      const kind = argumentKind(last, r.parts);
      if (kind !== "none") argKinds.push(`    ${q(`${r.path}|`)}*) echo ${q(kind)} ;;`);
    }
  }
  return `# Tables of the command tree: subcommands, options, and what each value is.
_tusk_subs() {
  case "$1" in
${subs.join("\n")}
  esac
}
_tusk_opts() {
  case "$1" in
${opts.join("\n")}
  esac
}
_tusk_optkind() {
  case "$1|$2" in
${optKinds.join("\n")}
  esac
}
_tusk_argkind() {
  case "$1|$2" in
${argKinds.join("\n")}
  esac
}
_tusk_filter() {
  local _tusk_f _tusk_c
  _tusk_f=$1
  shift
  for _tusk_c in "$@"; do
    case $_tusk_c in "$_tusk_f"*) printf '%s\\n' "$_tusk_c" ;; esac
  done
}
_tusk_names() {
  if [ -n "$_tusk_store" ]; then
    tusk --store "$_tusk_store" __complete "$@" 2>/dev/null
  else
    tusk __complete "$@" 2>/dev/null
  fi
}
# Candidates for the last word, given the words after "tusk", one per line; the lines
# __files__, __dirs__ and __nospace__ ask the shell for files, folders, or no space after.
_tusk_candidates() {
  if [ -n "\${ZSH_VERSION-}" ]; then emulate -L sh; fi
  local _tusk_cmd _tusk_store _tusk_pending _tusk_pos _tusk_repo _tusk_w _tusk_cur _tusk_kind
  local _tusk_s _tusk_r _tusk_b
  _tusk_cmd=''
  _tusk_store=''
  _tusk_pending=''
  _tusk_pos=0
  _tusk_repo=''
  while [ $# -gt 1 ]; do
    _tusk_w=$1
    shift
    if [ -n "$_tusk_pending" ]; then
      if [ "$_tusk_pending" = --store ]; then _tusk_store=$_tusk_w; fi
      _tusk_pending=''
      continue
    fi
    case $_tusk_w in
      --store=*) _tusk_store=\${_tusk_w#*=}; continue ;;
      --*=*) continue ;;
      -*)
        if [ -n "$(_tusk_optkind "$_tusk_cmd" "$_tusk_w")" ]; then _tusk_pending=$_tusk_w; fi
        continue
        ;;
    esac
    if [ "$_tusk_pos" -eq 0 ] && case " $(_tusk_subs "$_tusk_cmd") " in
      *" $_tusk_w "*) true ;;
      *) false ;;
    esac; then
      _tusk_cmd=\${_tusk_cmd:+$_tusk_cmd }$_tusk_w
    else
      _tusk_pos=$((_tusk_pos + 1))
      if [ "$_tusk_pos" -eq 1 ]; then _tusk_repo=$_tusk_w; fi
    fi
  done
  _tusk_cur=$1
  if [ -n "$_tusk_pending" ]; then
    _tusk_kind=$(_tusk_optkind "$_tusk_cmd" "$_tusk_pending")
  else
    case $_tusk_cur in
      -*)
        _tusk_filter "$_tusk_cur" $(_tusk_opts "$_tusk_cmd")
        return 0
        ;;
    esac
    _tusk_s=$(_tusk_subs "$_tusk_cmd")
    if [ "$_tusk_pos" -eq 0 ] && [ -n "$_tusk_s" ]; then
      _tusk_filter "$_tusk_cur" $_tusk_s
      return 0
    fi
    _tusk_kind=$(_tusk_argkind "$_tusk_cmd" $((_tusk_pos + 1)))
  fi
  case $_tusk_kind in
    repo) _tusk_filter "$_tusk_cur" $(_tusk_names repos) ;;
    pipeline) _tusk_filter "$_tusk_cur" $(_tusk_names pipelines) ;;
    branch)
      if [ -n "$_tusk_repo" ]; then
        _tusk_filter "$_tusk_cur" $(_tusk_names branches "$_tusk_repo")
      fi
      ;;
    ref)
      case $_tusk_cur in
        *@*:*) ;;
        *@*)
          _tusk_r=\${_tusk_cur%%@*}
          for _tusk_b in $(_tusk_names branches "$_tusk_r"); do
            _tusk_filter "$_tusk_cur" "$_tusk_r@$_tusk_b"
          done
          ;;
        *)
          echo __nospace__
          _tusk_filter "$_tusk_cur" $(_tusk_names repos)
          ;;
      esac
      ;;
    file) echo __files__ ;;
    dir) echo __dirs__ ;;
    choice:*) _tusk_filter "$_tusk_cur" \${_tusk_kind#choice:} ;;
  esac
  return 0
}
`;
}

function bash(root: CompletionCommand): string {
  return `# bash completion for tusk: source <(tusk completions bash)
${core(root)}
_tusk() {
  local line words cword cur pre c nospace=0 files=0
  cword=\${COMP_WORDS[COMP_CWORD]}
  if [ -n "\${COMP_LINE+x}" ]; then
    line=\${COMP_LINE:0:COMP_POINT}
    read -ra words <<< "$line"
    if [[ -z $line || $line =~ [[:space:]]$ ]]; then words+=(""); fi
  else
    words=("\${COMP_WORDS[@]:0:COMP_CWORD+1}")
  fi
  cur=\${words[\${#words[@]}-1]}
  # Replies replace the text readline completes: the word after the last COMP_WORDBREAKS
  # character, with an "@" before it kept (bash makes "@" a special prefix).
  pre=""
  if [[ $cur == *"$cword" ]]; then
    pre=\${cur:0:\${#cur}-\${#cword}}
    if [[ $pre == *@ && $cword != @* ]]; then pre=\${pre%@}; fi
  fi
  COMPREPLY=()
  while IFS= read -r c; do
    case $c in
      __files__) files=1; COMPREPLY+=($(compgen -f -- "$cur")) ;;
      __dirs__) files=1; COMPREPLY+=($(compgen -d -- "$cur")) ;;
      __nospace__) nospace=1 ;;
      "") ;;
      *) COMPREPLY+=("\${c#"$pre"}") ;;
    esac
  done < <(_tusk_candidates "\${words[@]:1}")
  if [ "$nospace" = 1 ]; then compopt -o nospace 2>/dev/null; fi
  if [ "$files" = 1 ]; then compopt -o filenames 2>/dev/null; fi
  return 0
}
complete -F _tusk tusk
`;
}

function zsh(root: CompletionCommand): string {
  return `#compdef tusk
# zsh completion for tusk: source <(tusk completions zsh)
${core(root)}
_tusk() {
  local -a lines found
  local c nospace=0
  lines=("\${(@f)$(_tusk_candidates "\${(@)words[2,CURRENT]}")}")
  for c in "\${lines[@]}"; do
    case $c in
      __files__) _files; return ;;
      __dirs__) _files -/; return ;;
      __nospace__) nospace=1 ;;
      '') ;;
      *) found+=("$c") ;;
    esac
  done
  if (( nospace )); then
    compadd -Q -S '' -- "\${found[@]}"
  else
    compadd -Q -- "\${found[@]}"
  fi
}
if ! (( $+functions[compdef] )); then autoload -Uz compinit && compinit; fi
compdef _tusk tusk
`;
}

function fish(root: CompletionCommand): string {
  const text = core(root).replace(/\\/g, "\\\\").replace(/'/g, "\\'");
  return `# fish completion for tusk: tusk completions fish > ~/.config/fish/completions/tusk.fish
set -g __tusk_core '${text}'
function __tusk_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    for c in (sh -c "$__tusk_core"\\n'_tusk_candidates "$@"' tusk $words "$cur")
        switch $c
            case __files__
                __fish_complete_path "$cur"
            case __dirs__
                __fish_complete_directories "$cur"
            case __nospace__ ''
            case '*'
                echo $c
        end
    end
end
complete -c tusk -f -a '(__tusk_complete)'
`;
}

/** The completion script for `shell` of the command tree `root`. */
export function completionScript(shell: CompletionShell, root: CompletionCommand): string {
  switch (shell) {
    case "bash":
      return bash(root);
    case "zsh":
      return zsh(root);
    case "fish":
      return fish(root);
  }
}
