/**
 * The rows of the command table for `tusk completions` and the hidden `__complete` its scripts
 * call: their arguments, options and handlers.
 */
import { type Command, command } from "../lib/cli/command_line.ts";
import { handlers } from "./_declare.ts";

const on = handlers<typeof import("./completions.ts")>("./completions.ts");

/** The commands of `cli/completions.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "completions": command({
    description: "print a shell completion script",
    args: [{
      usage: "<shell>",
      help: "the shell to complete in",
      choices: ["bash", "zsh", "fish"],
    }],
    epilogue: "bash: source <(tusk completions bash)   zsh: source <(tusk completions zsh)\n" +
      "fish: tusk completions fish > ~/.config/fish/completions/tusk.fish\n",
    run: on("completions"),
  }),
  "__complete": command({
    description: "names for completion scripts: repos, branches <repo> or pipelines",
    args: ["<what>", "[arg]"],
    hidden: true,
    run: on("complete"),
  }),
};
