import { describe, expect, it } from 'vitest';
import { routeCard } from './route.js';
import { fakeRouter, partner } from './stages.fakes.js';

describe('routeCard', () => {
  const router = fakeRouter([partner('asahi', 'JP', ['453201']), partner('nowhere', null, ['5'])]);

  it('stamps the owning partner and its country', () => {
    expect(routeCard('45320101', router)).toEqual({ partnerId: 'asahi', issuerCountry: 'JP' });
    expect(routeCard('55555555', router)).toEqual({ partnerId: 'nowhere', issuerCountry: null });
  });

  it('calls a BIN nobody owns "unrouted", leaving the rules default country in force', () => {
    expect(routeCard('41111111', router)).toEqual({ partnerId: 'unrouted', issuerCountry: null });
  });
});
