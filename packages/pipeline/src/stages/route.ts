import { UNROUTED_PARTNER_ID, type Partner } from '@leakwatch/partners';

/** Where an alert on this BIN belongs. */
export interface Route {
  /** The partner owning the BIN (longest prefix), or "unrouted". */
  partnerId: string;
  /** The owning partner's country, for CROSS_BORDER; null leaves the rules' default in force. */
  issuerCountry: string | null;
}

/** What routing needs of the partners file: the owner of a BIN (longest prefix). */
export interface BinRouter {
  route(bin: string): Pick<Partner, 'partnerId' | 'country'> | null;
}

/**
 * Stage 4: the partner owning the BIN. Delivery (partner topics, webhooks, minSeverity) is the
 * dispatcher's; the pipeline only stamps partnerId on the alert.
 */
export function routeCard(bin: string, router: BinRouter): Route {
  const partner = router.route(bin);
  return {
    partnerId: partner?.partnerId ?? UNROUTED_PARTNER_ID,
    issuerCountry: partner?.country ?? null,
  };
}
