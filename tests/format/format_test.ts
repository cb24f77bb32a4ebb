import assert from "node:assert/strict";
import { formatAge, formatSize, formatTable, humanDuration } from "../../lib/format/format.ts";

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
