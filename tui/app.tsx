/**
 * The live dashboard of `tusk up` (Ink + React). It loads a status snapshot through
 * lib/mod.ts, then follows a feed of the scheduler's events (the in-process bus, or the
 * journal of the process that holds the lease) through the pure reducer in `state.ts`,
 * and draws `components/` on the alternate screen. Actions go through the narrow
 * `DashboardControls`. The terminal is restored on `q`, Ctrl-C, SIGINT/SIGTERM, an abort
 * signal, and when a component throws (the error is then rethrown to the caller, which
 * prints it on the restored terminal).
 *
 * Test hook: with `TUSK_TUI_CRASH_TEST=1` in the environment, a component throws as soon
 * as the first snapshot is shown — used by tests/tui to check the terminal is restored.
 */
import process from "node:process";
import { render, type RenderOptions, useApp, useInput, useStdin, useWindowSize } from "ink";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { nextTick, type Store, TuskError } from "../lib/mod.ts";
import { Dashboard, topWanted } from "./components/dashboard.tsx";
import type { Theme } from "./components/theme.ts";
import { cronEntries } from "./dag.ts";
import type { Subscribe } from "./feed.ts";
import { shortId } from "./format.ts";
import { computeLayout } from "./layout.ts";
import { loadSnapshot } from "./snapshot.ts";
import type { Action, FeedItem, Limits, Snapshot, ViewState } from "./view.ts";
import { clockFace, type ClockWindow, selectedIndex, wantsRefresh, windowStart } from "./select.ts";
import { initialState, reduce } from "./state.ts";

export { journalFeed, schedulerFeed } from "./feed.ts";
export type { Subscribe } from "./feed.ts";

/** The only things the dashboard can ask of the store. */
export interface DashboardControls {
  /**
   * Re-run a finished job of `pipeline` as a new job on the same inputs; resolves to what
   * was done, for the footer, or rejects saying why it cannot be.
   */
  rerun(jobId: string, pipeline: string): Promise<string>;
  /** Ask a running job to stop (`stop job`). */
  stop(jobId: string): Promise<unknown>;
}

/** Props of `App`. */
export interface AppProps {
  /** Loads the snapshot; `jobs: false` reloads repos and pipelines only. */
  readonly loadSnapshot: (options: { jobs: boolean }) => Promise<Snapshot>;
  readonly subscribe: Subscribe;
  readonly controls: DashboardControls;
  /** The store's path, for the header. */
  readonly store: string;
  readonly sandbox: string;
  readonly theme: Theme;
  readonly limits?: Partial<Limits>;
  /** The scheduler's own cron schedule, when it runs in this process. */
  readonly cronSchedule?: () => ReadonlyMap<string, number>;
  /** A fixed screen size (tests); the terminal's otherwise. */
  readonly size?: { readonly width: number; readonly height: number };
  readonly clock?: () => number;
  /** What the feed sends is drawn at most this often (ms); keys draw at once. */
  readonly flushMs?: number;
  readonly crashTest?: boolean;
}

/** The feed's events are drawn at most once per this many ms (keys redraw at once). */
export const FLUSH_MS = 250;

/** While the journal's history is replayed, its progress is drawn about this often (ms). */
export const REPLAY_DRAW_MS = 1000;

/** Throws while `armed`: the `TUSK_TUI_CRASH_TEST` hook. */
function CrashProbe(props: { readonly armed: boolean }) {
  if (props.armed) {
    throw new Error("TUSK_TUI_CRASH_TEST is set: a dashboard component threw on purpose");
  }
  return null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The dashboard with its state, input and feed. */
export function App(props: AppProps) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const terminal = useWindowSize();
  const clock = props.clock ?? Date.now;
  // The view lives in a ref that every action folds into at once, so a replayed journal is
  // reduced piece by piece as it is read. Keys draw it at once; what the feed and the store
  // send is drawn at most every `flushMs` (about once a second while history is replayed),
  // and at once after a quiet spell, on the first snapshot and when the replay ends.
  const viewRef = useRef<ViewState | null>(null);
  viewRef.current ??= initialState(props.limits ? { limits: props.limits } : {});
  const [view, setView] = useState(viewRef.current);
  const dispatch = useCallback((action: Action) => {
    viewRef.current = reduce(viewRef.current!, action);
    setView(viewRef.current);
  }, []);
  const [now, setNow] = useState(clock);
  const startRef = useRef(0);
  /** The time and the window of the frame last drawn, for the clock's tick. */
  const shownRef = useRef<{ now: number; window: ClockWindow } | null>(null);

  // Every second, redraw if the clock alone changed what the screen shows.
  useEffect(() => {
    const t = setInterval(() => {
      const at = clock();
      const shown = shownRef.current;
      const view = viewRef.current!;
      if (shown && clockFace(view, at, shown.window) === clockFace(view, shown.now, shown.window)) {
        return;
      }
      setNow(at);
    }, 1000);
    return () => clearInterval(t);
  }, [clock]);

  useEffect(() => {
    let alive = true;
    let unsubscribe: (() => void) | null = null;
    let drawTimer: ReturnType<typeof setTimeout> | undefined;
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    let lastRefresh = 0;
    let lastDraw = 0;
    const draw = () => {
      clearTimeout(drawTimer);
      drawTimer = undefined;
      lastDraw = Date.now();
      if (alive) setView(viewRef.current!);
    };
    /** Draw once `every` ms have passed since the last draw (the interval may grow meanwhile). */
    const drawLater = () => {
      const every = viewRef.current!.replay ? REPLAY_DRAW_MS : props.flushMs ?? FLUSH_MS;
      const wait = lastDraw + every - Date.now();
      if (wait <= 0) draw();
      else {
        drawTimer = setTimeout(() => {
          drawTimer = undefined;
          drawLater();
        }, wait);
      }
    };
    /** Fold `action` into the view; draw it now when `urgent`, else soon. */
    const apply = (action: Action, urgent: boolean) => {
      const before = viewRef.current!;
      viewRef.current = reduce(before, action);
      if (urgent) return draw();
      if (viewRef.current !== before && drawTimer === undefined) drawLater();
    };
    const refresh = () => {
      refreshTimer = undefined;
      lastRefresh = Date.now();
      props.loadSnapshot({ jobs: false }).then(
        (snapshot) => alive && apply({ kind: "snapshot", snapshot }, false),
        (err) =>
          alive &&
          dispatch({ kind: "message", text: `Cannot refresh: ${message(err)}`, time: clock() }),
      );
    };
    const fold = (items: readonly FeedItem[]) => {
      if (wantsRefresh(viewRef.current!, items) && refreshTimer === undefined) {
        refreshTimer = setTimeout(refresh, Math.max(0, lastRefresh + 1000 - Date.now()));
      }
      const replayed = items.some((i) => i.type === "tui:replay" && i.done);
      apply({ kind: "feed", items }, replayed);
    };
    // The feed starts at once (replaying a long journal takes a while), but what it sends
    // applies over the snapshot: until that is in, its batches wait and it is held back.
    let pending: FeedItem[] | null = [];
    let snapshotIn!: () => void;
    const waitForSnapshot = new Promise<void>((resolve) => snapshotIn = resolve);
    unsubscribe = props.subscribe((items) => {
      if (!alive || items.length === 0) return;
      if (pending === null) return fold(items);
      for (const i of items) pending.push(i);
      return waitForSnapshot;
    });
    props.loadSnapshot({ jobs: true }).then(
      (snapshot) => alive && apply({ kind: "snapshot", snapshot }, true),
      (err) =>
        alive &&
        dispatch({
          kind: "message",
          text: `Cannot load the status: ${message(err)}`,
          time: clock(),
        }),
    ).finally(() => {
      const items = pending ?? [];
      pending = null;
      if (alive && items.length) fold(items);
      snapshotIn();
    });
    return () => {
      alive = false;
      unsubscribe?.();
      clearTimeout(drawTimer);
      clearTimeout(refreshTimer);
      snapshotIn();
    };
  }, [props.loadSnapshot, props.subscribe]);

  const size = props.size ?? { width: terminal.columns, height: terminal.rows };
  const wanted = useMemo(() => topWanted(view), [view.repos, view.pipelines]);
  const layout = computeLayout(size, { topWanted: wanted, panel: view.panel });
  const selected = selectedIndex(view);
  const start = windowStart(startRef.current, selected, layout.jobRows, view.order.length);
  startRef.current = start;

  const cronNext = useMemo(() => {
    const own = props.cronSchedule?.();
    const out = new Map<string, number>();
    for (const c of cronEntries(view.pipelines)) {
      const known = own?.get(c.key);
      if (known !== undefined && known > now) out.set(c.key, known);
      else {
        try {
          const start = c.start ? new Date(c.start) : undefined;
          out.set(c.key, nextTick(c.spec, new Date(now), start).getTime());
        } catch { /* an unparsable spec shows no next tick */ }
      }
    }
    return out;
  }, [view.pipelines, now, props.cronSchedule]);
  shownRef.current = {
    now,
    window: { start, rows: layout.jobRows, cron: cronNext.size > 0 },
  };

  // Carry out a job request once, after the moves typed before it have been applied.
  const { request } = view;
  const handled = useRef(0);
  useEffect(() => {
    if (!request || request.seq <= handled.current) return;
    handled.current = request.seq;
    const id = shortId(request.job, 12);
    const verb = request.what === "rerun" ? "re-run" : "stop";
    const done = request.what === "rerun"
      ? props.controls.rerun(request.job, request.pipeline)
      : props.controls.stop(request.job).then(() => `Asked to stop job ${id}`);
    done.then(
      (text) => dispatch({ kind: "message", text, time: clock() }),
      (err) =>
        dispatch({
          kind: "message",
          // tusk's own errors say what could not be done; others get that said first.
          text: err instanceof TuskError
            ? err.message
            : `Cannot ${verb} job ${id}: ${message(err)}`,
          time: clock(),
        }),
    );
  }, [request, props.controls]);

  useInput((input, key) => {
    // Keys typed fast, or repeated under load, reach us together ("jj", "jq"): each counts.
    const keys = input.length > 1 && !key.ctrl && !key.meta ? [...input] : [input];
    for (const ch of keys) {
      if (ch === "q" || (key.ctrl && ch === "c")) return exit();
      else if (key.upArrow || ch === "k") dispatch({ kind: "move", delta: -1 });
      else if (key.downArrow || ch === "j") dispatch({ kind: "move", delta: 1 });
      else if (key.pageUp) dispatch({ kind: "move", delta: -layout.jobRows });
      else if (key.pageDown) dispatch({ kind: "move", delta: layout.jobRows });
      else if (key.home || ch === "g") dispatch({ kind: "move", delta: -Infinity });
      else if (key.end || ch === "G") dispatch({ kind: "move", delta: Infinity });
      else if (key.return) dispatch({ kind: "panel", panel: "inspect" });
      else if (ch === "l") dispatch({ kind: "panel", panel: "logs" });
      else if (key.escape && view.panel !== "none") dispatch({ kind: "panel", panel: view.panel });
      else if (key.escape) dispatch({ kind: "message", text: null, time: clock() });
      else if (ch === "r") dispatch({ kind: "request", what: "rerun", time: clock() });
      else if (ch === "s") dispatch({ kind: "request", what: "stop", time: clock() });
    }
  }, { isActive: isRawModeSupported === true });

  return (
    <>
      <CrashProbe armed={props.crashTest === true && view.loaded} />
      <Dashboard
        view={view}
        layout={layout}
        listStart={start}
        now={now}
        cronNext={cronNext}
        store={props.store}
        sandbox={props.sandbox}
        theme={props.theme}
      />
    </>
  );
}

/** Options of `runDashboard()`. */
export interface DashboardOptions {
  /** The store, for the snapshot (through lib/mod.ts) and the header. */
  readonly store: Store;
  readonly subscribe: Subscribe;
  readonly controls: DashboardControls;
  /** Sandbox mode and why, for the header. */
  readonly sandbox: string;
  readonly cronSchedule?: () => ReadonlyMap<string, number>;
  /** Aborting it closes the dashboard (exit status 0). */
  readonly signal?: AbortSignal;
  readonly stdout?: RenderOptions["stdout"];
  readonly stdin?: RenderOptions["stdin"];
  readonly stderr?: RenderOptions["stderr"];
  /** Colour (default: on unless `NO_COLOR` is set and not empty). */
  readonly color?: boolean;
  readonly limits?: Partial<Limits>;
}

/**
 * Show the dashboard on the terminal until `q`, Ctrl-C, SIGINT/SIGTERM or `signal`;
 * resolves 0 once the terminal is restored. A component that throws closes it too: the
 * promise then rejects with that error, after the terminal is restored.
 */
export async function runDashboard(options: DashboardOptions): Promise<number> {
  const env = (name: string) => Deno.env.get(name) ?? "";
  const theme: Theme = { color: options.color ?? env("NO_COLOR") === "" };
  const { store } = options;
  const app = (
    <App
      loadSnapshot={({ jobs }) => loadSnapshot(store, { jobs: jobs ? 200 : 0 })}
      subscribe={options.subscribe}
      controls={options.controls}
      store={store.root}
      sandbox={options.sandbox}
      theme={theme}
      {...(options.limits ? { limits: options.limits } : {})}
      {...(options.cronSchedule ? { cronSchedule: options.cronSchedule } : {})}
      crashTest={env("TUSK_TUI_CRASH_TEST") === "1"}
    />
  );
  const instance = render(app, {
    ...(options.stdout ? { stdout: options.stdout } : {}),
    ...(options.stdin ? { stdin: options.stdin } : {}),
    ...(options.stderr ? { stderr: options.stderr } : {}),
    alternateScreen: true,
    incrementalRendering: true,
    interactive: true,
    exitOnCtrlC: true,
    patchConsole: true,
  });
  const close = () => instance.unmount();
  const fail = (err: unknown) =>
    instance.unmount(err instanceof Error ? err : new Error(String(err)));
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    fail(e.reason);
  };
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    fail(e.error ?? e.message);
  };
  // `process.on` (not Deno.addSignalListener) so Ink's own signal-exit handler sees another
  // listener and leaves the exit status to us.
  process.on("SIGINT", close);
  process.on("SIGTERM", close);
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  options.signal?.addEventListener("abort", close);
  if (options.signal?.aborted) close();
  try {
    await instance.waitUntilExit();
    return 0;
  } finally {
    process.off("SIGINT", close);
    process.off("SIGTERM", close);
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
    options.signal?.removeEventListener("abort", close);
  }
}
