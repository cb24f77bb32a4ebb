/** StreamCapture: capped capture, live lines, truncation marker. */
import assert from "node:assert/strict";
import { StreamCapture, TRUNCATED_MARKER } from "../../lib/runner/_capture.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => enc.encode(c)));
}

Deno.test("StreamCapture joins lines split across chunks", async () => {
  const lines: string[] = [];
  const c = new StreamCapture(1000, (l) => lines.push(l));
  await c.consume(streamOf("hel", "lo\nwor", "ld\r\nlast"));
  assert.deepEqual(lines, ["hello", "world", "last"]);
  assert.equal(c.text(), "hello\nworld\r\nlast");
  assert.equal(c.truncated, false);
});

Deno.test("StreamCapture keeps maxBytes and marks the cut", async () => {
  const lines: string[] = [];
  const c = new StreamCapture(10, (l) => lines.push(l));
  await c.consume(streamOf("0123456789\n", "abcdefghij\n", "more\n"));
  assert.equal(c.text(), `0123456789\n${TRUNCATED_MARKER}`);
  assert.ok(c.truncated);
  assert.equal(lines.at(-1), TRUNCATED_MARKER);
});

Deno.test("StreamCapture sends a very long line in pieces", async () => {
  const lines: string[] = [];
  const c = new StreamCapture(1024 * 1024, (l) => lines.push(l));
  await c.consume(streamOf("x".repeat(200_000)));
  assert.ok(lines.length >= 3);
  assert.equal(lines.join(""), "x".repeat(200_000));
});

Deno.test("StreamCapture hands every protocol line over, past the live budget, and keeps them out of the live lines", async () => {
  const lines: string[] = [];
  const acks: string[] = [];
  const c = new StreamCapture(100, (l) => lines.push(l), {
    protocol: (l) => l.startsWith("{") && (acks.push(l), true),
  });
  const log = "log line that fills the budget\n".repeat(10);
  await c.consume(streamOf('{"n":1}\n', log, '{"n":2}\n', log, '{"n":3}'));
  assert.deepEqual(acks, ['{"n":1}', '{"n":2}', '{"n":3}']);
  assert.ok(lines.every((l) => !l.startsWith("{")));
  assert.equal(lines.at(-1), TRUNCATED_MARKER);
  assert.ok(c.truncated);
});

/** Bytes `text` takes as a JSON string's content, as the logs are stored. */
function stored(text: string): number {
  return new TextEncoder().encode(JSON.stringify(text)).length - 2;
}

Deno.test("StreamCapture caps the bytes as stored: escaped control characters count six", async () => {
  const lines: string[] = [];
  const c = new StreamCapture(600, (l) => lines.push(l));
  await c.consume(streamOf("\x01".repeat(1000) + "\n", "\x02".repeat(1000) + "\n"));
  const text = c.text();
  assert.ok(text.endsWith(`\n${TRUNCATED_MARKER}`));
  const kept = text.slice(0, -TRUNCATED_MARKER.length - 1);
  assert.ok(stored(kept) <= 600, `${stored(kept)} bytes stored`);
  assert.ok(stored(kept) > 500, `${stored(kept)} bytes stored`);
  assert.ok(c.truncated);
  assert.equal(lines.at(-1), TRUNCATED_MARKER);
  assert.ok(lines.slice(0, -1).reduce((n, l) => n + stored(l) + 1, 0) <= 600);
});

Deno.test("StreamCapture never cuts a character in two", async () => {
  // "é" is two UTF-8 bytes, "😀" four (a surrogate pair in JavaScript).
  for (const [max, kept] of [[9, "éééé"], [13, "ééééé"], [14, "ééééé😀"]] as const) {
    const c = new StreamCapture(max);
    await c.consume(streamOf("éééé", "é😀😀"));
    assert.equal(c.text(), `${kept}\n${TRUNCATED_MARKER}`, `at ${max} bytes`);
  }
});
