/** The file verbs: `put`, `get`, `list`, `glob`, `diff`, `delete file` (see `store.ts`). */
export {
  deleteFile,
  diffFile,
  getFile,
  globFile,
  listFile,
  listFilePage,
  putFile,
} from "../commands/file.ts";
export type { FileInfo, FilePage, ListFileOptions } from "../commands/file.ts";
