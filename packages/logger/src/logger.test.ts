import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRootLogger } from './index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { lines, destination };
}

describe('createRootLogger', () => {
  it('redacts card numbers, security codes and secrets by default', () => {
    const { lines, destination } = capture();
    const logger = createRootLogger({ name: 'test', destination, level: 'debug' });
    logger.info({ pan: '4111111111111111', card: { pan: '5555555555554444', cvv: '123' } }, 'card seen');
    logger.debug({ partner: { secret: 'whsec_abc' }, headers: { authorization: 'Bearer t' } }, 'webhook');
    const out = lines.join('\n');
    expect(out).not.toContain('4111111111111111');
    expect(out).not.toContain('5555555555554444');
    expect(out).not.toContain('"123"');
    expect(out).not.toContain('whsec_abc');
    expect(out).not.toContain('Bearer t');
    expect(out).toContain('[REDACTED]');
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'info', service: 'test', msg: 'card seen' });
  });
});
