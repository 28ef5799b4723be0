import { createPublicKey } from 'node:crypto';
import vectors from '../../test/fixtures/dynamic-qr-vectors.json';
import { loadConfig } from '../config/config';
import { parseCode } from '../tickets/dynamic-qr';
import { DynamicQrVerifier } from './dynamic-qr-verifier';
import { QrVerifier } from './qr-verifier';

/** The service's verifier reaches the vendors' results on the published vectors, from their JWKS alone. */
describe('DynamicQrVerifier on test/fixtures/dynamic-qr-vectors.json', () => {
  const defaults = loadConfig({
    DYNAMIC_QR_STEP_SECONDS: String(vectors.stepSeconds),
    DYNAMIC_QR_WINDOW_STEPS: String(vectors.windowSteps),
  });
  const config = {
    tickets: {
      ...defaults.tickets,
      qrSigningKeys: vectors.jwks.keys.map((jwk) => ({ kid: jwk.kid, privateKey: null, publicKey: createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' }) })),
    },
  };
  const verifier = new DynamicQrVerifier(new QrVerifier(config), config);

  /** The gate's order: the signatures (INVALID_QR), the step (STALE_CODE, gate.lua's first rule), the credential's window. */
  const resultOf = (code: string, at: number): Record<string, unknown> => {
    const check = verifier.check(code, at);
    if (!check.ok) return { result: 'INVALID_QR' };
    const step = parseCode(code)!.step;
    if (check.stale) return { result: 'STALE_CODE', step };
    if (at < check.claims.notBefore) return { result: 'NOT_YET_VALID', step };
    if (at >= check.claims.expiresAt) return { result: 'EXPIRED', step };
    return { result: 'OK', step, accountId: check.claims.sub, mediumId: check.claims.mediumId, riderCategory: check.claims.riderCategory };
  };

  it.each(vectors.cases.map((vector) => [vector.name, vector] as const))('%s', (_name, vector) => {
    expect(resultOf(vector.code, Date.parse(vector.verifiedAt))).toEqual(vector.expected);
  });
});
