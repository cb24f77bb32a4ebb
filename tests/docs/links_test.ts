/**
 * README.md and docs/ link to each other and to files of the checkout: every relative link
 * names a file that exists, and every `#anchor` a heading of the page it points to (as
 * GitHub makes anchors from headings), so moving a section cannot leave a link dangling.
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors of a markdown page's headings (outside code blocks). */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(anchorOf(m[1]!));
  }
  return out;
}

/** Relative links of a markdown page (outside code blocks and code spans). */
function links(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) =>
    !/^[a-z]+:/.test(l)
  );
}

async function pages(): Promise<string[]> {
  const out = ["README.md"];
  for await (const e of Deno.readDir(`${ROOT}/docs`)) {
    if (e.isFile && e.name.endsWith(".md")) out.push(`docs/${e.name}`);
  }
  return out.sort();
}

Deno.test("anchorOf() makes GitHub's anchors of headings with code and punctuation", () => {
  assert.equal(anchorOf("The pachctl 1.x grammar"), "the-pachctl-1x-grammar");
  assert.equal(anchorOf("`events.jsonl`: the event journal"), "eventsjsonl-the-event-journal");
  assert.equal(anchorOf("Installing the `tusk` command"), "installing-the-tusk-command");
});

Deno.test("every relative link of README.md and docs/ names a file and heading that exist", async () => {
  const broken: string[] = [];
  for (const page of await pages()) {
    const dir = page.includes("/") ? page.slice(0, page.lastIndexOf("/") + 1) : "";
    for (const link of links(await Deno.readTextFile(`${ROOT}/${page}`))) {
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path === "" ? page : new URL(path, `file:///${dir}`).pathname.slice(1);
      let text: string;
      try {
        text = await Deno.readTextFile(`${ROOT}/${target}`);
      } catch {
        broken.push(`${page}: ${link} (no file ${target})`);
        continue;
      }
      if (anchor !== undefined && !anchors(text).has(anchor)) {
        broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
