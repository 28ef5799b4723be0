import type { DataSource } from 'typeorm';
import { upsertDevice } from '../devices/device-seeder';
import { HANOI_LINES, HANOI_OPERATORS } from '../network/hanoi-network';
import { type AccountSeed, upsertAccount } from './account-seeder';

/**
 * Development only: fixed, published credentials, so they must never be seeded anywhere else.
 * Running it again restores the same passwords and secrets.
 */
export const DEMO_ACCOUNTS: AccountSeed[] = [
  { email: 'admin@lienthong.local', password: 'Hoan-Kiem-demo-2026', fullName: 'Demo Admin', role: 'admin' },
  ...HANOI_OPERATORS.map(
    (operator): AccountSeed => ({
      email: `staff.${operator.id}@lienthong.local`,
      password: 'Operator-demo-2026',
      fullName: `Demo staff of ${operator.shortName}`,
      role: 'operator',
      operatorId: operator.id,
    }),
  ),
  { email: 'rider@lienthong.local', password: 'Di-tau-dien-2026', fullName: 'Nguyễn Văn Demo', role: 'passenger' },
];

/** One gate per metro station: device id `demo-gate-<stationId>`, secret `demo-secret-<stationId>`. */
export const DEMO_GATES = HANOI_LINES.filter((line) => line.mode === 'metro').flatMap((line) =>
  line.stations.map((station) => ({
    deviceId: `demo-gate-${station.id}`,
    secret: `demo-secret-${station.id}`,
    operatorId: line.operatorId,
    lineId: line.id,
    stationId: station.id,
    kind: 'gate' as const,
  })),
);

/** One inspector's handset per operator: device id `demo-handset-<operatorId>`, secret `demo-handset-secret-<operatorId>`. */
export const DEMO_HANDSETS = HANOI_OPERATORS.map((operator) => ({
  deviceId: `demo-handset-${operator.id}`,
  secret: `demo-handset-secret-${operator.id}`,
  operatorId: operator.id,
  kind: 'inspector' as const,
}));

/** Seeds the demo accounts, gates and inspectors' handsets, and returns the lines the run command prints. */
export async function seedDemoCredentials(db: DataSource): Promise<string[]> {
  const lines = ['  demo credentials (development only):'];
  for (const account of DEMO_ACCOUNTS) {
    await upsertAccount(db, account);
    const who = account.role === 'operator' ? `operator (${account.operatorId})` : account.role;
    lines.push(`    ${who.padEnd(22)} ${account.email} / ${account.password}`);
  }
  lines.push('    validator gates: exchange at POST /v1/devices/token {deviceId, secret}');
  for (const gate of DEMO_GATES) {
    const { disabled } = await upsertDevice(db, gate);
    lines.push(`      ${gate.deviceId} / ${gate.secret}${disabled ? '  (disabled)' : ''}`);
  }
  lines.push("    inspectors' handsets (role inspector): the same exchange");
  for (const handset of DEMO_HANDSETS) {
    const { disabled } = await upsertDevice(db, handset);
    lines.push(`      ${handset.deviceId} / ${handset.secret}${disabled ? '  (disabled)' : ''}`);
  }
  return lines;
}
