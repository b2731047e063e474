import { LeakwatchError } from '@leakwatch/errors';
import type { Partner } from './partner.js';

/** Finds the partner that issued a card, from its BIN. */
export interface PartnerRouter {
  /** In file order. */
  readonly partners: readonly Partner[];
  /**
   * The partner whose longest BIN prefix matches, or null (the alert is "unrouted").
   * Takes the card's first 6-8 digits (more are ignored); fewer than 6 never match.
   */
  route(bin: string): Partner | null;
  /** The partner with this id, if configured. */
  partner(partnerId: string): Partner | undefined;
}

const PREFIX_LENGTHS = [8, 7, 6] as const;

/**
 * Builds a router: one Map per prefix length, probed longest first, so a lookup is at most three
 * Map gets whatever the number of partners and prefixes.
 * @throws LeakwatchError PARTNERS_INVALID when two partners share an id or a prefix.
 */
export function createPartnerRouter(partners: readonly Partner[]): PartnerRouter {
  const byLength = new Map<number, Map<string, Partner>>(PREFIX_LENGTHS.map((length) => [length, new Map()]));
  const byId = new Map<string, Partner>();
  for (const partner of partners) {
    if (byId.has(partner.partnerId)) {
      throw new LeakwatchError('PARTNERS_INVALID', `partnerId "${partner.partnerId}" is used twice`);
    }
    byId.set(partner.partnerId, partner);
    for (const prefix of partner.binPrefixes) {
      const table = byLength.get(prefix.length);
      if (table === undefined || !/^\d+$/.test(prefix)) {
        throw new LeakwatchError(
          'PARTNERS_INVALID',
          `BIN prefix of "${partner.partnerId}" must be 6-8 digits`,
        );
      }
      const owner = table.get(prefix);
      if (owner !== undefined) {
        throw new LeakwatchError(
          'PARTNERS_INVALID',
          `BIN prefix ${prefix} is claimed by both "${owner.partnerId}" and "${partner.partnerId}"`,
        );
      }
      table.set(prefix, partner);
    }
  }
  const tables = PREFIX_LENGTHS.map((length) => ({
    length,
    table: byLength.get(length) as Map<string, Partner>,
  }))
    // Skip lengths no partner uses: most deployments have 6- or 8-digit prefixes only.
    .filter(({ table }) => table.size > 0);
  const frozen = Object.freeze([...partners]);

  return {
    partners: frozen,
    route(bin: string): Partner | null {
      for (const { length, table } of tables) {
        if (bin.length < length) continue;
        const partner = table.get(bin.length === length ? bin : bin.slice(0, length));
        if (partner !== undefined) return partner;
      }
      return null;
    },
    partner: (partnerId: string) => byId.get(partnerId),
  };
}
