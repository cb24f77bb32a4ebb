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
 * lower-case proxy names and `npm_config_*`. Locale (`LANG`, `LC_*`), time zone (`TZ`,
 * a zone name: see `envValueReason()`) and colour (`NO_COLOR`, `FORCE_COLOR`, `TERM`) only
 * change how text is formatted, and `NODE_ENV` is read by the stage's own code; they pass.
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

/**
 * The most bytes (UTF-8) one value may have: Linux takes at most 128 KiB in one
 * `NAME=value` string of a new process's environment or arguments, and a value too long for
 * it would make every job fail to start rather than the spec be refused.
 */
export const MAX_ENV_VALUE_BYTES = 32 * 1024;

/** The most bytes (UTF-8) all of a stage's names and values may have together. */
export const MAX_ENV_BYTES = 64 * 1024;

/** What a `TZ` value may hold: a zone name (`Europe/Paris`, `Etc/GMT+5`) or a POSIX rule. */
const TZ_VALUE = /^[A-Za-z0-9_+\-.,:<>/]*$/;

/** Why a stage may not be given env variable `name`, or null when it may. */
export function reservedEnvReason(name: string): string | null {
  return RESERVED.find((r) => r.pattern.test(name))?.why ?? null;
}

const utf8 = new TextEncoder();

/**
 * Why a stage may not be given `value` for env variable `name` (its name being allowed), or
 * null when it may. `TZ` takes a zone name or a POSIX rule, never a path: the C library and
 * Deno's time zone code open the file a `TZ` path names (`/…`, `:…`, or `..` out of the zone
 * folder), which would let a stage probe host files outside its permissions.
 */
export function envValueReason(name: string, value: string): string | null {
  if (value.includes("\0")) return "its value holds a NUL byte";
  const bytes = utf8.encode(value).length;
  if (bytes > MAX_ENV_VALUE_BYTES) {
    return `its value is ${bytes} bytes long, more than a stage's environment takes (${MAX_ENV_VALUE_BYTES} bytes per value)`;
  }
  if (name === "TZ") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}…` : value;
    const advice =
      'give a zone name ("Europe/Paris", "UTC") or a POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3")';
    if (value.startsWith("/") || value.startsWith(":")) {
      return `TZ "${shown}" names a file, which Deno would open outside the stage's permissions; ${advice}`;
    }
    if (!TZ_VALUE.test(value)) {
      return `TZ "${shown}" is neither a zone name nor a POSIX rule; ${advice}`;
    }
    if (value.split("/").some((seg) => seg === ".." || seg === ".")) {
      return `TZ "${shown}" leads out of the time zone folder with "." or ".."; ${advice}`;
    }
  }
  return null;
}

/** Why the environment `env` is too big for a stage as a whole, or null when it is not. */
export function envSizeReason(env: Readonly<Record<string, string>>): string | null {
  let total = 0;
  for (const [name, value] of Object.entries(env)) {
    total += utf8.encode(name).length + 1 + utf8.encode(value).length + 1;
  }
  return total > MAX_ENV_BYTES
    ? `its names and values take ${total} bytes, more than a stage's environment takes (${MAX_ENV_BYTES} bytes in all)`
    : null;
}

/**
 * Throw `InvalidArgumentError` for an env name or value a stage may not be given, or an
 * environment too big to pass.
 */
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
    const bad = envValueReason(name, value);
    if (bad !== null) {
      throw new InvalidArgumentError(
        `Cannot pass environment variable "${name}" to a stage: ${bad}`,
        { name },
      );
    }
  }
  const big = envSizeReason(env);
  if (big !== null) {
    throw new InvalidArgumentError(`Cannot pass this environment to a stage: ${big}`, {});
  }
}
