/**
 * The floor: the least a gate server must do per tap, with no framework — node:http, the same ES256
 * check (QrVerifier) and the same Lua script with the same arguments as the service. `npm run bench`
 * starts it as a child process: node dist/bench/test/bench/floor-server.js <port>, configured by env.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createClient } from 'redis';
import { loadConfig } from '../../src/config/config';
import { LuaScript } from '../../src/redis/lua-script';
import type { RedisClient } from '../../src/redis/redis.service';
import { gateArguments, keysFor, parseOutcome } from '../../src/gate-state/gate-script';
import { GateKeys, luaPrelude } from '../../src/gate-state/gate-state';
import { QrVerifier } from '../../src/validation/qr-verifier';

const REPOSITORY = join(__dirname, '..', '..', '..', '..');

async function main(): Promise<void> {
  const config = loadConfig();
  const verifier = new QrVerifier(config);
  const script = LuaScript.fromFile(join(REPOSITORY, 'src', 'gate-state', 'gate.lua'), luaPrelude());
  const redis: RedisClient = createClient({ url: config.redis.url });
  await redis.connect();
  await script.load(redis);
  const gateKeys = new GateKeys(config.gate);
  const tapMemory = String(config.gate.tapMemorySeconds);
  const journeyLimit = String(config.gate.journeyLimitMinutes * 60_000);

  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      void (async () => {
        const tap = JSON.parse(body) as { tapId: string; qr: string; direction: 'entry' | 'exit' };
        const checked = verifier.check(tap.qr);
        let answer: object = { verdict: 'reject', reason: 'INVALID_QR' };
        if (checked.ok) {
          const call = {
            at: Date.now(),
            direction: tap.direction,
            kind: checked.claims.kind,
            subjectId: checked.claims.sub,
            nodeReason: '',
            deviceId: 'floor',
            tapId: tap.tapId,
            stationId: '2a-cat-linh',
            lineId: 'metro-2a',
            modeBit: 1,
            journeyId: tap.direction === 'entry' ? randomUUID() : '',
            offline: false,
            riderCategory: checked.claims.riderCategory,
          };
          const outcome = parseOutcome((await script.run(redis, keysFor(call, gateKeys, true), gateArguments(call, tapMemory, journeyLimit))) as string);
          answer = { verdict: outcome.verdict, reason: outcome.reason, ticketId: call.subjectId, ...(outcome.journeyId && { journeyId: outcome.journeyId }) };
        }
        const json = JSON.stringify(answer);
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        response.end(json);
      })().catch(() => {
        response.writeHead(500);
        response.end();
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
}

main().catch((error: unknown) => {
  process.stderr.write(`floor server failed: ${String(error)}\n`);
  process.exit(1);
});
