/**
 * The seccomp filter of a host-program stage, as classic BPF for bwrap's `--seccomp`: the
 * system calls a stage has no use for and that reach past its namespaces fail with EPERM —
 * the kernel keyrings (`keyctl`, `add_key`, `request_key`: keyrings are not namespaced, so a
 * stage running as tusk's user could list, change or clear that user's keyrings on the
 * host), and `perf_event_open`, `bpf`, `userfaultfd` and `io_uring_*`, large kernel
 * surfaces containers refuse too. System calls of another ABI (32-bit x86 or x32 on
 * x86_64) fail with ENOSYS, so none of them slips past by another number. Pure.
 */

/** The system calls refused, by name. */
export const REFUSED_SYSCALLS: readonly string[] = [
  "keyctl",
  "add_key",
  "request_key",
  "perf_event_open",
  "bpf",
  "userfaultfd",
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
];

/** Each architecture's audit id and system call numbers. */
const ARCHES: Readonly<
  Record<string, { readonly audit: number; readonly numbers: Readonly<Record<string, number>> }>
> = {
  x86_64: {
    audit: 0xc000003e,
    numbers: {
      keyctl: 250,
      add_key: 248,
      request_key: 249,
      perf_event_open: 298,
      bpf: 321,
      userfaultfd: 323,
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427,
    },
  },
  aarch64: {
    audit: 0xc00000b7,
    numbers: {
      keyctl: 219,
      add_key: 217,
      request_key: 218,
      perf_event_open: 241,
      bpf: 280,
      userfaultfd: 282,
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427,
    },
  },
};

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
/** x32 system calls are numbered from this bit. */
const X32_BIT = 0x40000000;

/**
 * The filter for `arch` (`Deno.build.arch`) as bwrap reads it (`struct sock_filter`s, in
 * the host's byte order), or null for an architecture it does not know.
 */
export function seccompFilter(arch: string): Uint8Array | null {
  const a = ARCHES[arch];
  if (a === undefined) return null;
  const refused = REFUSED_SYSCALLS.map((name) => a.numbers[name]!);
  // [code, jt, jf, k]
  const program: [number, number, number, number][] = [
    [LD_W_ABS, 0, 0, 4], // the architecture
    [JEQ_K, 1, 0, a.audit],
    [RET_K, 0, 0, RET_ERRNO | ENOSYS],
    [LD_W_ABS, 0, 0, 0], // the system call number
  ];
  if (arch === "x86_64") {
    program.push([JGE_K, 0, 1, X32_BIT], [RET_K, 0, 0, RET_ERRNO | ENOSYS]);
  }
  refused.forEach((nr, i) => program.push([JEQ_K, refused.length - i, 0, nr]));
  program.push([RET_K, 0, 0, RET_ALLOW], [RET_K, 0, 0, RET_ERRNO | EPERM]);
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  program.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, little);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k, little);
  });
  return bytes;
}
