/**
 * Capture of a stage's stdout or stderr: keeps at most `maxBytes` as stored (in a JSON
 * string: see `log_size.ts`; then a truncation marker), hands complete lines to a live callback within the same budget, and keeps
 * draining the pipe after the cap so the stage never blocks on a full pipe. Protocol lines
 * (datum batching's acknowledgements) are taken out of the live lines and their budget:
 * every one is seen, however much the stage logged before it.
 */
import { cutStored, storedBytes } from "./log_size.ts";

/** Appended to captured output (and sent as the last live line) when the cap was hit. */
export const TRUNCATED_MARKER = "[… truncated]";

/** The longest live line; longer runs without a newline are sent in pieces. */
const MAX_LINE_CHARS = 64 * 1024;

/** A capped capture of one output stream. */
export class StreamCapture {
  readonly #maxBytes: number;
  readonly #onLine: ((line: string) => void) | undefined;
  readonly #protocol: ((line: string) => boolean) | undefined;
  readonly #pieces: string[] = [];
  /** Stored bytes kept so far. */
  #kept = 0;
  #cut = false;
  #liveBytes = 0;
  #liveStopped = false;
  #partial = "";
  readonly #decoder = new TextDecoder();

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
    if (this.#decoding) this.#text(this.#decoder.decode(), true);
  }

  /** The captured text, with the truncation marker when some was dropped. */
  text(): string {
    const text = this.#pieces.join("");
    if (!this.#cut) return text;
    return `${text}${text.endsWith("\n") || text === "" ? "" : "\n"}${TRUNCATED_MARKER}`;
  }

  /** True when some output was dropped. */
  get truncated(): boolean {
    return this.#cut;
  }

  /** The stream is still decoded: there is room to keep, or lines are wanted. */
  get #decoding(): boolean {
    return !this.#cut || this.#splitting;
  }

  #add(chunk: Uint8Array): void {
    if (!this.#decoding) return; // drained unread: nothing more is kept or sent
    this.#text(this.#decoder.decode(chunk, { stream: true }), false);
  }

  /** Keep what fits of `text`, then hand its lines on. */
  #text(text: string, end: boolean): void {
    if (!this.#cut && text !== "") {
      const fit = cutStored(text, this.#maxBytes - this.#kept);
      this.#pieces.push(fit.text);
      this.#kept += fit.bytes;
      if (fit.text.length < text.length) this.#cut = true;
    }
    if (!this.#splitting) return;
    this.#partial += text;
    this.#flushLine(end);
  }

  /** Lines are still wanted: live ones within the budget, or protocol ones. */
  get #splitting(): boolean {
    return this.#protocol !== undefined || (this.#onLine !== undefined && !this.#liveStopped);
  }

  #flushLine(end: boolean): void {
    if (!this.#splitting) return;
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
    this.#liveBytes += storedBytes(line) + 1;
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
