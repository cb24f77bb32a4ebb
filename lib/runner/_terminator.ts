/**
 * Ending a stage's processes (the stage runner's): SIGTERM the stage, then SIGKILL its
 * process group and every process of its tree, never signalling a pid once it is reaped.
 */
import type { TreeSample } from "./_monitor.ts";
import type { SandboxMode } from "./sandbox.ts";

/** Signals a stage's processes: SIGTERM the stage, SIGKILL everything. */
export class Terminator {
  #exited = false;
  #terminating = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly child: Deno.ChildProcess,
    private readonly mode: SandboxMode,
    private readonly ownGroup: boolean,
    private readonly monitor: () => TreeSample | null,
  ) {}

  /** The process has been reaped: never signal its pid (or group) again. */
  exited(): void {
    this.#exited = true;
    clearTimeout(this.#killTimer);
  }

  #send(pid: number, sig: Deno.Signal): void {
    if (this.#exited) return;
    try {
      Deno.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }

  /**
   * SIGTERM the stage (in bwrap mode the Deno process inside, not bwrap, whose death
   * would SIGKILL it at once), then SIGKILL everything after `graceMs`.
   */
  terminate(graceMs: number): void {
    if (this.#exited || this.#terminating) return;
    this.#terminating = true;
    const tree = this.monitor()?.processes ?? [];
    const stage = tree.filter((p) => p.name !== "bwrap" && p.pid !== this.child.pid);
    if (this.mode === "deno") {
      if (this.ownGroup) this.#send(-this.child.pid, "SIGTERM");
      this.#send(this.child.pid, "SIGTERM");
    } else if (stage.length === 0) {
      // Tree unknown (no monitor, or too early): end bwrap, which kills the stage with it.
      this.#send(this.ownGroup ? -this.child.pid : this.child.pid, "SIGTERM");
    }
    for (const p of stage) this.#send(p.pid, "SIGTERM");
    this.#killTimer = setTimeout(() => this.kill(), graceMs);
  }

  /** SIGKILL the process group and every process of the tree now. */
  kill(): void {
    clearTimeout(this.#killTimer);
    this.#terminating = true;
    const tree = this.monitor()?.processes ?? [];
    if (this.ownGroup) this.#send(-this.child.pid, "SIGKILL");
    this.#send(this.child.pid, "SIGKILL");
    for (const p of tree) this.#send(p.pid, "SIGKILL");
  }
}
