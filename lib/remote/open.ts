/** Opening the place a remote URL names: a folder, or an S3 bucket through the AWS SDK. */
import { RemoteError } from "../errors.ts";
import type { RemoteBackend } from "./backend.ts";
import { FolderBackend } from "./folder_backend.ts";
import type { RemoteUrl } from "./url.ts";

/**
 * The backend of `url`; `env` reads the AWS settings of an S3 remote. A folder that does not
 * exist is an empty remote (a push makes it), unless `missing` is given: a command that only
 * reads (pull, clone, remote verify) throws what it returns, since nothing is there to read.
 */
export async function openBackend(
  url: RemoteUrl,
  env: (name: string) => string | undefined,
  options: { missing?: () => Error } = {},
): Promise<RemoteBackend> {
  if (url.kind === "s3") {
    // Loaded only for S3: a folder remote needs none of it.
    const specifier = new URL("./s3_backend.ts", import.meta.url).href;
    const { S3Backend } = await import(specifier) as typeof import("./s3_backend.ts");
    return new S3Backend({ bucket: url.bucket, prefix: url.prefix, url: url.url, env });
  }
  try {
    const info = await Deno.stat(url.path);
    if (!info.isDirectory) {
      throw new RemoteError(`Remote "${url.url}" is not a folder`, {
        remote: url.url,
        problem: "not-a-remote",
      });
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    if (options.missing) throw options.missing();
  }
  return new FolderBackend(url.path);
}

/** The error of a folder remote that a command reads from and that does not exist. */
export function missingRemote(said: string, url: string): RemoteError {
  return new RemoteError(`${said}: no such folder (check the path, or that its disk is mounted)`, {
    remote: url,
    problem: "missing",
  });
}
