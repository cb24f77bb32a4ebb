/**
 * `tusk up` in a real terminal (a tmux pane) shows the training pipeline's cross-validated
 * accuracy as a sparkline under the DAG, and a new model trained while it runs adds a bar.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";
import { Pane, tuskUpLine } from "./_tmux.ts";

Deno.test({
  name: "tusk up draws the model's cv.accuracy as a sparkline, and a new model adds a bar",
  sanitizeResources: false,
  async fn() {
    await using s = await tempStore();
    const o = { store: s.store };
    await tuskOk(["create", "repo", "training"], o);
    await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${ROOT}/data/iris.csv`], o);
    await tuskOk(["create", "pipeline", "-f", `${ROOT}/pipelines/iris/train.json`], o);

    await using pane = await Pane.open(120, 36);
    await pane.run(tuskUpLine(s.store));
    const first = await pane.waitFor(
      (x) => x.includes("q quit") && /model {2}cv\.accuracy /.test(x),
      "the metric's row",
      20_000,
    );
    // train.json's optional parameters input is part of the DAG, though it has no repo yet.
    assert.match(first, /training \+ parameters → model/);
    assert.match(first, /model {2}cv\.accuracy ▄ 0\.98$/m);

    // Another process trains a second model on fewer rows; the dashboard's scheduler runs it.
    const lines = (await Deno.readTextFile(`${ROOT}/data/iris.csv`)).trimEnd().split("\n");
    await tuskOk(["put", "file", "training@master:/iris.csv", "-f", "-", "--no-wait"], {
      ...o,
      stdin: lines.filter((_, i) => i % 10 !== 9).join("\n") + "\n",
    });
    const second = await pane.waitFor(
      (x) => /model {2}cv\.accuracy [▁-█]{2} 0\.\d+$/m.test(x),
      "a second bar",
      20_000,
    );
    const shown = JSON.parse(
      (await tuskOk(["metrics", "show", "model@master", "-n", "1", "--json"], o)).stdout,
    ) as { metrics: Record<string, number> }[];
    const newest = shown[0]!.metrics["cv.accuracy"]!;
    const bars = newest > 0.98 ? "▁█" : newest < 0.98 ? "█▁" : "▄▄";
    assert.ok(
      second.includes(`model  cv.accuracy ${bars} ${Number(newest.toFixed(4))}`),
      `the newest value ${newest} and its bar: ${second}`,
    );

    await pane.keys("q");
    assert.equal(await pane.exitStatus(), 0);
  },
});
