/**
 * The scheduler lease: only the process holding it runs jobs. It is a small record
 * (`scheduler.json`: pid, mode, since) taken and released under the store lock; a holder
 * whose process is gone no longer holds it.
 */
import { processAlive, writeFileAtomic } from "../store/fs_util.ts";
import type { Store } from "../store/store.ts";
import { type Clock, systemClock } from "./clock.ts";

/** Who holds the lease: `daemon` is `tusk up`, `inline` a command running its own jobs. */
export interface LeaseInfo {
  readonly pid: number;
  readonly mode: "daemon" | "inline";
  readonly since: string;
}

/**
 * True while the lease holder's process lives. Deno allows `/proc/<pid>` reads only with
 * full permissions, so liveness is asked of the kernel with signal 0 (`--allow-run`).
 */
function alive(info: LeaseInfo): boolean {
  return processAlive(info.pid);
}

async function read(store: Store): Promise<LeaseInfo | null> {
  try {
    return JSON.parse(await Deno.readTextFile(store.layout.lease)) as LeaseInfo;
  } catch {
    return null;
  }
}

/** The live holder of the lease, or null. */
export async function leaseHolder(store: Store): Promise<LeaseInfo | null> {
  const info = await read(store);
  return info && alive(info) ? info : null;
}

/** A held lease. */
export class Lease {
  readonly #store: Store;
  readonly info: LeaseInfo;

  constructor(store: Store, info: LeaseInfo) {
    this.#store = store;
    this.info = info;
  }

  /** Give the lease back (only if we still hold it). */
  async release(): Promise<void> {
    await this.#store.transact(async () => {
      const cur = await read(this.#store);
      if (cur && cur.pid === this.info.pid && cur.since === this.info.since) {
        await Deno.remove(this.#store.layout.lease).catch(() => {});
      }
    });
  }
}

/** Take the lease if nobody alive holds it (`since` read on `clock`); null otherwise. */
export async function acquireLease(
  store: Store,
  mode: LeaseInfo["mode"],
  clock: Clock = systemClock,
): Promise<Lease | null> {
  return await store.transact(async () => {
    const cur = await read(store);
    if (cur && alive(cur) && cur.pid !== Deno.pid) return null;
    const info: LeaseInfo = {
      pid: Deno.pid,
      mode,
      since: new Date(clock.now()).toISOString(),
    };
    await writeFileAtomic(
      store.layout.lease,
      new TextEncoder().encode(JSON.stringify(info)),
      store.layout.tmp,
    );
    return new Lease(store, info);
  });
}
