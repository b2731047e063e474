import { describe, expect, it } from 'vitest';
import { alertIdFor } from './alert-id.js';

describe('alertIdFor', () => {
  it('is deterministic per eventId and differs between events', () => {
    expect(alertIdFor('evt-1')).toBe(alertIdFor('evt-1'));
    expect(alertIdFor('evt-1')).not.toBe(alertIdFor('evt-2'));
    expect(alertIdFor('evt-1')).toMatch(/^al_[A-Za-z0-9_-]{22}$/);
  });

  it('gives a retrospective alert its own id, repeated on a rerun', () => {
    const retro = alertIdFor('evt-1', { retrospective: true });
    expect(retro).toBe(alertIdFor('evt-1', { retrospective: true }));
    expect(retro).not.toBe(alertIdFor('evt-1'));
    expect(retro).toMatch(/^al_[A-Za-z0-9_-]{22}$/);
    expect(alertIdFor('evt-1', { retrospective: false })).toBe(alertIdFor('evt-1'));
  });

  it('never changes: consumers deduplicate on ids already published', () => {
    expect(alertIdFor('evt-1')).toBe('al_1OQhSfxkDx4xxfmdtujKbg');
    expect(alertIdFor('evt-1', { retrospective: true })).toBe('al_0XcoMckV2OpcCsFQXRt_Qw');
  });
});
