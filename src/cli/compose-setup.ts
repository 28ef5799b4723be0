import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ADMIN_ROLE, provisionApplication } from '../local-services/servers';
import { waitFor } from '../local-services/system';
import { runCommand } from './run-command';

/**
 * What `docker compose up` runs before the service (see docker-compose.yml):
 *
 * - `secrets DIR`: at the first start, generates every secret into DIR (a volume), each readable
 *   only by the container user that needs it: Postgres' superuser password and Redis' config (the
 *   postgres and redis images' user, 999), and app.env for the service (the node user, 1000): its
 *   database and Redis URLs, token keys, webhook secret, QR signing key and metrics token. Later
 *   starts keep them. A value set in the service's environment wins over app.env's.
 * - `database DIR`: makes the application's Postgres role (no superuser, owns only its schema) as
 *   the superuser, at every start.
 */

export const APP_ROLE = 'lienthong';
export const DATABASE = 'lienthong';
const POSTGRES_USER_ID = 999;
const NODE_USER_ID = 1000;

const secret = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** Writes the secrets that are not in `dir` yet; the files already there are kept. */
export function generateComposeSecrets(dir: string, owners = true): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const write = (name: string, content: () => string, owner: number) => {
    const file = join(dir, name);
    if (existsSync(file)) return;
    writeFileSync(file, content(), { mode: 0o400 });
    if (owners) chownSync(file, owner, owner);
  };
  write('postgres-admin-password', () => secret(), POSTGRES_USER_ID);
  write('postgres-app-password', () => secret(), NODE_USER_ID);
  const redisPassword = secret();
  write('redis.conf', () => `requirepass ${redisPassword}\nappendonly yes\nappendfsync everysec\n`, POSTGRES_USER_ID);
  const redisConf = readFileSync(join(dir, 'redis.conf'), 'utf8');
  const redisPasswordInUse = /^requirepass (\S+)$/m.exec(redisConf)?.[1] ?? redisPassword;
  write('app.env', () => appEnv(readFileSync(join(dir, 'postgres-app-password'), 'utf8'), redisPasswordInUse), NODE_USER_ID);
}

function appEnv(databasePassword: string, redisPassword: string): string {
  const qrKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  const kid = new Date().toISOString().slice(0, 10);
  const values: Record<string, string> = {
    DATABASE_URL: `postgres://${APP_ROLE}:${databasePassword}@postgres:5432/${DATABASE}`,
    REDIS_URL: `redis://:${redisPassword}@redis:6379`,
    AUTH_TOKEN_KEYS: `compose-${kid}:${secret(48)}`,
    PAYMENT_WEBHOOK_SECRET: secret(48),
    QR_SIGNING_KEYS: `compose-qr-${kid}:${qrKey}`,
    METRICS_TOKEN: secret(),
    MEDIA_LOOKUP_SECRET: secret(48),
    TRANSIT_CARD_MASTER_KEY: secret(48),
  };
  // Sourced by sh: a variable already set (in docker-compose.yml's environment or an .env file) wins.
  return `${Object.entries(values).map(([name, value]) => `export ${name}="\${${name}:-${value}}"`).join('\n')}\n`;
}

async function provisionDatabase(dir: string): Promise<void> {
  const adminPassword = readFileSync(join(dir, 'postgres-admin-password'), 'utf8').trim();
  const adminUrl = `postgres://${ADMIN_ROLE}:${encodeURIComponent(adminPassword)}@${process.env.POSTGRES_HOST ?? 'postgres'}:5432`;
  const password = readFileSync(join(dir, 'postgres-app-password'), 'utf8').trim();
  await waitFor('Postgres', 60_000, () =>
    provisionApplication(adminUrl, { user: APP_ROLE, password, database: DATABASE }).then(
      () => true,
      () => false,
    ),
  );
  process.stdout.write(`Postgres role ${APP_ROLE} ready: no superuser, owns only the public schema of ${DATABASE}\n`);
}

if (require.main === module) {
  runCommand(async () => {
    const [step, dir] = process.argv.slice(2);
    if (!dir) throw new Error('usage: compose-setup secrets|database DIR');
    if (step === 'secrets') generateComposeSecrets(dir);
    else if (step === 'database') await provisionDatabase(dir);
    else throw new Error(`unknown step ${step}`);
  });
}
