/**
 * How the dashboard divides the terminal: rows for the header, the repos and DAG strip,
 * the jobs list, the open panel and the footer. Pure arithmetic on the terminal size, so
 * the list is windowed to exactly the rows it has.
 */
import type { Panel } from "./view.ts";

/** Rows given to each part of the screen (titles included). */
export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Content rows of the repos / pipelines strip (0 hides it), plus its title row. */
  readonly topRows: number;
  /** Job rows (the list's title row is extra). */
  readonly jobRows: number;
  /** Content rows of the open panel (0 when none), plus its title row. */
  readonly panelRows: number;
}

/** The smallest terminal the dashboard lays out for; smaller ones are clamped. */
export const MIN_SIZE = { width: 40, height: 10 } as const;

/** Lay out a `width` × `height` terminal. `topWanted` is the strip's natural height. */
export function computeLayout(
  size: { width: number; height: number },
  options: { topWanted: number; panel: Panel },
): Layout {
  const width = Math.max(MIN_SIZE.width, size.width);
  const height = Math.max(MIN_SIZE.height, size.height);
  // header + footer
  let free = height - 2;
  const topCap = height >= 30 ? 8 : height >= 20 ? 4 : 2;
  const topRows = Math.max(1, Math.min(options.topWanted, topCap));
  free -= topRows + 1;
  let panelRows = 0;
  if (options.panel === "inspect") panelRows = Math.max(2, Math.floor((free - 1) * 0.5));
  if (options.panel === "logs") {
    panelRows = Math.max(2, free - 1 - Math.min(4, Math.floor(free / 4)) - 1);
  }
  if (panelRows) free -= panelRows + 1;
  const jobRows = Math.max(1, free - 1);
  return { width, height, topRows, jobRows, panelRows };
}
