/** The repo verbs: `create`, `list`, `inspect`, `delete repo` (see `store.ts`). */
export { createRepo, deleteRepo, inspectRepo, listRepos } from "../commands/repo.ts";
