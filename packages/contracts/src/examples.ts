import { type AlertDisposition } from './alert-disposition.js';
import { type CardAuthorizationInput } from './card-authorization.js';
import { type SuspiciousChargeAlert } from './suspicious-charge-alert.js';

/**
 * Valid records of each contract type, for tests, documentation and the simulator. Each call
 * returns a fresh object. The card number is the well-known Visa test number, never a real card.
 */

/** An authorization as an upstream might send it as JSON: ISO time, nullable fields left out. */
export function exampleAuthorization(): CardAuthorizationInput {
  return {
    eventId: 'evt-0001',
    occurredAt: '2025-05-01T09:30:00+09:00',
    mti: '0100',
    card: { pan: '4111 1111 1111 1111', expiry: '2027-09' },
    amountMinor: 12_800,
    currency: 'JPY',
    merchant: { id: 'm-0001', name: 'Example Shop', mcc: '5732', country: 'JP' },
    channel: 'ECOMMERCE',
    threeDs: 'NOT_PERFORMED',
    cvvResult: 'MATCH',
    responseCode: '00',
  };
}

export function exampleAlert(): SuspiciousChargeAlert {
  return {
    alertId: 'alt-0001',
    eventId: 'evt-0001',
    occurredAt: 1_746_059_400_000,
    detectedAt: 1_746_059_400_250,
    partnerId: 'unrouted',
    card: {
      fingerprint: 'q5lJcV7mS1sSxX0t1m3Jg6aUQd0lqzv8wOQ0y6H8nZc',
      keyId: 'k1',
      bin: '41111111',
      last4: '1111',
      scheme: 'VISA',
      expiryMatchesLeak: true,
    },
    severity: 'HIGH',
    score: 72,
    recommendedAction: 'CONTACT_CARDHOLDER',
    reasons: [
      { code: 'LEAKED_CARD', description: 'card is on a compromise list', points: 40 },
      { code: 'EXPIRY_MATCHES_LEAK', description: 'expiry matches the leaked record', points: 20 },
    ],
    incidents: [
      {
        incidentId: 'inc-2025-001',
        compromiseType: 'WEB_SKIMMING',
        exposureStart: '2020-02-24',
        exposureEnd: '2024-10-15',
        dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
      },
    ],
    transaction: {
      amountMinor: 12_800,
      currency: 'JPY',
      merchantId: 'm-0001',
      merchantName: 'Example Shop',
      mcc: '5732',
      merchantCountry: 'JP',
      channel: 'ECOMMERCE',
      threeDs: 'NOT_PERFORMED',
      cvvResult: 'MATCH',
      responseCode: '00',
    },
    ruleSetVersion: 'sha256:0123abcd',
    retrospective: false,
  };
}

export function exampleDisposition(): AlertDisposition {
  return {
    alertId: 'alt-0001',
    disposition: 'CONFIRMED_FRAUD',
    by: 'analyst@example.com',
    at: 1_746_063_000_000,
    note: null,
  };
}
