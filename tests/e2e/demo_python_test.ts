/**
 * `deno task demo --python`: the tutorial with Pachyderm's own Python pipeline, run as users
 * run it, prints the six predictions of /2 (as scikit-learn's reference), the program that
 * ran, and ends with a store that verifies.
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";
import { HOST_SANDBOX } from "../runner/_host.ts";

const REFERENCE = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris.json`),
) as { models: { svm: { test_predictions: Record<string, string[]> } } };

if (HOST_SANDBOX) {
  Deno.test("deno task demo --python runs the tutorial with its Python pipeline", async () => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["task", "demo", "--python"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    assert.equal(r.code, 0, `${out}\n${new TextDecoder().decode(r.stderr)}`);
    assert.match(out, /\$ tusk create-pipeline -f python_train\.pipeline\.json/);
    assert.match(out, /^Program: python3 → \S+python3\S* .*Python 3\./m);
    assert.match(out, /^Image: pachyderm\/iris-train:python-svm/m);
    const two = REFERENCE.models.svm.test_predictions["2"]!.join("\n");
    const shown = out.split("$ tusk get-file inference master 2\n")[1] ?? "";
    assert.ok(shown.startsWith(two + "\n"), shown.slice(0, 200));
    assert.match(out, /\$ tusk verify\nok: /);
  });
}
