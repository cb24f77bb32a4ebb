const t = performance.now();
await import(Deno.args[0]!);
console.log((performance.now() - t).toFixed(1));
