/** `tusk up`: the scheduler, with the live dashboard on a terminal, or plain log lines. */
import * as lib from "../lib/mod.ts";
import { type CliContext, load } from "./context.ts";
import { warnDamaged } from "./_damaged.ts";

type Dashboard = typeof import("../tui/app.tsx");

/** `tusk up [--headless]`: serve the store until Ctrl-C (or `q` on the dashboard). */
export async function up(cli: CliContext, _: [], o: { headless: boolean }): Promise<void> {
  const live = !o.headless && cli.stdout.isTerminal();
  // React's production build: the development one makes every frame several times slower.
  if (live && !Deno.env.get("NODE_ENV")) Deno.env.set("NODE_ENV", "production");
  // The dashboard's code (Ink, React) loads while the store opens and the sandbox is probed:
  // it is most of the time before the first frame. A failure to load it is thrown below.
  const dashboard = live ? load<Dashboard>("../tui/app.tsx") : null;
  dashboard?.catch(() => {});
  const store = await cli.store();
  const { mode, reason } = await cli.sandbox();
  // Quitting ends the running jobs' stages at once: they resume, counting no try, next time.
  const ac = new AbortController();
  const batchDatums = await cli.batchDatums();
  const s = new lib.Scheduler(store, {
    sandbox: mode,
    signal: ac.signal,
    ...(batchDatums ? { batchDatums } : {}),
  });
  if (dashboard) {
    const { runDashboard, schedulerFeed } = await dashboard;
    // Another process holds the lease: follow it, and take over should it go.
    const held = Promise.withResolvers<number>();
    const tookOver = Promise.withResolvers<void>();
    let waited = false;
    const serving = s.serve(ac.signal, {
      onHeld: (pid) => {
        waited = true;
        held.resolve(pid);
      },
      onServing: () => {
        if (waited) tookOver.resolve();
      },
    });
    try {
      await runDashboard({
        store,
        subscribe: schedulerFeed({
          bus: s.bus,
          serving,
          held: held.promise,
          tookOver: tookOver.promise,
          journal: lib.journalPath(store),
        }),
        controls: {
          rerun: async (id, pipeline) => {
            const r = await lib.rerunJob(store, `${pipeline}@${id}`);
            s.wake();
            return `Re-running job ${id.slice(0, 12)} as a new job on the same inputs: ` +
              (r.reprocess ? "every datum runs again" : "datums that succeeded are reused");
          },
          stop: (id) => lib.stopJob(store, id),
        },
        sandbox: `${mode} (${reason})`,
        cronSchedule: () => s.cronSchedule,
      });
    } finally {
      ac.abort();
      await serving.catch((e) => {
        if (!(e instanceof lib.LeaseHeldError)) throw e;
      });
      s.bus.close();
    }
    return;
  }
  cli.out(`tusk up: store ${store.root}, sandbox ${mode} (${reason})\n`);
  s.bus.on((e) => {
    const { type, time, ...rest } = e;
    if (type === "stage:log") return;
    cli.out(`${time} ${type} ${JSON.stringify(rest)}\n`);
    if (e.type === "job:damaged") warnDamaged(cli)({ error: new Error(e.message) });
  });
  const stopIt = () => ac.abort();
  Deno.addSignalListener("SIGINT", stopIt);
  Deno.addSignalListener("SIGTERM", stopIt);
  try {
    await s.serve(ac.signal, {
      onError: (e) => cli.err(`tusk up: ${e instanceof Error ? e.message : String(e)}\n`),
    });
  } finally {
    Deno.removeSignalListener("SIGINT", stopIt);
    Deno.removeSignalListener("SIGTERM", stopIt);
    s.bus.close();
  }
  cli.out("tusk up: stopped\n");
}
