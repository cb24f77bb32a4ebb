/**
 * A trivial stage for the pipeline benchmarks: `copy.ts <in folder> <out folder>` copies
 * every file of its input to its out folder. With `--batch` (datum batching) it reads one
 * JSON request per stdin line, `{"datum","args":[<in>, <out>]}`, copies each and answers
 * `{"datum","status":"ok"}` on stdout.
 */

/** Copy every file under `from` to the same path under `to` (created if missing). */
export function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    const source = `${from}/${entry.name}`;
    if (entry.isDirectory) copyTree(source, `${to}/${entry.name}`);
    else if (entry.isFile) Deno.writeFileSync(`${to}/${entry.name}`, Deno.readFileSync(source));
  }
}

/** Serve batch requests from stdin until it ends. */
async function serveBatch(): Promise<void> {
  const encoder = new TextEncoder();
  let buffer = "";
  const answer = (line: string) => {
    if (line.trim() === "") return;
    const request = JSON.parse(line) as { datum: string; args: [string, string] };
    copyTree(request.args[0], request.args[1]);
    const ack = encoder.encode(JSON.stringify({ datum: request.datum, status: "ok" }) + "\n");
    for (let done = 0; done < ack.length;) done += Deno.stdout.writeSync(ack.subarray(done));
  };
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      answer(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  answer(buffer);
}

if (import.meta.main) {
  if (Deno.args[0] === "--batch") await serveBatch();
  else copyTree(Deno.args[0]!, Deno.args[1]!);
}
