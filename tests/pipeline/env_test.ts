/**
 * Which environment variables a stage may be given: every name the Deno 2.9.6 binary, its
 * Node compatibility layer, its TLS, proxy and telemetry code, its Rust runtime or the
 * dynamic loader act on is refused, naming the variable; names only a stage reads pass.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../lib/errors.ts";
import { reservedEnvReason, validateStageEnv } from "../../lib/pipeline/env.ts";

/** Assert that `name` is refused with an InvalidArgumentError naming it. */
function assertRefused(name: string): void {
  let caught: unknown;
  try {
    validateStageEnv({ [name]: "x" });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidArgumentError, `${name} was accepted`);
  assert.equal(caught.code, "INVALID_ARGUMENT");
  assert.equal(caught.data.name, name);
  assert.ok(caught.message.includes(`"${name}"`), caught.message);
  assert.notEqual(reservedEnvReason(name), null);
}

const CLASSES: Record<string, readonly string[]> = {
  "Deno's own settings": [
    "DENO_DIR",
    "DENO_V8_FLAGS",
    "DENO_CERT",
    "DENO_AUTH_TOKENS",
    "DENO_COVERAGE_DIR",
    "DENO_AUDIT_PERMISSIONS",
    "DENO_PERMISSION_BROKER_PATH",
    "DENO_TRACE_PERMISSIONS",
    "DENO_KV_DEFAULT_PATH",
    "DENO_USE_CGROUPS",
    "DENO_SERVE_ADDRESS",
    "DENO_UNSTABLE_CONTROL_SOCK",
    "DENO_EXTRA_STDIO_FDS",
    "deno_dir",
  ],
  "npm and JSR settings": [
    "NPM_CONFIG_REGISTRY",
    "npm_config_registry",
    "NPM_CONFIG_MIN_RELEASE_AGE",
    "JSR_URL",
    "JSR_NPM_URL",
    "DISABLE_JSR_MANIFEST_VERIFICATION_FOR_TESTING",
  ],
  "Node compatibility settings": [
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_EXTRA_CA_CERTS",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "NODE_USE_ENV_PROXY",
    "NODE_USE_SYSTEM_CA",
    "NODE_CHANNEL_FD",
    "NODE_V8_COVERAGE",
    "NODE_REPL_HISTORY",
    "NODE_ICU_DATA",
  ],
  "TLS settings": ["SSLKEYLOGFILE", "SSL_CERT_FILE", "SSL_CERT_DIR"],
  proxies: ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy"],
  telemetry: ["OTEL_DENO", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_CLIENT_KEY"],
  "the Rust runtime": [
    "RUST_LOG",
    "RUST_BACKTRACE",
    "RUST_MIN_STACK",
    "TOKIO_WORKER_THREADS",
  ],
  "the loader and the C library": [
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "LD_DEBUG_OUTPUT",
    "GLIBC_TUNABLES",
    "MALLOC_ARENA_MAX",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "TZDIR",
    "HOSTALIASES",
    "RES_OPTIONS",
    "LOCALDOMAIN",
    "ICU_DATA",
  ],
  "per-user folders": ["XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"],
  "what the sandbox sets": ["HOME", "TMPDIR"],
};

for (const [what, names] of Object.entries(CLASSES)) {
  Deno.test(`validateStageEnv() refuses ${what}: ${names.join(", ")}`, () => {
    for (const name of names) assertRefused(name);
  });
}

Deno.test("validateStageEnv() passes names only the stage reads, and locale, time zone and colour", () => {
  const env = {
    NODE_ENV: "production",
    LANG: "C.UTF-8",
    LC_ALL: "C",
    TZ: "Europe/Paris",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    TERM: "dumb",
    PATH: "/usr/bin",
    MODEL_KIND: "svm",
    DENOISE: "1",
    NODES: "3",
    MY_HTTP_PROXY_NOTE: "x",
    K_1: "",
  };
  validateStageEnv(env);
  for (const name of Object.keys(env)) assert.equal(reservedEnvReason(name), null, name);
});

Deno.test("reservedEnvReason() says what Deno does with SSLKEYLOGFILE", () => {
  assert.match(reservedEnvReason("SSLKEYLOGFILE")!, /TLS/);
});

Deno.test('validateStageEnv() refuses a TZ that names a file: a path, a ":" form or ".."', () => {
  for (const tz of ["/usr/share/zoneinfo/America/New_York", ":America/New_York", "../../etc/x"]) {
    assert.throws(
      () => validateStageEnv({ TZ: tz }),
      (e: unknown) => e instanceof InvalidArgumentError && e.data.name === "TZ",
      tz,
    );
  }
});

Deno.test("validateStageEnv() refuses a value over 32 KiB and an environment over 64 KiB", () => {
  assert.throws(() => validateStageEnv({ BIG: "x".repeat(32 * 1024 + 1) }), InvalidArgumentError);
  validateStageEnv({ BIG: "x".repeat(32 * 1024) });
  const env = Object.fromEntries([1, 2, 3].map((n) => [`V${n}`, "x".repeat(30 * 1024)]));
  assert.throws(() => validateStageEnv(env), InvalidArgumentError);
});
