/**
 * The PFS half of Pachyderm's iris tutorial, run command for command through the real CLI:
 * in the ≤1.8 grammar exactly as the tutorial prints it, in the 2.x grammar, and from a
 * `deno task` caller's folder (INIT_CWD) while the process runs elsewhere.
 */
import assert from "node:assert/strict";
import { tempDir, tempStore } from "../_helpers.ts";
import { DATA, ok, rows } from "./_cli.ts";

const IRIS = await Deno.readFile(`${DATA}/iris.csv`);
const TEST_1 = await Deno.readFile(`${DATA}/test/1.csv`);
const TEST_2 = await Deno.readFile(`${DATA}/test/2.csv`);

Deno.test("the iris tutorial's PFS steps run unchanged in the 1.8 grammar", async () => {
  assert.equal(IRIS.length, 4551);
  await using s = await tempStore();
  const at = (cwd: string) => ({ store: s.store, cwd, initCwd: cwd });

  await ok(["create-repo", "training"], at(DATA));
  await ok(["create-repo", "attributes"], at(DATA));
  const empty = await ok(["list-repo"], at(DATA));
  assert.deepEqual(rows(empty.stdout)[0], ["NAME", "CREATED", "SIZE"]);
  assert.deepEqual(
    rows(empty.stdout).slice(1).map((r) => [r[0], r[2]]).sort(),
    [["attributes", "0 B"], ["training", "0 B"]],
  );

  await ok(["put-file", "training", "master", "-c", "-f", "iris.csv"], at(DATA));
  const repos = await ok(["list-repo"], at(DATA));
  const training = rows(repos.stdout).find((r) => r[0] === "training");
  assert.ok(training, repos.stdout);
  assert.match(training[1]!, / ago$/);
  assert.equal(training[2], "4.444 KiB");

  const trainingFiles = await ok(["list-file", "training", "master"], at(DATA));
  assert.deepEqual(rows(trainingFiles.stdout), [
    ["NAME", "TYPE", "SIZE"],
    ["/iris.csv", "file", "4.444 KiB"],
  ]);

  await ok(["put-file", "attributes", "master", "-c", "-r", "-f", "."], at(`${DATA}/test`));
  const attributeFiles = await ok(["list-file", "attributes", "master"], at(DATA));
  assert.deepEqual(rows(attributeFiles.stdout), [
    ["NAME", "TYPE", "SIZE"],
    ["/1.csv", "file", `${TEST_1.length} B`],
    ["/2.csv", "file", `${TEST_2.length} B`],
  ]);

  const two = await ok(["get-file", "attributes", "master", "2.csv"], at(DATA));
  assert.deepEqual(two.stdoutBytes, TEST_2);
  const iris = await ok(["get-file", "training", "master", "iris.csv"], at(DATA));
  assert.deepEqual(iris.stdoutBytes, IRIS);
});

Deno.test("the iris tutorial's PFS steps run in the 2.x grammar", async () => {
  await using s = await tempStore();
  const at = (cwd: string) => ({ store: s.store, cwd, initCwd: cwd });

  await ok(["create", "repo", "training"], at(DATA));
  await ok(["create", "repo", "attributes"], at(DATA));
  await ok(["put", "file", "training@master", "-f", "iris.csv"], at(DATA));
  await ok(["put", "file", "attributes@master", "-r", "-f", "."], at(`${DATA}/test`));

  const repos = await ok(["list", "repo"], at(DATA));
  assert.equal(rows(repos.stdout).find((r) => r[0] === "training")?.[2], "4.444 KiB");
  assert.deepEqual(rows((await ok(["list", "file", "training@master"], at(DATA))).stdout), [
    ["NAME", "TYPE", "SIZE"],
    ["/iris.csv", "file", "4.444 KiB"],
  ]);
  assert.deepEqual(rows((await ok(["list", "file", "attributes@master"], at(DATA))).stdout), [
    ["NAME", "TYPE", "SIZE"],
    ["/1.csv", "file", `${TEST_1.length} B`],
    ["/2.csv", "file", `${TEST_2.length} B`],
  ]);
  const two = await ok(["get", "file", "attributes@master:/2.csv"], at(DATA));
  assert.deepEqual(two.stdoutBytes, TEST_2);
  const one = await ok(["get", "file", "attributes@master:/1.csv"], at(DATA));
  assert.deepEqual(one.stdoutBytes, TEST_1);
  const iris = await ok(["get", "file", "training@master:/iris.csv"], at(DATA));
  assert.deepEqual(iris.stdoutBytes, IRIS);
});

Deno.test("relative paths resolve against INIT_CWD, not the process's folder", async () => {
  await using s = await tempStore();
  await using elsewhere = await tempDir();
  const fromData = { store: s.store, cwd: elsewhere.path, initCwd: DATA };
  await ok(["create-repo", "training"], fromData);
  await ok(["create-repo", "attributes"], fromData);
  await ok(["put-file", "training", "master", "-c", "-f", "iris.csv"], fromData);
  await ok(["put-file", "attributes", "master", "-c", "-r", "-f", "."], {
    ...fromData,
    initCwd: `${DATA}/test`,
  });
  await ok(["get", "file", "training@master:/iris.csv", "-o", "copy.csv"], {
    ...fromData,
    initCwd: elsewhere.path,
    cwd: DATA,
  });
  assert.deepEqual(await Deno.readFile(`${elsewhere.path}/copy.csv`), IRIS);
  const files = await ok(["list-file", "attributes", "master"], fromData);
  assert.deepEqual(rows(files.stdout).slice(1).map((r) => r[0]), ["/1.csv", "/2.csv"]);
});

Deno.test("tusk init and the upward store search start from INIT_CWD", async () => {
  await using dir = await tempDir();
  await using elsewhere = await tempDir();
  await Deno.mkdir(`${dir.path}/work/deep`, { recursive: true });
  await ok(["init"], { cwd: elsewhere.path, initCwd: dir.path });
  await Deno.stat(`${dir.path}/.tusk/STORE`);
  await ok(["create", "repo", "found"], { cwd: elsewhere.path, initCwd: `${dir.path}/work/deep` });
  const repos = await ok(["list", "repo"], { cwd: `${dir.path}/work` });
  assert.equal(rows(repos.stdout)[1]?.[0], "found");
});
