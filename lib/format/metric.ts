/**
 * Metrics for people: values rounded for a table, signed changes, a run's parameters as
 * `C=0.01`, and which metrics a table shows when none are asked for. Strings only.
 */

/** Decimal places a table shows (the JSON keeps every digit). */
const PLACES = 4;

/**
 * A metric for a table: whole numbers as they are, others to 4 decimal places with the
 * trailing zeros dropped (`0.9933`, `0.98`), and very small or large ones in 4 significant
 * digits (`1.235e-7`).
 */
export function formatMetric(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e15)) {
    return n.toPrecision(4).replace(/\.?0+(?=e|$)/, "");
  }
  const fixed = n.toFixed(PLACES).replace(/\.?0+$/, "");
  return fixed === "-0" ? "0" : fixed;
}

/** A change for a table: signed (`+0.0133`, `-0.06`), `0` for none. */
export function formatChange(n: number): string {
  const text = formatMetric(n);
  return text === "0" || text.startsWith("-") ? text : `+${text}`;
}

/** A run's parameters as `C=0.01 kernel=rbf` (nested values as JSON); `""` for none. */
export function formatParams(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** The columns a metrics table shows by default, at most this many. */
export const HEADLINE_COLUMNS = 6;

/**
 * The metrics a table shows when none are asked for: those of at most two levels and not
 * from an array (`accuracy`, `cv.accuracy`; not `cv.folds.0` or
 * `per_class.Iris-setosa.f1`), in order, at most `HEADLINE_COLUMNS` of them.
 */
export function headlineColumns(names: readonly string[]): string[] {
  return names.filter((name) => {
    const parts = name.split(".");
    return parts.length <= 2 && !parts.some((p) => /^\d+$/.test(p));
  }).slice(0, HEADLINE_COLUMNS);
}
