import { describe, expect, it } from 'vitest';
import { commands, isMissingDevPackage } from './index.js';

function notFound(specifier: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${specifier}' imported from /app/dist/commands/stack.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );
}

describe('development commands in a production install', () => {
  it('recognises a missing tools/ package, and nothing else', () => {
    expect(isMissingDevPackage(notFound('@leakwatch/local-stack'))).toBe(true);
    expect(isMissingDevPackage(notFound('@leakwatch/simulator'))).toBe(true);
    expect(isMissingDevPackage(notFound('@leakwatch/bench'))).toBe(true);
    expect(isMissingDevPackage(notFound('kafkajs'))).toBe(false);
    expect(isMissingDevPackage(new Error("'@leakwatch/bench' is broken"))).toBe(false);
  });

  it('keeps stack, demo, bench and simulate listed', () => {
    expect(Object.keys(commands)).toEqual(expect.arrayContaining(['stack', 'demo', 'bench', 'simulate']));
  });
});
