/**
 * Capture of a stage's stdout or stderr: keeps at most `maxBytes` (then a truncation
 * marker), hands complete lines to a live callback within the same budget, and keeps
 * draining the pipe after the cap so the stage never blocks on a full pipe. Protocol lines
 * (datum batching's acknowledgements) are taken out of the live lines and their budget:
 * every one is seen, however much the stage logged before it.
 */

/** Appended to captured output (and sent as the last live line) when the cap was hit. */
export const TRUNCATED_MARKER = "[… truncated]";

/** The longest live line; longer runs without a newline are sent in pieces. */
const MAX_LINE_CHARS = 64 * 1024;

/** A capped capture of one output stream. */
export class StreamCapture {
  readonly #maxBytes: number;
  readonly #onLine: ((line: string) => void) | undefined;
  readonly #protocol: ((line: string) => boolean) | undefined;
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  #dropped = 0;
  #liveBytes = 0;
  #liveStopped = false;
  #partial = "";
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();

  /**
   * `onLine` gets the live lines; `options.protocol` sees every complete line first, outside
   * the budget, and a line it returns true for is not a live line. The captured text is the
   * raw stream, protocol lines included.
   */
  constructor(
    maxBytes: number,
    onLine?: (line: string) => void,
    options: { protocol?: ((line: string) => boolean) | undefined } = {},
  ) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#protocol = options.protocol;
  }

  /** Read `stream` to its end (or until it errors). */
  async consume(stream: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stream) this.#add(chunk);
    } catch {
      // The pipe broke: what was read is kept.
    }
    this.#flushLine(true);
  }

  /** The captured text, with the truncation marker when bytes were dropped. */
  text(): string {
    const all = new Uint8Array(this.#kept);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    const text = new TextDecoder().decode(all);
    if (this.#dropped === 0) return text;
    return `${text}${text.endsWith("\n") || text === "" ? "" : "\n"}${TRUNCATED_MARKER}`;
  }

  /** True when some output was dropped. */
  get truncated(): boolean {
    return this.#dropped > 0;
  }

  #add(chunk: Uint8Array): void {
    const room = this.#maxBytes - this.#kept;
    if (room > 0) {
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.#chunks.push(kept.slice());
      this.#kept += kept.length;
    }
    if (chunk.length > room) this.#dropped += chunk.length - Math.max(0, room);
    if (!this.#splitting) return;
    this.#partial += this.#decoder.decode(chunk, { stream: true });
    this.#flushLine(false);
  }

  /** Lines are still wanted: live ones within the budget, or protocol ones. */
  get #splitting(): boolean {
    return this.#protocol !== undefined || (this.#onLine !== undefined && !this.#liveStopped);
  }

  #flushLine(end: boolean): void {
    if (!this.#splitting) return;
    if (end) this.#partial += this.#decoder.decode();
    const text = this.#partial;
    let start = 0;
    let nl: number;
    while (this.#splitting && (nl = text.indexOf("\n", start)) >= 0) {
      this.#line(text.slice(start, nl).replace(/\r$/, ""));
      start = nl + 1;
    }
    this.#partial = this.#splitting ? text.slice(start) : "";
    while (this.#partial.length > MAX_LINE_CHARS) {
      this.#line(this.#partial.slice(0, MAX_LINE_CHARS));
      this.#partial = this.#partial.slice(MAX_LINE_CHARS);
    }
    if (end && this.#partial !== "") {
      this.#line(this.#partial);
      this.#partial = "";
    }
  }

  /** A protocol line goes to the protocol callback; any other is a live line. */
  #line(line: string): void {
    if (this.#protocol) {
      try {
        if (this.#protocol(line)) return;
      } catch {
        // A failing protocol callback leaves the line a log line.
      }
    }
    this.#emit(line);
  }

  /** Send `line` live while within the byte budget, then the marker once. */
  #emit(line: string): void {
    if (this.#liveStopped || !this.#onLine) return;
    this.#liveBytes += this.#encoder.encode(line).length + 1;
    if (this.#liveBytes > this.#maxBytes) {
      this.#liveStopped = true;
      this.#partial = "";
      line = TRUNCATED_MARKER;
    }
    try {
      this.#onLine?.(line);
    } catch {
      // A failing listener must not stop the capture.
    }
  }
}
