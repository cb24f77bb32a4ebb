/**
 * The units a spec gives values in: durations (`"600s"`, `"1m30s"`, a number of seconds),
 * memory quantities as Kubernetes writes them (`"512Mi"`, `"64M"`) and cron schedules
 * (five fields, a descriptor like `@daily`, or `@every <duration>`).
 */
import { Cron } from "croner";
import { describe, specError } from "./_check.ts";

/** The checked value, or advice on what to give instead. */
export type Checked<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly advice: string;
};

/** A cron input's schedule: a fixed interval (`@every 30s`) or a pattern for croner. */
export type CronSchedule =
  | { readonly kind: "every"; readonly everyMs: number }
  | { readonly kind: "pattern"; readonly pattern: string };

/** Longest duration accepted: timers in JavaScript overflow past 2^31 − 1 ms. */
const MAX_DURATION_MS = 2 ** 31 - 1;
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_ADVICE = 'use a number of seconds or a duration like "600s", "1m30s" or "2h"';

/** A duration in milliseconds, more than zero and at most 596h (see `parseDuration()`). */
export function durationMs(value: string | number): Checked<number> {
  let ms: number;
  if (typeof value === "number") ms = value * 1000;
  else {
    const s = value.trim();
    if (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(s)) ms = Number(s) * 1000;
    else {
      const part = /(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)/y;
      ms = 0;
      let end = 0;
      for (let m = part.exec(s); m !== null; m = part.exec(s)) {
        ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
        end = part.lastIndex;
      }
      if (s === "" || end !== s.length) return { ok: false, advice: DURATION_ADVICE };
    }
  }
  if (!Number.isFinite(ms) || Math.round(ms) < 1) {
    return { ok: false, advice: `it must be more than zero; ${DURATION_ADVICE}` };
  }
  if (ms > MAX_DURATION_MS) return { ok: false, advice: "use at most 596h" };
  return { ok: true, value: Math.round(ms) };
}

/** A duration as the canonical spec writes it: whole and fractional seconds, `"90s"`. */
export function secondsText(ms: number): string {
  return `${ms / 1000}s`;
}

const QUANTITY_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A memory quantity in bytes: a number of bytes, or `"64M"`, `"512Mi"`, `"1Gi"`, … */
export function memoryBytes(value: string | number): Checked<number> {
  const advice = 'use a number of bytes or a quantity like "64M", "512Mi" or "1Gi"';
  let bytes: number;
  if (typeof value === "number") bytes = value;
  else {
    const m = /^(\d+(?:\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$/.exec(value.trim());
    if (!m) return { ok: false, advice };
    bytes = Math.ceil(Number(m[1]) * QUANTITY_UNITS[m[2] ?? ""]!);
  }
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    return { ok: false, advice: `it must be at least 1 byte; ${advice}` };
  }
  return { ok: true, value: bytes };
}

const CRON_DESCRIPTORS = new Set([
  "@yearly",
  "@annually",
  "@monthly",
  "@weekly",
  "@daily",
  "@midnight",
  "@hourly",
]);
const CRON_ADVICE =
  'use five fields (minute hour day-of-month month day-of-week) like "*/10 * * * *", a descriptor like "@hourly", or "@every 30s"';

/** A cron schedule (see `parseCronSpec()`). */
export function cronSchedule(spec: string): Checked<CronSchedule> {
  const s = spec.trim();
  if (s === "@every" || s.startsWith("@every ")) {
    const d = durationMs(s.slice("@every".length).trim());
    if (!d.ok) {
      return {
        ok: false,
        advice: '"@every" needs a duration like "@every 30s", "@every 1m30s" or "@every 2h"',
      };
    }
    if (d.value < 1000) return { ok: false, advice: 'use "@every 1s" or longer' };
    return { ok: true, value: { kind: "every", everyMs: d.value } };
  }
  if (s.startsWith("@") && !CRON_DESCRIPTORS.has(s)) {
    return {
      ok: false,
      advice:
        'use "@every <duration>", "@hourly", "@daily", "@midnight", "@weekly", "@monthly" or "@yearly"',
    };
  }
  if (!s.startsWith("@") && s.split(/\s+/).length !== 5) return { ok: false, advice: CRON_ADVICE };
  try {
    new Cron(s, { paused: true }).stop();
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
    return { ok: false, advice: `${why}; ${CRON_ADVICE}` };
  }
  return { ok: true, value: { kind: "pattern", pattern: s } };
}

/**
 * A duration in milliseconds: `"600s"`, `"1m30s"`, `"2h"`, `"1.5s"`, `"500ms"`, or a number
 * of seconds (as a number or a string). It must be more than zero and at most 596h;
 * `path` names the field in the error.
 */
export function parseDuration(text: string | number, path: string): number {
  const d = durationMs(text);
  if (!d.ok) {
    throw specError(
      "BAD_DURATION",
      `Invalid duration ${describe(text)} at "${path}": ${d.advice}`,
      path,
    );
  }
  return d.value;
}

/**
 * A cron input's schedule: `@every <duration>` (at least 1s) as an interval, a five-field
 * pattern or a descriptor (`@hourly`, `@daily`, …) as a pattern croner runs.
 */
export function parseCronSpec(spec: string, path: string): CronSchedule {
  const s = cronSchedule(spec);
  if (!s.ok) {
    throw specError("BAD_CRON", `Invalid cron spec "${spec}" at "${path}": ${s.advice}`, path);
  }
  return s.value;
}
