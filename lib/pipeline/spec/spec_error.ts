/** The error of a bad pipeline spec, and the rules a spec can break. */
import { TuskError } from "../../errors.ts";

/** Every rule a spec can break, by code: what `SpecError.rule` says went wrong. */
export const SPEC_RULES = {
  BAD_JSON: "the text is not valid JSON",
  DUPLICATE_KEY: "a key is given twice in one JSON object",
  TOO_DEEP: "objects are nested too deeply",
  UNKNOWN_FIELD: "a field that is not in a pipeline spec, or not at that place",
  UNSUPPORTED_FIELD: "a Pachyderm field that tusk does not implement",
  DUPLICATE_FIELD: "a field given twice, under two spellings or at two places",
  WRONG_TYPE: "a value of the wrong type",
  MISSING_FIELD: "a required field is missing or empty",
  BAD_NAME: "an invalid pipeline, repo, input or branch name",
  RESERVED_NAME: 'an input named "out", the output folder',
  DUPLICATE_NAME: "two inputs with one name",
  BAD_COMMAND: 'a Deno command that is not "deno", "run" and a stage script, or a bad argument',
  BAD_PROGRAM:
    "a host program named by a relative path, a path inside the sandbox, or that is Deno itself",
  MISSING_PROGRAM:
    "a host program not found on PATH, or found only outside the system folders the sandbox mounts",
  NEEDS_SANDBOX:
    "a host-program stage where the OS sandbox (bubblewrap) does not work or was not chosen",
  TOO_LONG: "a command argument, or all of them, too long to start a program with",
  BAD_WORKING_DIR: "a workingDir that is not a folder the stage sees, or given to a Deno stage",
  CODE_LIMIT: "a code folder over the snapshot's file-count or size limit",
  BAD_CODE: "a code folder holding a file tusk cannot snapshot (a device, socket or FIFO)",
  REFUSED_FLAG: "a permission, unstable or V8 flag, which tusk sets itself",
  UNSUPPORTED_FLAG: "a deno flag tusk does not accept",
  BAD_STAGE_PATH: "a stage script that is not a local script file beside the spec",
  UNKNOWN_INPUT: 'a "/pfs/<name>" argument naming no input',
  REFUSED_ENV: "an environment variable a stage may not be given",
  OUT_OF_RANGE: "a number out of its range",
  CONFLICTING_FIELDS: "two fields that cannot be used together",
  EMPTY_INPUT: "an input object or list with no input in it",
  MIXED_INPUT: "an input object of more than one kind",
  MISPLACED_FIELD:
    "a field or input where it does not apply (joinOn outside a join, optional inside one)",
  BAD_CAPTURE_GROUP: "a join or group key naming a capture group the glob lacks",
  BAD_GLOB: "a glob that does not compile",
  BAD_CRON: "an invalid cron schedule",
  BAD_TIME: "a start time that is not an RFC 3339 time",
  BAD_DURATION: "an invalid duration",
  BAD_MEMORY: "an invalid memory quantity",
  CYCLE: "a pipeline reading its own output, directly or through others",
  UNKNOWN_REPO: "an input repo that does not exist",
  MISSING_STAGE: "a stage script that cannot be found",
  STAGE_OUTSIDE:
    "stage code reached from outside the stage's folder (a link out of a code folder included)",
  BAD_IMPORT: "a stage importing a module other than local files and npm: or node: ones",
  BAD_STAGE: "stage code that cannot be loaded (a syntax error, a missing module) or bundled",
  STAGE_CONFIG:
    "a deno.json beside the stage that brings in local packages (links, patch) or cannot be read",
  NOT_CACHED: "an npm package a stage imports that is not in Deno's cache: bundling is offline",
} as const;

/** The code of a rule a spec breaks (see `SPEC_RULES`). */
export type SpecRule = keyof typeof SPEC_RULES;

/** What a `SpecError` names: the rule broken, the JSON path of the culprit and the file. */
export type SpecErrorData = {
  readonly rule: SpecRule;
  /** JSON path like `input.cross[1].pfs.glob`; `""` for the whole document. */
  readonly path: string;
  readonly file?: string;
  /** 1-based line of a JSON syntax error or a key given twice. */
  readonly line?: number;
  /** 1-based column of a JSON syntax error or a key given twice. */
  readonly column?: number;
  /** What was probably meant (a field name, a `/pfs/` path), when there is a near one. */
  readonly suggestion?: string;
};

/**
 * A pipeline spec is malformed or asks for something tusk does not do (usage error, exit
 * 2). Its code is `INVALID_SPEC`; `rule` says which rule it breaks.
 */
export class SpecError extends TuskError {
  declare readonly data: SpecErrorData;

  constructor(message: string, data: SpecErrorData) {
    super("INVALID_SPEC", message, { ...data }, 2);
  }

  /** The rule the spec breaks. */
  get rule(): SpecRule {
    return this.data.rule;
  }
}
