/** `paint()`: colours and weight written into text exactly as Ink's `<Text>` writes them. */
import assert from "node:assert/strict";
import chalk from "chalk";
import { renderToString, Text } from "ink";
import { paint } from "../../tui/components/theme.ts";

/** Run `fn` with chalk (Ink's and ours) at colour `level`. */
function atLevel(level: 0 | 1 | 2 | 3, fn: () => void): void {
  const was = chalk.level;
  chalk.level = level;
  try {
    fn();
  } finally {
    chalk.level = was;
  }
}

const COLOURS = ["gray", "red", "green", "yellow", "magenta", "cyan"] as const;

Deno.test("paint() writes each colour and bold as Ink's <Text color bold> does", () => {
  atLevel(1, () => {
    for (const color of COLOURS) {
      for (const bold of [false, true]) {
        const ink = renderToString(<Text bold={bold} color={color}>failure</Text>);
        const ours = renderToString(
          <Text>{paint({ color: true }, "failure", { color, bold })}</Text>,
        );
        assert.equal(ours, ink, `${color}, bold ${bold}`);
        assert.ok(ours.includes("\x1b["), "codes were written");
      }
    }
  });
});

Deno.test("paint() without the theme's colour writes bold only", () => {
  atLevel(1, () => {
    assert.equal(paint({ color: false }, "x", { color: "red" }), "x");
    assert.equal(paint({ color: false }, "x", { color: "red", bold: true }), "\x1b[1mx\x1b[22m");
  });
});

Deno.test("paint() writes no codes where Ink's chalk writes none", () => {
  atLevel(0, () => {
    assert.equal(paint({ color: true }, "x", { color: "green", bold: true }), "x");
    assert.equal(paint({ color: true }, "", { color: "green" }), "");
  });
});
