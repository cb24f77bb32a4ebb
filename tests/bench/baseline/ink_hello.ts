/**
 * The runtime floor of the dashboard benchmark: a bare Ink + React app that draws one line
 * and the dashboard's footer on the alternate screen and quits on `q`. The benchmark starts
 * it with the same Deno flags as `tusk up`, and it selects React's production build before
 * React loads, as `tusk up` does (so no JSX here: that would load React first).
 */
if (!Deno.env.get("NODE_ENV")) Deno.env.set("NODE_ENV", "production");
const { createElement: h } = await import("react");
const { Box, render, Text, useApp, useInput } = await import("ink");

function Hello() {
  const { exit } = useApp();
  useInput((input) => {
    if (input === "q") exit();
  });
  return h(Box, { flexDirection: "column" }, h(Text, null, "hello"), h(Text, null, "q quit"));
}

const app = render(h(Hello), {
  alternateScreen: true,
  incrementalRendering: true,
  interactive: true,
  exitOnCtrlC: true,
  patchConsole: true,
});
await app.waitUntilExit();
