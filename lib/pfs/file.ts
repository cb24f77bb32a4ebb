/** The file verbs: `put`, `get`, `list`, `glob`, `diff`, `delete file` (see `store.ts`). */
export {
  deleteFile,
  diffFile,
  getFile,
  globFile,
  listFile,
  listFilePage,
} from "../commands/file.ts";
export { putFile } from "./put_file.ts";
export type { FileInfo, FilePage, ListFileOptions } from "../commands/file.ts";
