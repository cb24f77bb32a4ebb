/** A job's progress bar: processed, skipped and failed datums of the total. */
import { Text } from "ink";
import type { JobProgress } from "../view.ts";
import { fg, type Theme } from "./theme.ts";

/** Props of `ProgressBar`. */
export interface ProgressBarProps {
  readonly progress: JobProgress;
  readonly width: number;
  /** The job finished: an empty total shows as done, not pending. */
  readonly done: boolean;
  readonly theme: Theme;
}

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

/** The bar: `█` processed, `▓` skipped, `╳` failed, `░` to do. */
export function ProgressBar(props: ProgressBarProps) {
  const c = barCells(props.progress, props.width, props.done);
  const { theme } = props;
  const part = (n: number, char: string, color: string) =>
    n > 0 ? <Text {...fg(theme, color)}>{char.repeat(n)}</Text> : null;
  return (
    <Text>
      {part(c.processed, "█", "green")}
      {part(c.skipped, "▓", "cyan")}
      {part(c.failed, "╳", "red")}
      {part(c.rest, "░", "gray")}
    </Text>
  );
}
