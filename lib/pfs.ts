/**
 * The lean surface of the store (PFS) verbs, for commands that touch no pipeline: loading
 * it does not load the pipeline, scheduler, runner or dashboard code, which keeps a
 * `put file` or `list repo` quick to start. It is the union of `pfs/`: the store and its
 * errors (`pfs/store.ts`) and the verbs per noun, which a command of the CLI imports alone
 * (`isFinal`, the job states' one rule, comes along for the commands that report the jobs
 * their commits ran). `lib/mod.ts` re-exports all of it.
 */
export * from "./pfs/store.ts";
export * from "./pfs/repo.ts";
export * from "./pfs/file.ts";
export * from "./pfs/commit.ts";
export * from "./pfs/jobs.ts";
