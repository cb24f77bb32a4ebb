/**
 * Fixtures private to the store tests: a fresh library-level store in a temp folder with a
 * fake clock, and helpers to put and read text through the real verbs.
 */
import { Store } from "../../lib/store/store.ts";
import { getFile } from "../../lib/commands/file.ts";
import { putFile, type PutFileResult } from "../../lib/commands/put_file.ts";

/** A clock that starts at a fixed instant and advances one second per reading. */
export function fakeClock(start = Date.parse("2024-01-01T00:00:00.000Z")): () => Date {
  let t = start;
  return () => new Date(t += 1000);
}

/** A store at `<tmp>/.tusk` plus a scratch folder for host files; removed when disposed. */
export interface TestStore extends AsyncDisposable {
  readonly store: Store;
  readonly dir: string;
  /** Write `content` to a fresh host file and return its path. */
  hostFile(content: Uint8Array | string): Promise<string>;
}

/** Create a store with a fake clock in a new temp folder. */
export async function testStore(): Promise<TestStore> {
  const dir = await Deno.makeTempDir({ prefix: "tusk-store-test-" });
  const store = await Store.init(`${dir}/.tusk`, { clock: fakeClock() });
  await Deno.mkdir(`${dir}/host`);
  let n = 0;
  return {
    store,
    dir,
    async hostFile(content) {
      const path = `${dir}/host/f${n++}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      return path;
    },
    async [Symbol.asyncDispose]() {
      store.objects.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** `put file <target> -f <content>` with the content written to a host file first. */
export async function putText(
  t: TestStore,
  target: string,
  content: Uint8Array | string,
  options: { append?: boolean; message?: string } = {},
): Promise<PutFileResult> {
  return await putFile(t.store, target, { sources: [await t.hostFile(content)], ...options });
}

/** The bytes of a file in the store. */
export async function readBytes(store: Store, ref: string): Promise<Uint8Array> {
  const { stream } = await getFile(store, ref);
  if (!stream) throw new Error(`getFile(${ref}) returned no stream`);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The text of a file in the store. */
export async function readText(store: Store, ref: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(store, ref));
}

/** How many objects the store holds, loose and packed. */
export async function countObjects(store: Store): Promise<number> {
  const all = await store.objects.listAll();
  let n = all.loose.length;
  for (const hashes of all.packs.values()) n += hashes.length;
  return n;
}
