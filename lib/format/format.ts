/**
 * Human formatting as pachctl prints it: tab-aligned tables, sizes like `4.444 KiB`, ages
 * like `5 seconds ago`. Strings only.
 */

/** Go's `%.4g`: four significant digits, trailing zeros dropped. */
function g4(n: number): string {
  if (n === 0) return "0";
  const s = n.toPrecision(4);
  return s.includes("e") ? String(Number(s)) : s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** A byte count as pachctl shows it (binary units, 4 significant digits): `4.444 KiB`. */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${g4(v)} ${units[i]}`;
}

/** A duration as Go's `units.HumanDuration`: `5 seconds`, `About a minute`, `3 hours`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3600000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3600000 / 24 / 365)} years`;
}

/** How long ago `iso` was, relative to `now`: `5 seconds ago`. */
export function formatAge(iso: string, now: Date): string {
  return `${humanDuration(Math.max(0, now.getTime() - Date.parse(iso)))} ago`;
}

/** Left-aligned columns separated by at least two spaces, like Go's tabwriter. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
