/**
 * Part of `npm run bench -- gate`: what checking one tap's QR costs in CPU, by kind of QR, in this
 * process (the rest of a tap, the route and the Lua script, is the same for every kind):
 * a ticket's or account's static QR (one ES256 verification of a JWT), and the app's dynamic QR at a
 * rider's first tap (the issuer's and the phone's signatures, and the phone key's import) and at the
 * next ones (the credential remembered: the phone's signature only).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AppConfig } from '../../src/config/config';
import { DynamicQrCredentials, signCode, stepAt } from '../../src/tickets/dynamic-qr';
import { QrTokens } from '../../src/tickets/qr-tokens';
import { DynamicQrVerifier } from '../../src/validation/dynamic-qr-verifier';
import { QrVerifier } from '../../src/validation/qr-verifier';
import { median } from './harness';

const RIDERS = Number(process.env.BENCH_QR_RIDERS ?? 2_000);
const ROUNDS = 3;

export interface QrCheckCosts {
  /** µs per check, median of the rounds. */
  staticQr: number;
  dynamicFirstTap: number;
  dynamicCached: number;
  /** Characters of each QR's text. */
  staticLength: number;
  dynamicLength: number;
}

export function qrCheckCosts(config: AppConfig): QrCheckCosts {
  const tokens = new QrTokens(config);
  const credentials = new DynamicQrCredentials(tokens, config);
  const now = Date.now();
  const stepSeconds = config.tickets.dynamicQr.stepSeconds;
  const staticCodes = Array.from({ length: RIDERS }, () => tokens.forAccount(randomUUID(), 'adult', new Date(now)));
  const riders = Array.from({ length: RIDERS }, () => {
    const phone = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = phone.publicKey.export({ format: 'jwk' });
    const issued = credentials.issue({ accountId: randomUUID(), mediumId: randomUUID(), riderCategory: 'adult', categoryValidUntil: null, phoneKey: credentials.publicKeyPoint(jwk) });
    return { key: phone.privateKey, credential: Buffer.from(issued.credential, 'base64url') };
  });
  const codesAt = (at: number) => riders.map((rider) => signCode(rider.credential, stepAt(at, stepSeconds), rider.key));
  const perCheck = (codes: string[], check: (code: string) => boolean): number => {
    // CPU time of this process, not wall time: the machine is shared.
    const started = process.cpuUsage();
    for (const code of codes) if (!check(code)) throw new Error('a bench QR did not verify');
    const used = process.cpuUsage(started);
    return (used.user + used.system) / codes.length;
  };

  const rounds = { staticQr: [] as number[], first: [] as number[], cached: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const qr = new QrVerifier(config);
    rounds.staticQr.push(perCheck(staticCodes, (code) => qr.check(code).ok));
    // A verifier of its own per round: every rider's first tap finds no remembered credential.
    const dynamic = new DynamicQrVerifier(new QrVerifier(config), config);
    const first = codesAt(now);
    rounds.first.push(perCheck(first, (code) => dynamic.check(code, now).ok));
    const later = now + stepSeconds * 1000;
    rounds.cached.push(perCheck(codesAt(later), (code) => dynamic.check(code, later).ok));
  }
  return {
    staticQr: median(rounds.staticQr),
    dynamicFirstTap: median(rounds.first),
    dynamicCached: median(rounds.cached),
    staticLength: staticCodes[0].length,
    dynamicLength: codesAt(now)[0].length,
  };
}

export function qrCheckCostLines(costs: QrCheckCosts): string[] {
  const us = (value: number) => `${Math.round(value)} µs`;
  return [
    `QR check per tap, CPU in one process (${RIDERS.toLocaleString('en')} riders, median of ${ROUNDS} rounds; the route and gate.lua cost the same for every kind):`,
    `  static QR (ES256 JWT, ${costs.staticLength} characters): ${us(costs.staticQr)}`,
    `  dynamic QR (${costs.dynamicLength} characters), a rider's first tap (issuer + phone signatures, key import): ${us(costs.dynamicFirstTap)}`,
    `  dynamic QR, later taps (credential remembered: the phone's signature): ${us(costs.dynamicCached)}`,
  ];
}
