/**
 * Watches a stage's process tree from outside: its pids, their names and their resident
 * memory, and (when asked) the disk it takes. Deno refuses to read `/proc` without
 * --allow-all and has no `statfs`, so a small bash loop does it for us (builtins only, no
 * fork per memory sample) and prints one line per sample; it sleeps by reading its stdin
 * with a timeout and exits when we close that pipe.
 *
 * The disk watch, every `intervalMs` of its own, runs coreutils `stat` twice: `stat -f` for
 * the free space of the filesystem holding the work folder, and `stat -L` on every open file
 * descriptor of the tree (`/proc/<pid>/fd/*`), to add up the files the tree deleted but keeps
 * open on that filesystem: no name leads to them, yet they take disk until closed.
 */

/** One disk sample: the work filesystem's free space and what the tree holds unnamed. */
export interface DiskSample {
  /** Bytes free for unprivileged writers on the filesystem holding the work folder. */
  readonly freeBytes: number;
  /**
   * Bytes of regular files on that filesystem that the tree keeps open but deleted (each
   * counted once, at its size or the disk it takes, whichever is larger).
   */
  readonly heldBytes: number;
}

/** What the disk watch needs: coreutils `stat`, the work folder and how often to look. */
export interface DiskWatch {
  /** Absolute path of coreutils `stat`. */
  readonly stat: string;
  /** A folder on the filesystem to watch (the datum's scratch folder). */
  readonly dir: string;
  /** Time between two disk samples, in milliseconds; the first is taken at once. */
  readonly intervalMs: number;
  readonly onSample: (sample: DiskSample) => void;
}

/** One sample of the watched tree. */
export interface TreeSample {
  /** Sum of the tree's resident set sizes, in bytes. */
  readonly rssBytes: number;
  /** Sum of the tree's peak resident set sizes (VmHWM), in bytes. */
  readonly peakBytes: number;
  /** Live processes of the tree, root first. */
  readonly processes: readonly { readonly pid: number; readonly name: string }[];
}

const SCRIPT = `
root=$1; interval=$2; tree=$3; stat=$4; dir=$5; disk_us=$(($6 * 1000))
wait=5; pids=$root; tick=0; next_scan=2; next_disk=0; dev=""
if [[ -n $stat ]]; then dev=$("$stat" -c %d -- "$dir" 2>/dev/null) || stat=""; fi
disk() {
  local -A seen=(); local files=() p out free held=0 d i h b bs bb s f
  out=$("$stat" -f -c '%a %S' -- "$dir" 2>/dev/null) || return
  read -r free bs <<< "$out"
  for p in $pids; do files+=(/proc/$p/fd/*); done
  out=$("$stat" -L -c '%d %i %h %b %B %s %f' -- "\${files[@]}" 2>/dev/null)
  while read -r d i h b bb s f; do
    [[ $d == "$dev" && $h == 0 && -n $f ]] || continue
    (( (16#$f & 0xF000) == 0x8000 )) || continue
    [[ -z \${seen[$i]} ]] || continue
    seen[$i]=1; b=$((b * bb)); held=$((held + (b > s ? b : s)))
  done <<< "$out"
  echo "D $((free * bs)) $held"
}
scan() {
  local -A kids=(); local full=$1 f line rest pid ppid p
  for f in /proc/[0-9]*; do
    pid=\${f#/proc/}
    ((full || pid >= root)) || continue
    read -r line 2>/dev/null < "$f/stat" || continue
    rest=\${line##*) }; rest=\${rest#* }; ppid=\${rest%% *}
    kids[$ppid]+=" $pid"
  done
  local queue=($root) out=()
  while ((\${#queue[@]})); do
    p=\${queue[0]}; queue=("\${queue[@]:1}"); out+=($p); queue+=(\${kids[$p]})
  done
  pids="\${out[*]}"
}
while :; do
  tick=$((tick + 1))
  if ((tree && tick >= next_scan)); then
    scan 0
    if [[ $pids == "$root" ]]; then scan 1; fi
    next_scan=$((tick < 16 ? tick * 2 : tick + 16))
  fi
  rss=0; hwm=0; list=""
  for p in $pids; do
    r=0; h=0; name=""
    { read -r name < /proc/$p/comm; } 2>/dev/null || continue
    while read -r k v _; do
      case $k in VmRSS:) r=$v ;; VmHWM:) h=$v ;; esac
    done 2>/dev/null < /proc/$p/status
    rss=$((rss + r)); hwm=$((hwm + h)); list="$list $p/\${name// /_}"
  done
  echo "$rss $hwm$list"
  if [[ -n $stat ]]; then
    now=\${EPOCHREALTIME/./}
    if ((now >= next_disk)); then disk; next_disk=$((now + disk_us)); fi
  fi
  if ((wait < interval)); then wait=$((wait * 2 < interval ? wait * 2 : interval)); fi
  printf -v secs '%d.%03d' $((wait / 1000)) $((wait % 1000))
  read -r -t "$secs" _ || (($? > 128)) || exit 0
done
`;

/** A running watcher of one process tree. */
export class TreeMonitor {
  #child: Deno.ChildProcess;
  #done: Promise<void>;
  #latest: TreeSample | null = null;
  #peak = 0;

  private constructor(
    child: Deno.ChildProcess,
    onSample: (s: TreeSample) => void,
    onDisk: ((s: DiskSample) => void) | undefined,
  ) {
    this.#child = child;
    this.#done = this.#read(onSample, onDisk);
  }

  /**
   * Start watching `pid` (with `tree`, also its descendants, found by scanning /proc for
   * processes started after it, falling back to all), sampling at once, then after 10,
   * 20, 40 … ms up to every `intervalMs`; null when bash is not available.
   */
  static start(
    bash: string | null,
    pid: number,
    intervalMs: number,
    tree: boolean,
    onSample: (s: TreeSample) => void,
    disk?: DiskWatch,
  ): TreeMonitor | null {
    if (!bash) return null;
    try {
      const child = new Deno.Command(bash, {
        args: [
          "--noprofile",
          "--norc",
          "-c",
          SCRIPT,
          "tusk-monitor",
          String(pid),
          String(Math.max(10, Math.round(intervalMs))),
          tree ? "1" : "0",
          disk?.stat ?? "",
          disk?.dir ?? "",
          String(Math.max(10, Math.round(disk?.intervalMs ?? 0))),
        ],
        clearEnv: true,
        env: { LC_ALL: "C" },
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      return new TreeMonitor(child, onSample, disk?.onSample);
    } catch {
      return null;
    }
  }

  /** The latest sample, or null before the first one. */
  get latest(): TreeSample | null {
    return this.#latest;
  }

  /** The highest peak seen, in bytes. */
  get peakBytes(): number {
    return this.#peak;
  }

  async #read(
    onSample: (s: TreeSample) => void,
    onDisk: ((s: DiskSample) => void) | undefined,
  ): Promise<void> {
    let buffer = "";
    const decoder = new TextDecoder();
    try {
      for await (const chunk of this.#child.stdout) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.startsWith("D ")) {
            const disk = parseDiskSample(line);
            if (disk) onDisk?.(disk);
            continue;
          }
          const sample = parseSample(line);
          if (!sample) continue;
          this.#latest = sample;
          this.#peak = Math.max(this.#peak, sample.peakBytes, sample.rssBytes);
          onSample(sample);
        }
      }
    } catch {
      // The monitor died: the stage is still supervised by its timers.
    }
  }

  /** Stop the monitor and wait until it is gone. */
  async stop(): Promise<void> {
    try {
      await this.#child.stdin.close();
    } catch {
      // Already closed.
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 1000);
    try {
      await this.#child.status;
      await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Parse one monitor line: `<rssKiB> <hwmKiB> <pid>/<name>…`. */
export function parseSample(line: string): TreeSample | null {
  const parts = line.trim().split(" ");
  if (parts.length < 2) return null;
  const rss = Number(parts[0]);
  const hwm = Number(parts[1]);
  if (!Number.isFinite(rss) || !Number.isFinite(hwm)) return null;
  const processes = parts.slice(2).flatMap((p) => {
    const slash = p.indexOf("/");
    const pid = Number(p.slice(0, slash));
    return slash > 0 && Number.isInteger(pid) ? [{ pid, name: p.slice(slash + 1) }] : [];
  });
  return { rssBytes: rss * 1024, peakBytes: hwm * 1024, processes };
}

/** Parse one disk line of the monitor: `D <freeBytes> <heldBytes>`. */
export function parseDiskSample(line: string): DiskSample | null {
  const m = /^D (\d+) (\d+)$/.exec(line.trim());
  if (!m) return null;
  return { freeBytes: Number(m[1]), heldBytes: Number(m[2]) };
}
