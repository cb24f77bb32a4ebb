/**
 * The pachctl 1.x commands tusk does not have, by name, and what to do instead: main.ts makes
 * each a hidden command whose use is a usage error saying so. Loaded only when a command line
 * names no command of the table.
 */

/** pachctl 1.x commands tusk does not have, and what to do instead. */
export const PACHCTL_1X_LACKING: Readonly<Record<string, string>> = {
  "start-commit": "every put file, delete file and revert is a commit of its own",
  "finish-commit": "every put file, delete file and revert is a commit of its own",
  "delete-commit":
    'commits are never deleted; "tusk revert" makes a commit with an older one\'s files',
  "subscribe-commit": '"tusk up --headless" prints every commit as it is made',
  "copy-file": 'copy with "tusk get file … -o" and "tusk put file"',
  "inspect-file": '"tusk list file --json" gives a file\'s type, size and hash',
  "set-branch": '"tusk create branch <repo>@<branch> --head <commit>" points a branch at a commit',
  "create-job": "jobs start by themselves when a pipeline's inputs change",
  "run-pipeline":
    'jobs start by themselves when inputs change; "tusk update pipeline -f <spec> --reprocess" re-runs every datum',
  "delete-job": "jobs are kept with the store's history",
  "edit-pipeline": 'edit the spec file, then run "tusk update-pipeline -f <spec>"',
  "extract": 'a store is a folder: copy it (or "tusk export pachyderm" for a cluster)',
  "extract-pipeline": '"tusk inspect pipeline <name> --json" prints the spec',
  "restore": "a store is a folder: copy it back",
  "delete-all": 'a store is a folder: remove it, then "tusk init"',
  "update-repo": "a repo's description is set when it is created",
  "get-object": '"tusk get file" reads files; objects are internal',
  "get-tag": '"tusk get file" reads files; objects are internal',
  "deploy": 'tusk needs no cluster: "tusk init" makes a store',
  "undeploy": "tusk needs no cluster",
  "port-forward": "tusk needs no cluster or network",
  "inspect-cluster": 'tusk needs no cluster: "tusk doctor" reports on this machine and store',
  "update-dash": 'the dashboard is "tusk up"',
  "mount": '"tusk get file <repo>@<ref>:/ -r -o <dir>" writes a commit\'s files to a folder',
  "unmount": "tusk mounts nothing",
  "migrate": "tusk has one store format",
  "version": '"tusk --version" prints the version',
  "completion": '"tusk completions bash|zsh|fish" prints a completion script',
};
