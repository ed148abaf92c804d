// The load generator of the listener benchmark, run as its own process so that sending does not share the
// listener's event loop. Usage: node sender.mjs <udp|tcp> <port> <count> <connections> <kind> [ratePerSecond]
// Prints one JSON line when done: {sent, seconds}.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { KINDS } from './messages.mjs';

const [proto, portText, countText, connText, kind, rateText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const connections = Number(connText ?? 1);
const gen = KINDS[kind ?? 'rfc3164'];
const rate = rateText ? Number(rateText) : 0;
const started = performance.now();

if (proto === 'tcp') {
  const per = Math.ceil(count / connections);
  await Promise.all(
    Array.from(
      { length: connections },
      (_, k) =>
        new Promise((resolve, reject) => {
          const s = connect({ port, host: '127.0.0.1' }, async () => {
            let i = k * per;
            const end = Math.min(count, (k + 1) * per);
            // 1,000 LF-framed messages per write; wait for 'drain' when the kernel pushes back.
            while (i < end) {
              let chunk = '';
              for (let j = 0; j < 1000 && i < end; j++, i++) chunk += `${gen(i)}\n`;
              if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
            }
            s.end(resolve);
          });
          s.on('error', reject);
        }),
    ),
  );
} else {
  const s = createSocket('udp4');
  const burst = 200;
  for (let i = 0; i < count; ) {
    const pending = [];
    for (let j = 0; j < burst && i < count; j++, i++) {
      pending.push(new Promise((r) => s.send(gen(i), port, '127.0.0.1', r)));
    }
    await Promise.all(pending);
    if (rate > 0) {
      const due = started + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  s.close();
}
process.stdout.write(`${JSON.stringify({ sent: count, seconds: (performance.now() - started) / 1000 })}\n`);
