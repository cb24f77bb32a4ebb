/** Join a folder and a name with exactly one "/" (a second module, so bundling matters). */
export function join(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}
