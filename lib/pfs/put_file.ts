/** `put file` alone, for its handler: loads no other file verb (see `file.ts`). */
export { putFile } from "../commands/put_file.ts";
export type { PutFileOptions, PutFileResult } from "../commands/put_file.ts";
