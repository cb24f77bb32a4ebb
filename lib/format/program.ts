/** How a host program a stage runs is shown: its path, the file that runs and its version. */
import { printable } from "./format.ts";

/** What is shown of a host program. */
export interface ProgramLike {
  readonly path: string;
  readonly realPath: string;
  readonly version: string | null;
  readonly sha256: string;
}

/**
 * `/usr/bin/python3 (/usr/bin/python3.11), Python 3.11.2, sha256 a83c0370d915…`: the path
 * found, the file that runs when it is another, the version line (or that it has none) and
 * the start of the file's hash.
 */
export function programText(p: ProgramLike): string {
  const real = p.realPath !== p.path ? ` (${printable(p.realPath)})` : "";
  const version = p.version === null ? "no --version" : printable(p.version);
  return `${printable(p.path)}${real}, ${version}, sha256 ${p.sha256.slice(0, 12)}…`;
}
