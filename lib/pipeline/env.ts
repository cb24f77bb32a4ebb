/**
 * Which environment variables a stage may be given: the rule is shared by spec checks at
 * `create pipeline` and by the sandbox at run time.
 */
import { InvalidArgumentError } from "../errors.ts";

/**
 * Environment variable names a spec may not set: they change how the Deno binary, the
 * dynamic loader or the allocator behave (`LD_PRELOAD`, `DENO_DIR`, `DENO_V8_FLAGS`,
 * `DENO_COVERAGE_DIR`, `NPM_CONFIG_*`, `NODE_OPTIONS`, …) and would reach past the
 * sandbox flags; `HOME` and `TMPDIR` are set by the sandbox.
 */
const RESERVED_ENV =
  /^(DENO_|LD_|NPM_CONFIG_|RUST_|GLIBC_|MALLOC_)|^(NODE_OPTIONS|NODE_PATH|NODE_EXTRA_CA_CERTS|TMPDIR|HOME)$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throw `InvalidArgumentError` for an env name a stage may not be given. */
export function validateStageEnv(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new InvalidArgumentError(
        `Cannot pass environment variable "${name}" to a stage: names are letters, digits and "_"`,
        { name },
      );
    }
    if (RESERVED_ENV.test(name)) {
      throw new InvalidArgumentError(
        `Cannot pass environment variable "${name}" to a stage: it is reserved for the sandbox`,
        { name },
      );
    }
    if (value.includes("\0")) {
      throw new InvalidArgumentError(
        `Cannot pass environment variable "${name}" to a stage: its value holds a NUL byte`,
        { name },
      );
    }
  }
}
