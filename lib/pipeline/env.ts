/**
 * Which environment variables a stage may be given: the rule is shared by spec checks at
 * `create pipeline` and by the sandbox at run time.
 */
import { InvalidArgumentError } from "../errors.ts";

/**
 * Names the Deno 2.9.6 binary (its runtime, Node compatibility layer, npm and JSR
 * resolution, TLS, proxy and telemetry code, Rust runtime), the dynamic loader or the C
 * library act on before or beside the stage's code, so a spec could reach past the
 * sandbox flags with them (write files, load code, grant or log permissions, open
 * channels, change memory limits); and the names the sandbox sets itself. Each group says
 * why, for the error message. Matched without regard to case, since Deno also reads the
 * lower-case proxy names and `npm_config_*`. Locale (`LANG`, `LC_*`), time zone (`TZ`)
 * and colour (`NO_COLOR`, `FORCE_COLOR`, `TERM`) only change how text is formatted, and
 * `NODE_ENV` is read by the stage's own code; they pass.
 */
const RESERVED: readonly { readonly pattern: RegExp; readonly why: string }[] = [
  {
    pattern: /^DENO_/i,
    why: "Deno reads DENO_* names as its own settings (cache, V8 flags, permissions, certificates)",
  },
  {
    pattern: /^(NPM_CONFIG_|JSR_)|^DISABLE_JSR_MANIFEST_VERIFICATION_FOR_TESTING$/i,
    why: "Deno reads it to resolve npm and JSR packages",
  },
  {
    pattern: /^NODE_(?!ENV$)/i,
    why: "Deno's Node compatibility layer acts on it (options, certificates, IPC channels, files)",
  },
  {
    pattern: /^(SSLKEYLOGFILE|SSL_CERT_FILE|SSL_CERT_DIR)$/i,
    why: "Deno's TLS code reads it (SSLKEYLOGFILE makes Deno write TLS keys to a file)",
  },
  {
    pattern: /^(HTTP_PROXY|HTTPS_PROXY|ALL_PROXY|NO_PROXY)$/i,
    why: "Deno routes network connections by it",
  },
  {
    pattern: /^OTEL_/i,
    why: "Deno's OpenTelemetry exporter reads it (endpoints, keys)",
  },
  {
    pattern: /^(RUST_|TOKIO_)/i,
    why: "the Rust runtime inside Deno reads it (logging, stack size, threads)",
  },
  {
    pattern:
      /^(LD_|GLIBC_|MALLOC_)|^(GCONV_PATH|LOCPATH|NLSPATH|TZDIR|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN|ICU_DATA)$/i,
    why: "the dynamic loader or the C library reads it (libraries, allocator, data files)",
  },
  {
    pattern: /^XDG_/i,
    why: "Deno finds its per-user cache and data folders by it",
  },
  {
    pattern: /^(HOME|TMPDIR)$/i,
    why: "the sandbox sets it",
  },
];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a stage may not be given env variable `name`, or null when it may. */
export function reservedEnvReason(name: string): string | null {
  return RESERVED.find((r) => r.pattern.test(name))?.why ?? null;
}

/** Throw `InvalidArgumentError` for an env name a stage may not be given. */
export function validateStageEnv(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new InvalidArgumentError(
        `Cannot pass environment variable "${name}" to a stage: names are letters, digits and "_"`,
        { name },
      );
    }
    const why = reservedEnvReason(name);
    if (why !== null) {
      throw new InvalidArgumentError(
        `Cannot pass environment variable "${name}" to a stage: ${why}`,
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
