/** A job's progress bar: processed, skipped and failed datums of the total. */
import type { JobProgress } from "../view.ts";
import { paint, type Theme } from "./theme.ts";

/** Cells of each part of a bar `width` wide (rounded so they add up to at most `width`). */
export function barCells(
  p: JobProgress,
  width: number,
  done: boolean,
): { processed: number; skipped: number; failed: number; rest: number } {
  if (p.total <= 0) {
    return done
      ? { processed: width, skipped: 0, failed: 0, rest: 0 }
      : { processed: 0, skipped: 0, failed: 0, rest: width };
  }
  const scale = (n: number) => Math.round((Math.min(n, p.total) / p.total) * width);
  const failed = p.failed > 0 ? Math.max(1, scale(p.failed)) : 0;
  const skipped = Math.min(width - failed, p.skipped > 0 ? Math.max(1, scale(p.skipped)) : 0);
  const processed = Math.min(width - failed - skipped, scale(p.processed));
  return { processed, skipped, failed, rest: width - processed - skipped - failed };
}

/** The bar as text: `█` processed, `▓` skipped, `╳` failed, `░` to do, coloured by `theme`. */
export function barText(p: JobProgress, width: number, done: boolean, theme: Theme): string {
  const c = barCells(p, width, done);
  const part = (n: number, char: string, color: string) =>
    n > 0 ? paint(theme, char.repeat(n), { color }) : "";
  return part(c.processed, "█", "green") + part(c.skipped, "▓", "cyan") +
    part(c.failed, "╳", "red") + part(c.rest, "░", "gray");
}
