/**
 * The size of log text as the store keeps it: inside JSON strings (a datum's log object,
 * the event journal), where a control character takes six bytes (`\u0001`), a quote or
 * backslash two, and other characters their UTF-8 length. Log caps count these bytes, so
 * what a stage prints cannot grow on disk past its cap.
 */

/** Bytes character code `c` (with `next`, for a surrogate pair) takes in a JSON string. */
function charBytes(c: number, next: number): number {
  if (c < 0x20) return c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
  if (c === 0x22 || c === 0x5c) return 2;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) return next >= 0xdc00 && next <= 0xdfff ? 4 : 6;
  if (c >= 0xdc00 && c <= 0xdfff) return 6;
  return 3;
}

/** Bytes `text` takes as the content of a JSON string (`JSON.stringify`, less the quotes). */
export function storedBytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const bytes = charBytes(c, text.charCodeAt(i + 1));
    n += bytes;
    if (bytes === 4) i++;
  }
  return n;
}

/**
 * The longest start of `text` that takes at most `maxBytes` as stored (`storedBytes()`),
 * never cutting a surrogate pair in two; and what it takes.
 */
export function cutStored(text: string, maxBytes: number): { text: string; bytes: number } {
  let n = 0;
  let i = 0;
  while (i < text.length) {
    const bytes = charBytes(text.charCodeAt(i), text.charCodeAt(i + 1));
    if (n + bytes > maxBytes) break;
    n += bytes;
    i += bytes === 4 ? 2 : 1;
  }
  return { text: text.slice(0, i), bytes: n };
}
