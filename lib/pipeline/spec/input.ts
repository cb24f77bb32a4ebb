/**
 * A pipeline's input tree, as the parsed spec holds it, and `inputLeaves()`, the one walker
 * of it: every reader of a pipeline's inputs (its repos, its cron schedules, its `/pfs/`
 * folders) takes the leaves in order.
 */

/** A `pfs` input: the files of one branch of a repo, split into datums by a glob. */
export interface PfsInput {
  readonly kind: "pfs";
  /** The folder name under `/pfs/` (defaults to the repo). */
  readonly name: string;
  readonly repo: string;
  readonly branch: string;
  /** Always `/`-rooted (`*` is given back as `/*`). */
  readonly glob: string;
  readonly joinOn?: string;
  readonly groupBy?: string;
  readonly outerJoin: boolean;
  readonly emptyFiles: boolean;
  /**
   * tusk's extension: true when the input may have nothing to give (its repo missing or
   * without commits, or no file matching the glob). Such an input then gives one datum with
   * its `/pfs/<name>` folder empty, where a required one gives none. Set only when true.
   */
  readonly optional?: true;
}

/** A `cron` input: a repo that receives a tick file on a schedule. */
export interface CronInput {
  readonly kind: "cron";
  readonly name: string;
  /** A five-field cron pattern, a descriptor like `@daily`, or `@every <duration>`. */
  readonly spec: string;
  /** Defaults to `<pipeline>_<name>`. */
  readonly repo: string;
  readonly overwrite: boolean;
  /** RFC 3339 time, as given. */
  readonly start?: string;
}

/** A kind of input that combines others. */
export type Combinator = "cross" | "union" | "join" | "group";

/** A `cross`, `union`, `join` or `group` of inputs. */
export interface CombinedInput {
  readonly kind: Combinator;
  readonly inputs: readonly Input[];
}

/** An input that reads a repo: a leaf of the input tree. */
export type InputLeaf = PfsInput | CronInput;

/** One node of a pipeline's input tree. */
export type Input = InputLeaf | CombinedInput;

/** The branch cron ticks are committed to. */
export const CRON_BRANCH = "master";

/**
 * Every leaf of an input tree, in order (union members may share a name), or with `kind`
 * only the leaves of that kind.
 */
export function inputLeaves(input: Input): InputLeaf[];
export function inputLeaves<K extends InputLeaf["kind"]>(
  input: Input,
  kind: K,
): Extract<InputLeaf, { kind: K }>[];
export function inputLeaves(input: Input, kind?: InputLeaf["kind"]): InputLeaf[] {
  const leaves = leavesOf(input);
  return kind === undefined ? leaves : leaves.filter((leaf) => leaf.kind === kind);
}

function leavesOf(input: Input): InputLeaf[] {
  return "inputs" in input ? input.inputs.flatMap(leavesOf) : [input];
}

/** The branch a leaf reads: a pfs input's own, a cron input's `CRON_BRANCH`. */
export function leafBranch(leaf: InputLeaf): string {
  return leaf.kind === "pfs" ? leaf.branch : CRON_BRANCH;
}
