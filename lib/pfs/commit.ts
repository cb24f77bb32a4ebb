/** The commit and branch verbs (see `store.ts`). */
export {
  createBranch,
  deleteBranch,
  inspectCommit,
  listBranch,
  listCommit,
  revert,
} from "../commands/commit.ts";
