/**
 * Human formatting as pachctl prints it: tab-aligned tables, sizes like `4.444 KiB`, ages
 * like `5 seconds ago`, and the escaping that makes text from stages and users safe to
 * print on a terminal. Strings only.
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

/**
 * Characters a terminal acts on or that hide or reorder text: controls (C0, DEL, C1: ESC,
 * BEL, CR, CSI…), format characters (bidi overrides and isolates, zero-width characters,
 * the BOM, soft hyphen, tags), line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "gu");
/**
 * Printable ASCII (with line breaks): text with nothing to escape, found without building
 * `UNSAFE`'s Unicode tables, which cost a short command's first print about half a millisecond.
 */
const PLAIN = /^[\x20-\x7e]*$/;
const PLAIN_LINES = /^[\x20-\x7e\n]*$/;
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

function escapeChar(c: string): string {
  const short = SHORT_ESCAPES[c];
  if (short !== undefined) return short;
  // JSON's `\uXXXX`, one per UTF-16 unit, so escaped JSON text stays valid JSON.
  let out = "";
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
}

/** Options of `printable()`. */
export interface PrintableOptions {
  /** Keep `\n` as a line break (for text of several lines that tusk itself laid out). */
  readonly keepNewlines?: boolean;
}

/**
 * `text` made safe to print on a terminal: every control or invisible character (see
 * `UNSAFE`) is written as its JSON escape (`\u001b`, `\r`, `\u202e`), everything else is
 * kept. Every printer of text that came from a stage or a user goes through it.
 */
export function printable(text: string, options: PrintableOptions = {}): string {
  if ((options.keepNewlines ? PLAIN_LINES : PLAIN).test(text)) return text;
  if (!UNSAFE.test(text)) return text;
  if (options.keepNewlines) return text.split("\n").map((line) => printable(line)).join("\n");
  return text.replace(UNSAFE_ALL, escapeChar);
}

/**
 * A name (file, repo, branch, datum) shown so that it cannot pass for another one: as it is
 * when every character is plain, else quoted as a JSON string with `printable()`'s escapes
 * (`"a\u202eb.csv"`), as git quotes odd paths. A name with `"` or `\` is quoted too.
 */
export function printableName(name: string): string {
  if (!UNSAFE.test(name) && !/["\\]/.test(name)) return name;
  return `"${printable(name.replace(/["\\]/g, "\\$&"))}"`;
}

/**
 * A table printed as its rows come, in pieces: each piece is laid out as `formatTable()`
 * lays out all rows, with columns at least as wide as any earlier piece's. A table whose rows
 * come in one piece reads exactly as `formatTable()` prints it; a wider cell in a later
 * piece widens its column from that piece on, rather than holding every row back.
 */
export class TableStream {
  readonly #header: readonly string[];
  readonly #widths: number[];
  #started = false;

  constructor(header: readonly string[]) {
    this.#header = header;
    this.#widths = header.map((h) => h.length);
  }

  /** The text of `rows`, with the header before the first piece. */
  piece(rows: readonly (readonly string[])[]): string {
    rows = rows.map((r) => r.map((cell) => printable(cell)));
    for (const r of rows) {
      r.forEach((c, i) => this.#widths[i] = Math.max(this.#widths[i] ?? 0, c.length));
    }
    const line = (cells: readonly string[]) =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(this.#widths[i]! + 3))).join("")
        .trimEnd();
    const lines = rows.map(line);
    if (!this.#started) lines.unshift(line(this.#header));
    this.#started = true;
    return lines.length ? lines.join("\n") + "\n" : "";
  }
}

/**
 * Left-aligned columns separated by at least two spaces, like Go's tabwriter. Cells pass
 * through `printable()`, so no cell can move the cursor or break the table.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  rows = rows.map((r) => r.map((cell) => printable(cell)));
  // A loop, not Math.max(...cells): a million rows would overflow the call stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) {
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? "").length);
  }
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
