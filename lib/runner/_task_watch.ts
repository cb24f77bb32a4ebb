/**
 * The process limit of a host-program stage: a fork bomb is ended before it takes the
 * machine's process ids. Three layers, the first that applies doing the work:
 *
 * 1. A pids cgroup of its own, where tusk may make one (root with a writable cgroup v1
 *    `pids` hierarchy, or a cgroup v2 subtree with `pids` enabled): the kernel refuses the
 *    stage's tasks past the limit, and the watch sees it in `pids.events`.
 * 2. `RLIMIT_NPROC` set inside the sandbox (`host_stage.ts`): the kernel refuses the tasks
 *    past the limit, for any user but root; the watch sees the count reach it.
 * 3. The watch's own count: a small bash loop (builtins only, so it never forks) reads the
 *    machine's task count from `/proc/loadavg` every 10 ms, and when it has grown by `step`
 *    since the last count (and every half second anyway) counts the tasks in the stage's
 *    pid namespace: those whose `/proc/<pid>/ns/pid` is that of the sandbox's first process
 *    (the child of the bwrap the stage was started as).
 *
 * On reaching the limit the watch prints `over <n>` once; the runner ends the stage. When
 * stopped, it looks at the limit's events a last time and prints `stopped`; then it says
 * whether the stage's cgroup is empty, so the next stage run of this process can take it
 * over, or else removes it once its tasks are gone (up to 5 s) while the runner harvests;
 * cgroups left behind are removed by a later watch once their tusk process is gone. Making
 * a cgroup costs milliseconds (the kernel's cgroup lock): `CgroupPool` makes the next one
 * while a stage runs, so a stage's start seldom waits for one.
 */

const SCRIPT = `
outer=$1; max=$2; step=$3; cg=$4; seen=$5; inner=""; tick=0; tasks=0; over=0
read -r _ _ _ rt _ < /proc/loadavg; base=\${rt#*/}
if [[ -n $cg ]]; then
  # Cgroups a tusk process that is gone could not remove (its stage's tasks took longer to
  # end): empty now, so rmdir removes them; a live one's it leaves.
  for d in "\${cg%/*}"/tusk-*-*; do
    n=\${d##*/tusk-}; p=\${n%%-*}
    [[ $p =~ ^[0-9]+$ && ! -d /proc/$p ]] && rmdir "$d" 2>/dev/null
  done
fi
find_inner() {
  local f line rest ppid
  for f in /proc/[0-9]*; do
    read -r line 2>/dev/null < "$f/stat" || continue
    rest=\${line##*) }; rest=\${rest#* }; ppid=\${rest%% *}
    if ((ppid == outer)); then inner=\${f#/proc/}; return; fi
  done
}
count() {
  local f n=0 t
  [[ -z $inner ]] && find_inner
  if [[ -n $inner ]]; then
    for f in /proc/[0-9]*; do
      [[ $f/ns/pid -ef /proc/$inner/ns/pid ]] || continue
      t=("$f"/task/*); n=$((n + \${#t[@]}))
    done
  fi
  tasks=$n
}
while :; do
  tick=$((tick + 1))
  if ((!over)); then
    if [[ -n $cg ]]; then
      if read -r _ ev 2>/dev/null < "$cg/pids.events" && ((ev > seen)); then
        over=1; echo "over $max"
      fi
    else
      read -r _ _ _ rt _ < /proc/loadavg; total=\${rt#*/}
      if ((total - base >= step || tick % 50 == 1)); then
        base=$total; count
        if ((tasks >= max)); then over=1; echo "over $tasks"; fi
      fi
    fi
  fi
  # Any whole line is "stop" (a read that timed out mid-line keeps what it had read), and so
  # is the end of stdin.
  if read -r -t 0.01 _; then break
  elif (($? <= 128)); then break; fi
done
if [[ -n $cg ]] && ((!over)) && read -r _ ev 2>/dev/null < "$cg/pids.events" && ((ev > seen)); then
  echo "over $max"
fi
echo stopped
if [[ -n $cg ]]; then
  read -r current 2>/dev/null < "$cg/pids.current"
  if [[ $current == 0 ]] && read -r _ ev 2>/dev/null < "$cg/pids.events"; then
    echo "free $ev"
  else
    # stdin stays open until this ends: reading it sleeps.
    for ((i = 0; i < 250; i++)); do
      rmdir "$cg" 2>/dev/null && break
      read -r -t 0.02 _
    done
  fi
fi
`;

/** A pids cgroup of a stage run, and the limit events it had counted before the run. */
export interface StageCgroup {
  readonly path: string;
  readonly events: number;
}

/** Empty pids cgroups of this process, each ready for a stage run, and those being made. */
export class CgroupPool {
  readonly #idle: StageCgroup[] = [];
  readonly #making = new Map<string, Promise<void>>();
  #made = 0;

  #idleUnder(root: string): number {
    return this.#idle.findIndex((c) => c.path.startsWith(`${root}/`));
  }

  #name(root: string): string {
    return `${root}/tusk-${Deno.pid}-${++this.#made}`;
  }

  /**
   * Start making a cgroup under `root` capped at `max` tasks, by the POSIX shell `sh`, for a
   * later `take()`: unless one is ready or being made there already. Best effort: one that
   * cannot be made is left to the stage's own shell, which says why.
   */
  prepare(root: string, sh: string | null, max: number): void {
    if (!sh || this.#making.has(root) || this.#idleUnder(root) >= 0) return;
    const path = this.#name(root);
    const making = new Deno.Command(sh, {
      args: ["-c", 'mkdir -- "$1" && echo "$2" > "$1/pids.max"', "tusk-cgroup", path, String(max)],
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output().then((out) => {
      if (out.success) this.#idle.push({ path, events: 0 });
    }, () => {}).finally(() => this.#making.delete(root));
    this.#making.set(root, making);
  }

  /**
   * A ready cgroup under `root` (waiting for one being made), or the name of a new one (the
   * stage's shell makes it).
   */
  async take(root: string): Promise<StageCgroup> {
    await this.#making.get(root);
    const idle = this.#idleUnder(root);
    if (idle >= 0) return this.#idle.splice(idle, 1)[0]!;
    return { path: this.#name(root), events: 0 };
  }

  /** Take back an empty cgroup. */
  give(cgroup: StageCgroup): void {
    this.#idle.push(cgroup);
  }

  /** Wait until no cgroup is being made. */
  async settled(): Promise<void> {
    await Promise.all(this.#making.values());
  }
}

/** The pool of this process. */
export const cgroupPool = new CgroupPool();

/** A running watch of one stage's tasks. */
export class TaskWatch {
  #child: Deno.ChildProcess;
  #done: Promise<void>;
  #cgroup: StageCgroup | null;
  #free: number | null = null;
  #stopped = Promise.withResolvers<void>();
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;

  private constructor(
    child: Deno.ChildProcess,
    cgroup: StageCgroup | null,
    onOver: (tasks: number) => void,
  ) {
    this.#child = child;
    this.#cgroup = cgroup;
    this.#done = this.#read(onOver);
  }

  /**
   * Start watching the stage started as process `outerPid` (bwrap, whose child is the
   * sandbox's first process), limited to `max` tasks, in the cgroup `cgroup` if it has one;
   * `onOver` is called once when the limit is reached. Null when bash is not available.
   */
  static start(
    bash: string | null,
    outerPid: number,
    max: number,
    cgroup: StageCgroup | null,
    onOver: (tasks: number) => void,
  ): TaskWatch | null {
    if (!bash) return null;
    try {
      const child = new Deno.Command(bash, {
        args: [
          "--noprofile",
          "--norc",
          "-c",
          SCRIPT,
          "tusk-tasks",
          String(outerPid),
          String(max),
          String(Math.max(16, Math.floor(max / 8))),
          cgroup?.path ?? "",
          String(cgroup?.events ?? 0),
        ],
        clearEnv: true,
        env: { LC_ALL: "C" },
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      return new TaskWatch(child, cgroup, onOver);
    } catch {
      return null;
    }
  }

  async #read(onOver: (tasks: number) => void): Promise<void> {
    let text = "";
    let told = false;
    try {
      for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        const m = /^over (\d+)$/m.exec(text);
        if (m && !told) {
          told = true;
          onOver(Number(m[1]));
        }
        if (/^stopped$/m.test(text)) this.#stopped.resolve();
        const free = /^free (\d+)$/m.exec(text);
        if (free) this.#free = Number(free[1]);
      }
    } catch {
      // The watch died: the stage is still supervised by its timers and memory cap.
    } finally {
      this.#stopped.resolve();
    }
  }

  /**
   * Stop watching: resolves once the watch has looked at the limit a last time (any `over`
   * reported); its stage's cgroup is then being freed or removed until `stop()` ends.
   */
  async stopWatching(): Promise<void> {
    if (this.#writer) return await this.#stopped.promise;
    try {
      // Left open until the watch ends: it sleeps by reading it while the cgroup empties.
      this.#writer = this.#child.stdin.getWriter();
      await this.#writer.write(new TextEncoder().encode("stop\n"));
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => this.#kill(), 7000);
    try {
      await this.#stopped.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  #kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /**
   * Stop watching and wait until the watch is gone; the stage's cgroup, when it is empty,
   * goes back to `cgroupPool` (else the watch has removed it, or gave up).
   */
  async stop(): Promise<void> {
    await this.stopWatching();
    const timer = setTimeout(() => this.#kill(), 7000);
    try {
      await this.#child.status;
      await this.#done;
    } finally {
      clearTimeout(timer);
      await this.#writer?.close().catch(() => {});
    }
    if (this.#cgroup && this.#free !== null) {
      cgroupPool.give({ path: this.#cgroup.path, events: this.#free });
    }
  }
}

/** What `probeTaskLimits()` found. */
export interface TaskLimits {
  /** This process's effective uid (root's `RLIMIT_NPROC` is not enforced); null if unknown. */
  readonly uid: number | null;
  /** A pids cgroup folder tusk may make cgroups in, or null. */
  readonly pidsCgroup: string | null;
  /** Those of the `/proc` paths asked about that exist, and whether each is a folder. */
  readonly proc: readonly { readonly path: string; readonly folder: boolean }[];
}

/**
 * Find this process's uid and the pids cgroup folder where tusk may make a child cgroup and
 * move a process into it (tried by making one and checking the permissions), by bash (Deno reads neither `/proc`
 * nor `/sys` without --allow-all). No cgroup where there is none: a cgroup v1 `pids`
 * hierarchy not writable, a cgroup v2 one without `pids` in its subtree, or no bash.
 */
export async function probeTaskLimits(
  bash: string | null,
  procPaths: readonly string[] = [],
): Promise<TaskLimits> {
  if (!bash) return { uid: null, pidsCgroup: null, proc: [] };
  const script = `
echo "uid $EUID"
for p in "$@"; do
  if [[ -d $p ]]; then echo "proc dir $p"; elif [[ -e $p ]]; then echo "proc file $p"; fi
done
v1=""; v2=""; have2=0
while IFS=: read -r id ctrl path; do
  [[ ,$ctrl, == *,pids,* ]] && v1=$path
  [[ $id == 0 && -z $ctrl ]] && { v2=$path; have2=1; }
done < /proc/self/cgroup
dir=""
while read -r line; do
  left=\${line%% - *}; right=\${line#* - }
  read -r _ _ _ root mnt _ <<< "$left"
  read -r type _ opts <<< "$right"
  if [[ $type == cgroup && ,$opts, == *,pids,* && -n $v1 ]]; then
    rel=\${v1#"$root"}; dir=$mnt\${rel:+/\${rel#/}}; break
  fi
  if [[ $type == cgroup2 && $have2 == 1 && -z $dir ]]; then
    rel=\${v2#"$root"}; d=$mnt\${rel:+/\${rel#/}}
    read -r ctl 2>/dev/null < "$d/cgroup.subtree_control" && [[ " $ctl " == *" pids "* ]] && dir2=$d
  fi
done < /proc/self/mountinfo
dir=\${dir:-$dir2}
[[ -n $dir ]] || exit 0
probe=$dir/tusk-probe-$$
mkdir "$probe" 2>/dev/null || exit 0
ok=0
# Moving a process is allowed with write access to cgroup.procs of both cgroups (its
# common ancestor's, in cgroup v2): checked rather than tried, as a move costs milliseconds.
# A stage moves through tasks in cgroup v1 (see STAGE_WRAPPER).
if [[ -w $probe/pids.max && -w $probe/cgroup.procs && -w $dir/cgroup.procs ]] &&
  [[ ! -e $probe/tasks || -w $probe/tasks ]] &&
  echo 8 > "$probe/pids.max" 2>/dev/null; then ok=1; fi
rmdir "$probe" 2>/dev/null
((ok)) && echo "cgroup $dir"
exit 0
`;
  try {
    const out = await new Deno.Command(bash, {
      args: ["--noprofile", "--norc", "-c", script, "tusk-probe", ...procPaths],
      clearEnv: true,
      env: { LC_ALL: "C" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const uid = /^uid (\d+)$/m.exec(text)?.[1];
    const dir = /^cgroup (\/.*)$/m.exec(text)?.[1];
    const proc = [...text.matchAll(/^proc (dir|file) (\/proc\/\S+)$/gm)].map((m) => ({
      path: m[2]!,
      folder: m[1] === "dir",
    }));
    return { uid: uid === undefined ? null : Number(uid), pidsCgroup: dir ?? null, proc };
  } catch {
    return { uid: null, pidsCgroup: null, proc: [] };
  }
}
