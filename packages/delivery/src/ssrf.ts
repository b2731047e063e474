import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { LeakwatchError } from '@leakwatch/errors';

/**
 * Address ranges a webhook must never reach unless its partner allows private networks: a
 * partner's URL (or its DNS) must not turn the dispatcher into a way into our own network.
 */
const RANGES: readonly [name: string, network: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  ['this network', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['CGNAT (and cloud metadata 100.100.100.200)', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local (and cloud metadata 169.254.169.254)', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['IETF protocol assignments', '192.0.0.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['benchmarking', '198.18.0.0', 15, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unique local (and cloud metadata fd00:ec2::254)', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['site-local', 'fec0::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
];

const blocked = RANGES.map(([name, network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { name, list, family };
});

/** IPv6 forms that carry an IPv4 address: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1] as string;
  const groups = expandIpv6(lower);
  if (!groups) return null;
  const toV4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const isNat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (isMapped || isNat64) return toV4(groups[6] as number, groups[7] as number);
  if (groups[0] === 0x2002) return toV4(groups[1] as number, groups[2] as number);
  return null;
}

function expandIpv6(address: string): number[] | null {
  if (address.includes('.')) return null;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

/**
 * Why an IP address is off limits for a webhook (loopback, private, link-local, CGNAT, cloud
 * metadata, multicast, reserved, and the IPv6 equivalents and IPv4-in-IPv6 forms), or null when it
 * is a public address.
 */
export function forbiddenAddressReason(address: string): string | null {
  const version = isIP(address);
  if (version === 0) return 'not an IP address';
  const family = version === 4 ? 'ipv4' : 'ipv6';
  for (const range of blocked) {
    if (range.family === family && range.list.check(address, family)) return range.name;
  }
  if (family === 'ipv6') {
    const v4 = embeddedIpv4(address);
    if (v4 !== null) {
      const reason = forbiddenAddressReason(v4);
      if (reason !== null) return `${reason} (IPv4 inside IPv6)`;
    }
  }
  return null;
}

/** Raised when a webhook URL or the address it resolves to is refused; never retried on its own. */
export class RefusedDestinationError extends LeakwatchError {
  constructor(message: string) {
    super('CONFIG_INVALID', message, { retryable: false });
    this.name = 'RefusedDestinationError';
  }
}

/**
 * A `lookup` for an http(s) Agent that refuses forbidden addresses at connection time: the check
 * and the connect use the same answer, so a DNS name that turns private after the start-up check
 * (DNS rebinding) is refused too. Every resolved address must be public, not just one.
 */
export function guardedLookup(resolve: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const list = addresses as unknown as LookupAddress[];
      for (const entry of list) {
        const reason = forbiddenAddressReason(entry.address);
        if (reason !== null) {
          callback(new RefusedDestinationError(`${hostname} resolves to a ${reason} address`), '', 0);
          return;
        }
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      else {
        const first = list[0];
        if (!first)
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        else callback(null, first.address, first.family);
      }
    });
  };
}

/** The problem of a webhook URL before any DNS lookup (scheme, literal address), or null. */
export function webhookUrlProblem(url: string, allowPrivateNetwork: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (allowPrivateNetwork)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? null : 'must be http(s)';
  if (parsed.protocol !== 'https:') return 'must be https (plain http only with allowPrivateNetwork)';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    const reason = forbiddenAddressReason(host);
    if (reason !== null) return `is a ${reason} address (allowed only with allowPrivateNetwork)`;
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    return 'is loopback (allowed only with allowPrivateNetwork)';
  }
  return null;
}

/**
 * The start-up check of a webhook URL: its scheme, and every address its host resolves to now.
 * Resolves to a problem, or null when the URL may be used. A name that does not resolve (yet) is
 * not a problem here: the connection-time check decides when it does.
 */
export async function checkWebhookUrl(
  url: string,
  allowPrivateNetwork: boolean,
  resolve: LookupFunction = dnsLookup,
): Promise<string | null> {
  const problem = webhookUrlProblem(url, allowPrivateNetwork);
  if (problem !== null || allowPrivateNetwork) return problem;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return null;
  return new Promise((done) => {
    guardedLookup(resolve)(host, { all: true }, (error) => {
      done(error instanceof RefusedDestinationError ? error.message : null);
    });
  });
}
