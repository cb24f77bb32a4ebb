/**
 * A benign stage: copies every file of the input folder (first argument) into the out
 * folder (second argument), and records its arguments in `<out>/args.json`.
 */
import { join } from "./_join.ts";

const [input, out] = Deno.args as [string, string];
for await (const entry of Deno.readDir(input)) {
  if (entry.isFile) await Deno.copyFile(join(input, entry.name), join(out, entry.name));
}
await Deno.writeTextFile(join(out, "args.json"), JSON.stringify(Deno.args));
console.log(`copied ${input} to ${out}`);
