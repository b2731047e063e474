// Posts your verdict on an alert back to Leakwatch, signed with your inbound secret:
//   LEAKWATCH_INTAKE_URL=https://leakwatch.example/v1/partners/<partnerId>/dispositions \
//   INBOUND_SECRET=whsec_… node post-disposition.js <alertId> <CONFIRMED_FRAUD|FALSE_POSITIVE|CARD_REISSUED|UNDER_REVIEW> <by> [note]
import process from 'node:process';
import { postDisposition } from './receiver.js';

const [alertId, disposition, by, note] = process.argv.slice(2);
const intakeUrl = process.env.LEAKWATCH_INTAKE_URL;
const secret = process.env.INBOUND_SECRET;
if (!alertId || !disposition || !by || !intakeUrl || !secret) {
  process.stderr.write(
    'usage: LEAKWATCH_INTAKE_URL=… INBOUND_SECRET=whsec_… node post-disposition.js <alertId> <disposition> <by> [note]\n',
  );
  process.exit(2);
}
const result = await postDisposition({
  intakeUrl,
  secret,
  disposition: { alertId, disposition, by, note: note ?? null },
});
process.stdout.write(`${result.status} ${JSON.stringify(result.body)}\n`);
// 202 written, 200 a repeat (nothing changed); anything else says why in body.error
process.exit(result.status === 200 || result.status === 202 ? 0 : 1);
