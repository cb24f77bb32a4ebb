/** The value of `-n <n>`, which `list commit` and `list job` share. */
import { InvalidArgumentError } from "../lib/pfs/store.ts";

/** The value of `-n <n>`: a whole number of at least 1, or undefined when not given. */
export function count(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) {
    throw new InvalidArgumentError(`Invalid -n "${text}": give a whole number of at least 1`, {
      option: "-n",
      value: text,
    });
  }
  return Number(text);
}
