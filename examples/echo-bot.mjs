#!/usr/bin/env node
// A tiny external chatbot for Openlines (docs/bots.md walks through it). No dependencies:
// Node's http server receives the bot's events, checks their signature, and the bot acts over the
// bot API with fetch.
//
//   OPENLINES_URL=http://localhost:3000 BOT_TOKEN=olb_… BOT_SECRET=obs_… PORT=4000 node examples/echo-bot.mjs
//
// It greets with two buttons, echoes what the client writes, hands the dialog to the operators
// when asked, and closes it on "bye".
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const { OPENLINES_URL = 'http://localhost:3000', BOT_TOKEN, BOT_SECRET, PORT = '4000' } = process.env;
if (!BOT_TOKEN || !BOT_SECRET) {
  console.error('Set BOT_TOKEN and BOT_SECRET (shown once when the bot is registered).');
  process.exit(1);
}

/** X-Openlines-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">, timestamp within 5 minutes. */
function verified(headers, rawBody) {
  const timestamp = String(headers['x-openlines-timestamp'] ?? '');
  const signature = String(headers['x-openlines-signature'] ?? '');
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', BOT_SECRET).update(`${timestamp}.`).update(rawBody).digest();
  return signature.split(',').some((entry) => {
    const [scheme, value] = entry.trim().split('=', 2);
    if (scheme !== 'v1' || !/^[0-9a-f]{64}$/i.test(value ?? '')) return false;
    return timingSafeEqual(expected, Buffer.from(value, 'hex'));
  });
}

async function api(method, path, body) {
  const response = await fetch(`${OPENLINES_URL}/api/v1/bot-api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${BOT_TOKEN}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) console.error(`${method} ${path}: ${response.status} ${await response.text()}`);
}

const MENU = [
  { title: 'Order status', reply: 'status' },
  { title: 'Talk to a person', reply: 'person' },
];
const seen = new Set();

async function handle(event) {
  const session = event.session.id;
  if (event.type === 'session.started') {
    await api('POST', `/sessions/${session}/messages`, {
      text: `Hello, ${event.client?.name ?? 'there'}! I am the shop's bot.`,
      buttons: MENU,
    });
  } else if (event.type === 'message.created') {
    const text = (event.message?.text ?? '').trim().toLowerCase();
    if (text === 'person') await api('POST', `/sessions/${session}/transfer`, { to: 'queue' });
    else if (text === 'bye') await api('POST', `/sessions/${session}/close`);
    else if (text === 'status')
      await api('POST', `/sessions/${session}/messages`, {
        text: 'Your order is on its way.',
        buttons: MENU,
      });
    else
      await api('POST', `/sessions/${session}/messages`, {
        text: `You said: ${event.message?.text ?? ''}`,
        buttons: MENU,
      });
  }
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (!verified(request.headers, raw)) {
      response.writeHead(401).end();
      return;
    }
    // Answer at once; act afterwards. A retried event (same X-Openlines-Delivery) is acted on once.
    response.writeHead(200).end();
    const event = JSON.parse(raw.toString('utf8'));
    if (seen.has(event.id)) return;
    seen.add(event.id);
    handle(event).catch((error) => console.error(error));
  });
});
server.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`echo bot listening on http://127.0.0.1:${server.address().port}/`);
});
