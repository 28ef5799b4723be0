import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { AccountRole } from '../../src/accounts/access-tokens';
import { upsertAccount } from '../../src/accounts/account-seeder';
import type { Role } from '../../src/common/access.decorator';
import { upsertDevice } from '../../src/devices/device-seeder';
import { HANOI_LINES } from '../../src/network/hanoi-network';

export interface BearerOptions {
  /** For operator staff and validators: the operator they belong to (default hmc). */
  operatorId?: string;
}

export interface TestAccount {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** The Authorization header value. */
  bearer: string;
}

export interface TestDevice {
  deviceId: string;
  secret: string;
  lineId: string;
  stationId?: string;
  bearer: string;
}

/** A new account of that role, logged in through HTTP. Emails are unique, so parallel test files never collide. */
export async function testAccount(app: NestFastifyApplication, role: AccountRole, options: BearerOptions = {}): Promise<TestAccount> {
  const email = `${role}-${randomUUID()}@test.lienthong.local`;
  const password = `test password ${randomBytes(6).toString('hex')}`;
  const id = await upsertAccount(app.get(DataSource), {
    email,
    password,
    fullName: `Test ${role}`,
    role,
    ...(role === 'operator' || role === 'inspector' ? { operatorId: options.operatorId ?? 'hmc' } : {}),
    ...(role === 'support' && options.operatorId !== undefined ? { operatorId: options.operatorId } : {}),
  });
  const response = await request(app.getHttpServer()).post('/v1/auth/login').send({ email, password });
  if (response.status !== 200) throw new Error(`test login failed: ${response.status} ${JSON.stringify(response.body)}`);
  const { accessToken, refreshToken } = response.body as { accessToken: string; refreshToken: string };
  return { id, email, password, accessToken, refreshToken, bearer: `Bearer ${accessToken}` };
}

/** A new validator of the operator (a gate at the first station of its first metro or BRT line, else a bus validator), with its token. */
export async function testDevice(app: NestFastifyApplication, options: BearerOptions = {}): Promise<TestDevice> {
  const operatorId = options.operatorId ?? 'hmc';
  const lines = HANOI_LINES.filter((line) => line.operatorId === operatorId);
  const gateLine = lines.find((line) => line.mode !== 'bus');
  const line = gateLine ?? lines[0];
  if (!line) throw new Error(`operator ${operatorId} has no lines`);
  const stationId = gateLine?.stations[0]?.id;
  const deviceId = `test-${randomUUID()}`;
  const secret = randomBytes(32).toString('base64url');
  await upsertDevice(app.get(DataSource), { deviceId, secret, operatorId, lineId: line.id, stationId, kind: stationId ? 'gate' : 'bus' });
  const response = await request(app.getHttpServer()).post('/v1/devices/token').send({ deviceId, secret });
  if (response.status !== 200) throw new Error(`device token failed: ${response.status} ${JSON.stringify(response.body)}`);
  const { accessToken } = response.body as { accessToken: string };
  return { deviceId, secret, lineId: line.id, ...(stationId ? { stationId } : {}), bearer: `Bearer ${accessToken}` };
}

/** A new inspector's handset of the operator (a device of kind inspector: no line, no station), with its token. */
export async function testHandset(app: NestFastifyApplication, options: BearerOptions = {}): Promise<{ deviceId: string; secret: string; bearer: string }> {
  const deviceId = `test-handset-${randomUUID()}`;
  const secret = randomBytes(32).toString('base64url');
  await upsertDevice(app.get(DataSource), { deviceId, secret, operatorId: options.operatorId ?? 'hmc', kind: 'inspector' });
  const response = await request(app.getHttpServer()).post('/v1/devices/token').send({ deviceId, secret });
  if (response.status !== 200) throw new Error(`handset token failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { deviceId, secret, bearer: `Bearer ${(response.body as { accessToken: string }).accessToken}` };
}

/** An Authorization header value for a new caller of the given role, for tests of routes guarded by @Roles. */
export async function bearerFor(app: NestFastifyApplication, role: Role, options: BearerOptions = {}): Promise<string> {
  if (role === 'validator') return (await testDevice(app, options)).bearer;
  return (await testAccount(app, role, options)).bearer;
}
