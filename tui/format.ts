/** Short, fixed-width strings for dashboard cells: durations, rates, ids, padding. Pure. */

/** A duration in at most 6 characters: `0.4s`, `12s`, `3m04s`, `2h05m`, `3d04h`. */
export function shortDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** How long ago, compactly: `4s ago`, `3m ago`, `2h ago`, `5d ago`. */
export function shortAge(iso: string | null, now: number): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** Time until `at` (ms since epoch): `in 4s`, `in 3m05s`, `due`. */
export function untilText(at: number, now: number): string {
  const ms = at - now;
  if (ms <= 0) return "due";
  return `in ${shortDuration(Math.ceil(ms / 1000) * 1000).replace(/\.0s$/, "s")}`;
}

/** Datums per second: `12/s`, `3.4/s`, `-`. */
export function rateText(perSecond: number): string {
  if (!(perSecond > 0)) return "-";
  return perSecond >= 10 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

/** A number with thousands separators: `10,000`. */
export function count(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** First `n` characters of an id. */
export function shortId(id: string | null, n = 8): string {
  return id ? id.slice(0, n) : "-";
}

/** `text` cut or padded to exactly `width` characters (cut text ends with `…`). */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  if (text.length > width) return width === 1 ? "…" : text.slice(0, width - 1) + "…";
  return text.padEnd(width);
}

/** `text` cut or left-padded to exactly `width` characters. */
export function fitRight(text: string, width: number): string {
  if (width <= 0) return "";
  if (text.length > width) return text.slice(0, width);
  return text.padStart(width);
}
