/**
 * Host programs as stages: what a pipeline version records of the program its stage runs
 * (`python3`, `sh`, …), found on the host when the version was made, and the resolver that
 * finds it, injected by the caller (the runner knows how to look, the pipeline registry
 * only keeps the answer).
 */
import type { Hash } from "../store/hash.ts";

/** A host program a stage runs, as found when its pipeline version was made or its job ran. */
export interface HostProgram {
  /** `cmd[0]` as the spec names it (`python3`). */
  readonly name: string;
  /** Where it was found: on PATH, or the absolute path the spec gives (`/usr/bin/python3`). */
  readonly path: string;
  /** That path with its links resolved: the file that runs (`/usr/bin/python3.11`). */
  readonly realPath: string;
  /** The first line `<program> --version` printed in the sandbox (`Python 3.11.2`), or null. */
  readonly version: string | null;
  /** SHA-256 of the file that runs. */
  readonly sha256: Hash;
}

/** Options of a `ProgramResolver`: where the program is named, for errors. */
export interface ResolveProgramOptions {
  /** JSON path of the command (`transform.cmd`, `transform.errCmd`). */
  readonly field: string;
  /** The spec file. */
  readonly specFile?: string;
}

/**
 * Find and check the host program `name` at `create pipeline`: a `SpecError` (exit 2) when
 * it cannot be found where the sandbox mounts programs, or the sandbox does not work.
 */
export type ProgramResolver = (
  name: string,
  options: ResolveProgramOptions,
) => Promise<HostProgram>;
