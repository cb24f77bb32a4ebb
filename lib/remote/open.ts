/** Opening the place a remote URL names: a folder, or an S3 bucket through the AWS SDK. */
import { RemoteError } from "../errors.ts";
import type { RemoteBackend } from "./backend.ts";
import { FolderBackend } from "./folder_backend.ts";
import type { RemoteUrl } from "./url.ts";

/** The backend of `url`; `env` reads the AWS settings of an S3 remote. */
export async function openBackend(
  url: RemoteUrl,
  env: (name: string) => string | undefined,
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
  }
  return new FolderBackend(url.path);
}
