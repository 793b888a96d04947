// Runs templates/assets/bake.js under node for tests/test_bake_js.py: one JSON request per input
// line, one JSON answer per output line ({"ok": ...} or {"error": code}). Bytes travel as base64.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const source = readFileSync(new URL('../../templates/assets/bake.js', import.meta.url));
const bake = await import(`data:text/javascript;base64,${source.toString('base64')}`);

const bytes = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));
const b64 = (data) => Buffer.from(data).toString('base64');

async function answer(request) {
  switch (request.op) {
    case 'canonical': return bake.canonicalJson(request.text);
    case 'png': return b64(bake.bakePng(bytes(request.image), request.payload, request.version));
    case 'svg': return b64(bake.bakeSvg(bytes(request.image), request.payload, request.version, request.verify));
    case 'download': { // the page's flow, with a fetch that serves request.files (url -> base64) or 404
      const fetch = async (url) => (url in request.files
        ? new Response(bytes(request.files[url])) : new Response('', { status: 404 }));
      const file = await bake.bakeDownload(request.kind, request.baking, fetch);
      return { name: file.name, type: file.type, bytes: b64(file.bytes) };
    }
    default: throw new Error(`unknown op ${request.op}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  let reply;
  try {
    reply = { ok: await answer(JSON.parse(line)) };
  } catch (error) {
    reply = { error: error instanceof bake.BakeError ? error.code : `${error.name}: ${error.message}` };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
