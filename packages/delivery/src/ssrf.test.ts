import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, forbiddenAddressReason, guardedLookup, webhookUrlProblem } from './ssrf.js';

/** A fake resolver: hostname -> addresses. */
function resolver(table: Record<string, string[]>): LookupFunction {
  return (hostname: string, _options: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) => {
    const addresses = table[hostname];
    if (!addresses) callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
    else
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  };
}

describe('forbiddenAddressReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:101::1', 'private'],
  ])('refuses %s (%s)', (address, why) => {
    expect(forbiddenAddressReason(address)).toContain(why);
  });

  it.each([
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '2002:808:808::1',
  ])('allows the public address %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });
});

describe('webhookUrlProblem (before DNS)', () => {
  it('needs https without the allowance, and refuses literal private addresses and localhost', () => {
    expect(webhookUrlProblem('http://alerts.example/hook', false)).toContain('must be https');
    expect(webhookUrlProblem('https://127.0.0.1/hook', false)).toContain('loopback');
    expect(webhookUrlProblem('https://[::1]:8443/hook', false)).toContain('loopback');
    expect(webhookUrlProblem('https://localhost/hook', false)).toContain('loopback');
    expect(webhookUrlProblem('https://alerts.example/hook', false)).toBeNull();
    expect(webhookUrlProblem('ftp://alerts.example/hook', false)).toContain('must be https');
  });

  it('allows http and private addresses with allowPrivateNetwork', () => {
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook', true)).toBeNull();
    expect(webhookUrlProblem('ftp://127.0.0.1/hook', true)).toBe('must be http(s)');
  });
});

describe('checkWebhookUrl (start-up)', () => {
  const dns = resolver({
    'public.example': ['93.184.215.14'],
    'internal.example': ['10.0.0.7'],
    'mixed.example': ['93.184.215.14', '169.254.169.254'],
    'v6.example': ['fd00::5'],
  });

  it('refuses a name that resolves to any forbidden address', async () => {
    expect(await checkWebhookUrl('https://public.example/hook', false, dns)).toBeNull();
    expect(await checkWebhookUrl('https://internal.example/hook', false, dns)).toBe(
      'internal.example resolves to a private address',
    );
    expect(await checkWebhookUrl('https://mixed.example/hook', false, dns)).toContain('metadata');
    expect(await checkWebhookUrl('https://v6.example/hook', false, dns)).toContain('unique local');
  });

  it('leaves an unresolvable name to the connection-time check, and skips DNS with the allowance', async () => {
    expect(await checkWebhookUrl('https://nowhere.example/hook', false, dns)).toBeNull();
    expect(await checkWebhookUrl('https://internal.example/hook', true, dns)).toBeNull();
  });
});

describe('guardedLookup (connection time)', () => {
  function lookupOnce(fn: LookupFunction, host: string, all: boolean) {
    return new Promise<{ error: Error | null; result: unknown }>((done) => {
      fn(host, { all }, (error, address, family) =>
        done({ error, result: all ? address : { address, family } }),
      );
    });
  }

  it('answers like dns.lookup for public names, one address or all', async () => {
    const fn = guardedLookup(resolver({ 'public.example': ['93.184.215.14', '2606:4700::1'] }));
    expect(await lookupOnce(fn, 'public.example', false)).toEqual({
      error: null,
      result: { address: '93.184.215.14', family: 4 },
    });
    expect((await lookupOnce(fn, 'public.example', true)).result).toHaveLength(2);
  });

  it('fails the connection when the name now resolves to a private address (DNS rebinding)', async () => {
    const table: Record<string, string[]> = { 'rebind.example': ['93.184.215.14'] };
    const fn = guardedLookup(resolver(table));
    expect((await lookupOnce(fn, 'rebind.example', false)).error).toBeNull();
    table['rebind.example'] = ['127.0.0.1'];
    const second = await lookupOnce(fn, 'rebind.example', false);
    expect(second.error?.message).toBe('rebind.example resolves to a loopback address');
    expect(second.error?.name).toBe('RefusedDestinationError');
  });

  it('passes DNS errors through', async () => {
    const fn = guardedLookup(resolver({}));
    expect(((await lookupOnce(fn, 'nowhere.example', true)).error as NodeJS.ErrnoException).code).toBe(
      'ENOTFOUND',
    );
  });
});
