/**
 * A remote backend that passes every call to `inner` but those `over` replaces: how the race
 * tests hold one push at a chosen request while another runs.
 */
import type { RemoteBackend } from "../../lib/remote/backend.ts";

export function wrapBackend(
  inner: RemoteBackend,
  over: Partial<Pick<RemoteBackend, "get" | "list" | "create" | "put">>,
): RemoteBackend {
  return {
    url: inner.url,
    get requests() {
      return inner.requests;
    },
    get: over.get ?? ((k) => inner.get(k)),
    getRange: (k, o, l) => inner.getRange(k, o, l),
    stream: (k) => inner.stream(k),
    put: over.put ?? ((k, bytes) => inner.put(k, bytes)),
    putFile: (k, p, size) => inner.putFile(k, p, size),
    create: over.create ?? ((k, bytes) => inner.create(k, bytes)),
    list: over.list ?? ((p) => inner.list(p)),
    close: () => inner.close(),
  };
}
