/**
 * A TCP server on 127.0.0.1 for the network tests, run as its own process (so the tests
 * need no --allow-net): answers every connection with an HTTP response carrying the secret
 * given as its argument (as a JS module for `/secret.js`), prints `port <n>` once
 * listening and `hit` for each connection it accepted.
 */
const secret = Deno.args[0] ?? "";
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`port ${(listener.addr as Deno.NetAddr).port}`);
const encoder = new TextEncoder();
for await (const conn of listener) {
  console.log("hit");
  (async () => {
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf).catch(() => null);
    const request = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    const js = request.startsWith("GET /secret.js");
    const body = js ? `export default ${JSON.stringify(secret)};\n` : secret;
    const type = js ? "application/javascript" : "text/plain";
    await conn.write(encoder.encode(
      `HTTP/1.0 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    )).catch(() => {});
    conn.close();
  })();
}
