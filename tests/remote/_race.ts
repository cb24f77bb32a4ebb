/**
 * Two pushes racing for one remote's next log entry, made deterministic: run as
 * `_race.ts <storeA> <storeB>` (each with the remote "origin"), store A's push is held just
 * before it creates the next log entry while store B pushes to the same remote; then A's push
 * goes on. Prints `{"b": <B's result>, "a": <A's error as JSON>}`. A process of its own, so
 * that S3 remotes get the network permission the test runner does not have.
 */
import { remoteNamed } from "../../lib/remote/config.ts";
import { wrapBackend } from "./_wrap_backend.ts";
import { openBackend } from "../../lib/remote/open.ts";
import { push } from "../../lib/remote/push.ts";
import { parseRemoteUrl } from "../../lib/remote/url.ts";
import { Store } from "../../lib/store/store.ts";
import { TuskError } from "../../lib/errors.ts";

const [pathA, pathB] = Deno.args as [string, string];
const env = (name: string) => Deno.env.get(name);
const a = await Store.open(pathA);
const b = await Store.open(pathB);
const open = async (s: Store) =>
  openBackend(parseRemoteUrl((await remoteNamed(s, "origin")).url, "/"), env);

let bResult: unknown = null;
const inner = await open(a);
/** A's remote: B pushes, whole, just before A's first exclusive create. */
const racing = wrapBackend(inner, {
  async create(key, bytes) {
    if (bResult === null) bResult = await push(b, { remote: "origin", backend: await open(b) });
    return await inner.create(key, bytes);
  },
});
let aError: unknown = null;
try {
  await push(a, { remote: "origin", backend: racing });
} catch (err) {
  if (!(err instanceof TuskError)) throw err;
  aError = err.toJSON();
}
console.log(JSON.stringify({ b: bResult, a: aError }));
a.objects.close();
b.objects.close();
