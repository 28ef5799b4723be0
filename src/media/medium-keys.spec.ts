import { loadConfig } from '../config/config';
import { MediumKeys, transitCardCryptogram } from './medium-keys';
import { readGateMedium } from './medium-kinds';

describe('media keys', () => {
  const config = loadConfig({});
  const keys = new MediumKeys(config);

  it("computes README's transit-card test vector (the development master key)", () => {
    expect(config.media.transitCardMasterKey).toBe('lienthong-dev-transit-card-master-key-do-not-use-in-production');
    expect(transitCardCryptogram(config.media.transitCardMasterKey, '04A2B3C4D5E680', 17)).toBe('ca601530bab72c612bd02b7737aa7bdbb21709b845a265fcb7d7b23df638815c');
  });

  it('takes a cryptogram only for its own UID and counter', () => {
    const cryptogram = transitCardCryptogram(config.media.transitCardMasterKey, '04A2B3C4D5E680', 17);
    expect(keys.cryptogramValid('04A2B3C4D5E680', 17, cryptogram)).toBe(true);
    expect(keys.cryptogramValid('04A2B3C4D5E680', 18, cryptogram)).toBe(false);
    expect(keys.cryptogramValid('04A2B3C4D5E681', 17, cryptogram)).toBe(false);
  });

  it('hashes a number per kind, never keeping it', () => {
    const hash = keys.lookupHash('id_card', '001060012345');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain('001060012345');
    expect(keys.lookupHash('transit_card', '001060012345')).not.toBe(hash);
    expect(new MediumKeys(loadConfig({ MEDIA_LOOKUP_SECRET: 'x'.repeat(40) })).lookupHash('id_card', '001060012345')).not.toBe(hash);
  });

  it('reads a tap medium by its kind, with its fields only', () => {
    const details: Array<{ field: string; problem: string }> = [];
    expect(readGateMedium({ kind: 'transit_card', uid: '04a2b3c4d5e680', counter: 1, cryptogram: 'A'.repeat(64) }, 'medium.', details)).toEqual({
      kind: 'transit_card',
      uid: '04A2B3C4D5E680',
      counter: 1,
      cryptogram: 'a'.repeat(64),
    });
    expect(readGateMedium({ kind: 'id_card', number: '001060012345', birthDate: '1960-02-30' }, 'medium.', details)).toBeUndefined();
    expect(readGateMedium({ kind: 'id_card', number: '001060012345', birthDate: '1960-02-29', uid: 'x' }, 'medium.', details)).toBeUndefined();
    expect(details.map((detail) => detail.field)).toEqual(['medium.birthDate', 'medium.uid']);
  });
});
