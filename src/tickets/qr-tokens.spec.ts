import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { loadConfig } from '../config/config';
import { loadOrCreateDevQrKey } from './qr-dev-key';
import { QrTokens, type TicketQrClaims } from './qr-tokens';

function newKey(): { privateDer: string; publicDer: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateDer: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicDer: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

const tokensWith = (keys: string) => new QrTokens(loadConfig({ QR_SIGNING_KEYS: keys }));

/** Verifies a token the way a gate does: the key named by its kid, from the JWKS alone. */
function verifyWithJwks(token: string, tokens: QrTokens): JwtPayload {
  const kid = jwt.decode(token, { complete: true })?.header.kid;
  const jwk = tokens.jwks().keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error(`no key ${kid}`);
  return jwt.verify(token, createPublicKey({ key: { ...jwk }, format: 'jwk' }), { algorithms: ['ES256'] }) as JwtPayload;
}

const PASS: TicketQrClaims = {
  ticketId: '6f1c0c9e-0000-4000-8000-000000000001',
  kind: 'pass',
  riderCategory: 'priority',
  modes: ['metro', 'bus', 'brt'],
  lineIds: null,
  originStationId: null,
  destinationStationId: null,
  validFrom: null,
  validUntil: null,
  validityDays: 30,
  firstUseBy: new Date('2026-12-01T00:00:00Z'),
};

describe('QrTokens', () => {
  it('keeps verifying what the previous key signed after a rotation, and publishes only public keys', () => {
    const [old, current] = [newKey(), newKey()];
    const before = tokensWith(`qr-1:${old.privateDer}`);
    const token = before.forTicket(PASS, new Date('2026-11-01T00:00:00Z'));
    const after = tokensWith(`qr-2:${current.privateDer},qr-1:${old.publicDer}`);
    expect(after.jwks().keys.map((key) => key.kid)).toEqual(['qr-2', 'qr-1']);
    expect(after.jwks().keys.every((key) => !('d' in key))).toBe(true);
    expect(verifyWithJwks(token, after)).toMatchObject({ sub: PASS.ticketId, knd: 'pass' });
    const fresh = after.forTicket(PASS, new Date());
    expect(jwt.decode(fresh, { complete: true })?.header).toMatchObject({ alg: 'ES256', kid: 'qr-2' });
    // A key that was never published does not verify.
    expect(() => verifyWithJwks(tokensWith(`qr-3:${newKey().privateDer}`).forTicket(PASS, new Date()), after)).toThrow('no key qr-3');
  });

  it('names a first-use pass with its length and latest first use, expiring at the latest possible end', () => {
    const tokens = tokensWith(`qr-1:${newKey().privateDer}`);
    const claims = verifyWithJwks(tokens.forTicket(PASS, new Date('2026-11-01T00:00:00Z')), tokens);
    expect(claims).toEqual({
      sub: PASS.ticketId,
      typ: 'ticket',
      knd: 'pass',
      rc: 'priority',
      md: ['metro', 'bus', 'brt'],
      vd: 30,
      fub: Date.parse('2026-12-01T00:00:00Z') / 1000,
      exp: Date.parse('2026-12-31T00:00:00Z') / 1000,
      iat: Date.parse('2026-11-01T00:00:00Z') / 1000,
    });
  });

  it("signs the account's pay-as-you-go credential for the configured time", () => {
    const tokens = new QrTokens(loadConfig({ QR_SIGNING_KEYS: `qr-1:${newKey().privateDer}`, QR_ACCOUNT_TOKEN_TTL_SECONDS: '3600' }));
    const now = new Date();
    const claims = verifyWithJwks(tokens.forAccount('acc-1', 'adult', now), tokens);
    expect(claims).toMatchObject({ sub: 'acc-1', typ: 'account', knd: 'payg', rc: 'adult' });
    expect(claims.exp! - claims.iat!).toBe(3600);
  });
});

describe('the development QR key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qr-dev-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once, private to its owner, and the same on every later start', () => {
    const file = join(dir, 'nested', 'qr.pem');
    const first = loadOrCreateDevQrKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const second = loadOrCreateDevQrKey(file);
    expect(second.kid).toBe(first.kid);
    expect(second.kid).toMatch(/^dev-[0-9a-f]{12}$/);
    expect(second.publicKey.equals(first.publicKey)).toBe(true);
  });

  it('signs when no keys are configured outside production', () => {
    const tokens = new QrTokens(loadConfig({ QR_DEV_KEY_FILE: join(dir, 'qr.pem') }));
    expect(tokens.jwks().keys).toEqual([expect.objectContaining({ kid: loadOrCreateDevQrKey(join(dir, 'qr.pem')).kid, kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })]);
  });
});
