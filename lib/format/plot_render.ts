/**
 * A Vega-Lite spec rendered to SVG, with no browser: compiled by `vega-lite`, run by
 * `vega`'s headless view. It loads nothing (a spec's data is inline; its loader refuses
 * every URL and file, and a spec that asked for one is refused) and says nothing (both
 * loggers are silent). Only `tusk plots` loads
 * this module, by a specifier Deno cannot prepare ahead, so no other command pays for it.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** A loader that refuses every load and remembers what it refused. */
function offline(refused: string[]): vega.Loader {
  const refuse = (what: string): Promise<never> => {
    refused.push(what);
    return Promise.reject(new Error(`tusk plots loads nothing: refused ${JSON.stringify(what)}`));
  };
  return {
    load: (uri) => refuse(uri),
    sanitize: (uri) => refuse(uri),
    http: (uri) => refuse(uri),
    file: (name) => refuse(name),
  };
}

/**
 * `spec` as an SVG document. The same spec gives the same bytes: the SVG's clip and
 * gradient ids are numbered afresh for each rendering.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const silent = vega.logger(vega.None);
  const compiled = compile(spec, { logger: silent }).spec;
  const refused: string[] = [];
  const view = new vega.View(vega.parse(compiled), {
    renderer: "none",
    loader: offline(refused),
    logger: silent,
  });
  try {
    vega.resetSVGDefIds();
    const svg = await view.toSVG();
    if (refused.length > 0) {
      throw new TypeError(
        `A plot's spec must hold its data: tusk plots loads nothing (it was asked for ${
          refused.map((r) => JSON.stringify(r)).join(", ")
        })`,
      );
    }
    return svg;
  } finally {
    view.finalize();
  }
}
