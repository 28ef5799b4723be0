import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { signCode, stepAt } from '../../src/tickets/dynamic-qr';

/**
 * A rider's phone as the app would be: a P-256 key pair made on the phone (the private key never
 * leaves it), its public key as a JWK for POST /v1/me/media, and the code it shows at a time.
 */
export class Phone {
  readonly publicJwk: JsonWebKey;

  constructor(readonly privateKey: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) {
    const { kty, crv, x, y } = privateKey.export({ format: 'jwk' });
    this.publicJwk = { kty, crv, x, y };
  }

  /** The code for the time step of `at` (epoch ms): credential ‖ step, signed by this phone (low S). */
  code(credential: string, at = Date.now(), stepSeconds = 15): string {
    return this.codeForStep(credential, stepAt(at, stepSeconds));
  }

  codeForStep(credential: string, step: number): string {
    return signCode(Buffer.from(credential, 'base64url'), step, this.privateKey);
  }
}
