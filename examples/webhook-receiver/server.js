// Runs the reference receiver:
//   WEBHOOK_SECRETS=whsec_… PORT=8443 node server.js
// WEBHOOK_SECRETS: the secret(s) Leakwatch signs with for you, comma-separated during a rotation.
// Every accepted alert is printed as one JSON line (what you would put on your own queue).
import process from 'node:process';
import { createReceiver } from './receiver.js';

const secrets = (process.env.WEBHOOK_SECRETS ?? '').split(',').filter((s) => s.length > 0);
if (secrets.length === 0) {
  process.stderr.write('set WEBHOOK_SECRETS=whsec_… (comma-separated during a rotation)\n');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 8443);
const host = process.env.HOST ?? '127.0.0.1';
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const server = createReceiver({
  secrets,
  onAlert: (event, webhookId) => {
    const alert = event.data;
    print({
      received: event.type,
      webhookId,
      alertId: alert.alertId,
      severity: alert.severity,
      card: alert.card,
    });
  },
  log: (line) => process.stderr.write(`${JSON.stringify(line)}\n`),
});
server.listen(port, host, () => print({ listening: `http://${host}:${port}/webhooks/leakwatch` }));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
process.once('SIGINT', () => server.close(() => process.exit(0)));
