// Runs templates/assets/qr.js for tests/test_qr.py: one JSON string per input line in, one JSON
// object per output line out ({rows: ["0110...", ...], svg} or {error: {name, message}}).
import { createInterface } from 'node:readline';
import { qrMatrix, qrSvg } from '../../templates/assets/qr.js';

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  let reply;
  try {
    const text = JSON.parse(line);
    const rows = qrMatrix(text).map((row) => row.map((dark) => (dark ? '1' : '0')).join(''));
    reply = { rows, svg: qrSvg(text) };
  } catch (err) {
    reply = { error: { name: err.name, message: err.message } };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
