/**
 * Runs the CLI's `main()` with arguments given as one JSON array, for arguments a process's
 * argv cannot carry (a NUL byte). Used by `tuskJsonArgs()` in `_cli.ts`.
 */
import { main } from "../../main.ts";

Deno.exit(await main(JSON.parse(Deno.args[0] ?? "[]") as string[]));
