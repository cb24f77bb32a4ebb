import assert from "node:assert/strict";
import {
  formatAge,
  formatSize,
  formatTable,
  humanDuration,
  printable,
  printableName,
} from "../../lib/format/format.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const sizes: [number, string][] = [
  [0, "0 B"],
  [100, "100 B"],
  [1023, "1023 B"],
  [1024, "1 KiB"],
  [1536, "1.5 KiB"],
  [4551, "4.444 KiB"],
  [1024 * 1024, "1 MiB"],
  [Math.round(2.5 * 1024 * 1024), "2.5 MiB"],
  [1024 ** 3, "1 GiB"],
  [Math.round(12.34 * 1024 ** 3), "12.34 GiB"],
  [1024 ** 4, "1 TiB"],
];

for (const [bytes, shown] of sizes) {
  Deno.test(`formatSize(${bytes}) is "${shown}"`, () => {
    assert.equal(formatSize(bytes), shown);
  });
}

const ages: [number, string][] = [
  [0, "Less than a second ago"],
  [999, "Less than a second ago"],
  [SECOND, "1 second ago"],
  [1999, "1 second ago"],
  [5 * SECOND, "5 seconds ago"],
  [59 * SECOND, "59 seconds ago"],
  [MINUTE, "About a minute ago"],
  [2 * MINUTE - 1, "About a minute ago"],
  [2 * MINUTE, "2 minutes ago"],
  [3 * MINUTE, "3 minutes ago"],
  [59 * MINUTE, "59 minutes ago"],
  [HOUR, "About an hour ago"],
  [89 * MINUTE, "About an hour ago"],
  [90 * MINUTE, "2 hours ago"],
  [5 * HOUR, "5 hours ago"],
  [47 * HOUR, "47 hours ago"],
  [48 * HOUR, "2 days ago"],
  [3 * DAY, "3 days ago"],
  [14 * DAY, "2 weeks ago"],
  [60 * DAY, "2 months ago"],
  [2 * 365 * DAY, "2 years ago"],
];

const NOW = new Date("2024-06-01T12:00:00.000Z");

for (const [ms, shown] of ages) {
  Deno.test(`formatAge() shows ${ms} ms ago as "${shown}"`, () => {
    assert.equal(formatAge(new Date(NOW.getTime() - ms).toISOString(), NOW), shown);
  });
}

Deno.test("formatAge() shows a time in the future as less than a second ago", () => {
  const later = new Date(NOW.getTime() + 5 * MINUTE).toISOString();
  assert.equal(formatAge(later, NOW), "Less than a second ago");
});

Deno.test('humanDuration() has no "ago"', () => {
  assert.equal(humanDuration(5 * SECOND), "5 seconds");
});

Deno.test("formatTable() starts every column at the same offset on every line", () => {
  const out = formatTable(["NAME", "CREATED", "SIZE"], [
    ["training", "5 seconds ago", "4.444 KiB"],
    ["x", "About a minute ago", "0 B"],
  ]);
  const lines = out.split("\n").slice(0, -1);
  assert.equal(lines.length, 3);
  const created = lines.map((l, i) => l.indexOf(["CREATED", "5 seconds", "About"][i]!));
  const size = lines.map((l, i) => l.indexOf(["SIZE", "4.444", "0 B"][i]!));
  assert.equal(new Set(created).size, 1);
  assert.equal(new Set(size).size, 1);
});

Deno.test("formatTable() separates columns by at least two spaces", () => {
  const out = formatTable(["A", "B"], [["longest-cell", "x"]]);
  assert.match(out.split("\n")[1]!, /^longest-cell {2,}x$/);
});

Deno.test("formatTable() ends every line without trailing spaces and with a newline", () => {
  const out = formatTable(["NAME", "DESCRIPTION"], [["a", ""], ["b", "text"]]);
  assert.ok(out.endsWith("\n"));
  for (const line of out.split("\n")) assert.equal(line, line.trimEnd());
});

Deno.test("formatTable() prints only the header for no rows", () => {
  assert.equal(formatTable(["NAME", "SIZE"], []), "NAME   SIZE\n");
});

/** What a hostile stage prints: a window title (OSC … BEL), colours and a cursor move (CSI), CR. */
const HOSTILE = "ok\x1b]0;pwned\x07\x1b[31mred\x1b[2J\rfake\x9b1mC1";

Deno.test("printable() escapes ESC, OSC, BEL, CSI, CR and C1 controls as JSON escapes", () => {
  assert.equal(
    printable(HOSTILE),
    "ok\\u001b]0;pwned\\u0007\\u001b[31mred\\u001b[2J\\rfake\\u009b1mC1",
  );
});

Deno.test("printable() escapes tab, newline, DEL, bidi, zero-width, separators and lone surrogates", () => {
  const cases: [string, string][] = [
    ["a\tb\nc", "a\\tb\\nc"],
    ["del\x7f", "del\\u007f"],
    ["abc\u202Egpj.exe", "abc\\u202egpj.exe"],
    ["\u2066iso\u2069\u200e\u200f\u061c", "\\u2066iso\\u2069\\u200e\\u200f\\u061c"],
    ["zero\u200bwidth\u200c\u200d\u2060\ufeff", "zero\\u200bwidth\\u200c\\u200d\\u2060\\ufeff"],
    ["line\u2028para\u2029", "line\\u2028para\\u2029"],
    ["lone\ud800", "lone\\ud800"],
    ["tag\u{e0041}", "tag\\udb40\\udc41"],
  ];
  for (const [given, shown] of cases) assert.equal(printable(given), shown, JSON.stringify(given));
});

Deno.test("printable() keeps every printable ASCII character and escapes every other one, line breaks kept when asked", () => {
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    const plain = c >= 0x20 && c <= 0x7e;
    for (const text of [ch, `a${ch}b`, `${ch}\n`]) {
      const kept = plain || ch === "\n" ? text : text.replace(ch, escaped(ch));
      assert.equal(printable(text, { keepNewlines: true }), kept, JSON.stringify(text));
    }
    assert.equal(printable(ch), plain ? ch : escaped(ch), JSON.stringify(ch));
  }
  assert.equal(printable("a\nb\n"), "a\\nb\\n");
});

Deno.test("printable() keeps plain text, accents, CJK and emoji as they are", () => {
  for (
    const text of [
      "plain text 123 !@#$%^&*()",
      "café naïve",
      "日本語のファイル",
      "🦣 tusk",
      'a\\b "q"',
    ]
  ) {
    assert.equal(printable(text), text);
  }
});

Deno.test("printable() gives text without controls, and escaping twice changes nothing", () => {
  const once = printable(HOSTILE + "\u202e\u200b");
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(once, /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
  assert.equal(printable(once), once);
});

Deno.test("printable() of JSON text is still JSON with the same value", () => {
  const value = { line: HOSTILE, name: "a\u202eb", n: 1 };
  const text = printable(JSON.stringify(value));
  assert.deepEqual(JSON.parse(text), value);
});

Deno.test("printableName() leaves a plain name alone and quotes one with invisible characters", () => {
  assert.equal(printableName("/data/iris.csv"), "/data/iris.csv");
  assert.equal(printableName("/日本/café.csv"), "/日本/café.csv");
  assert.equal(printableName("/invoice\u202Efdp.exe"), '"/invoice\\u202efdp.exe"');
  assert.equal(printableName("/a\u200bb"), '"/a\\u200bb"');
  assert.equal(printableName("/x\x1b[2J"), '"/x\\u001b[2J"');
});

Deno.test("printableName() keeps a spoofing name apart from the name it imitates", () => {
  const names = ["/a\u200bb", "/ab", "/a\\u200bb", '"/a\\u200bb"', "/a\u202eb", "/a\\u202eb"];
  const shown = names.map(printableName);
  assert.equal(new Set(shown).size, names.length, shown.join(" | "));
  // A quoted name is the JSON string of the name: it reads back to the very name.
  for (const [i, s] of shown.entries()) {
    if (s.startsWith('"')) assert.equal(JSON.parse(s), names[i]);
  }
});

Deno.test("formatTable() escapes control characters in cells and keeps its columns", () => {
  const out = formatTable(["NAME", "SIZE"], [["a\x1b[2J\rb", "1 B"], ["tab\there", "2 B"]]);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(out, /[\x1b\r\t]/);
  const lines = out.split("\n").slice(0, -1);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/ {2,}/)[0]), [
    "a\\u001b[2J\\rb",
    "tab\\there",
  ]);
  const at = lines.map((l, i) => l.indexOf(["SIZE", "1 B", "2 B"][i]!));
  assert.equal(new Set(at).size, 1);
});

Deno.test("printable() with keepNewlines keeps line breaks and escapes the rest", () => {
  assert.equal(
    printable("one\x1b[2J\ntwo\r\n", { keepNewlines: true }),
    "one\\u001b[2J\ntwo\\r\n",
  );
});

Deno.test("formatTable() formats a table of a million rows without overflowing the stack", () => {
  const rows = Array.from({ length: 1_000_000 }, (_, i) => [`/f${i}`, "file", "1 B"]);
  const text = formatTable(["NAME", "TYPE", "SIZE"], rows);
  const lines = text.split("\n");
  assert.equal(lines.length, 1_000_002);
  assert.equal(lines[1], "/f0        file   1 B");
});

/** The escape `printable()` writes for the one ASCII character `ch`. */
function escaped(ch: string): string {
  const short: Record<string, string> = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
  };
  return short[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
