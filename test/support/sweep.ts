import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { Client } from 'pg';
import { RESP_TYPES } from 'redis';
import type request from 'supertest';
import { DataSource } from 'typeorm';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { RedisService } from '../../src/redis/redis.service';
import { GateKeys } from '../../src/gate-state/gate-state';
import { expectError } from './http';

/**
 * The machinery of the security sweep (test/e2e/security-sweep.e2e.spec.ts): the operations of the
 * committed OpenAPI document, the fields of their bodies, the values that must be refused, forged
 * tokens, and an isolated database and Redis db whose whole content can be compared before and after.
 */

// ---- the OpenAPI document ----

export interface SchemaObject {
  type?: string;
  enum?: unknown[];
  nullable?: boolean;
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  $ref?: string;
  allOf?: SchemaObject[];
}

interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
}

interface OperationObject {
  operationId: string;
  parameters?: ParameterObject[];
  requestBody?: { content: Record<string, { schema: SchemaObject }> };
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, SchemaObject> };
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Operation {
  /** `METHOD /path/{param}`, as the sweep's table names it. */
  key: string;
  method: HttpMethod;
  path: string;
  /** `Controller_method`, as @nestjs/swagger names it. */
  operationId: string;
  pathParams: string[];
  queryParams: string[];
  requiredHeaders: string[];
  bodySchema?: SchemaObject;
  /** The document says the operation takes a bearer token. */
  bearer: boolean;
}

const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function openApiOperations(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([verb, operation]): Operation => {
      const method = verb.toUpperCase() as HttpMethod;
      if (!HTTP_METHODS.includes(method)) throw new Error(`unexpected method ${verb} on ${path}`);
      const parameters = operation.parameters ?? [];
      const named = (where: ParameterObject['in']) => parameters.filter((parameter) => parameter.in === where);
      return {
        key: `${method} ${path}`,
        method,
        path,
        operationId: operation.operationId,
        pathParams: named('path').map((parameter) => parameter.name),
        queryParams: named('query').map((parameter) => parameter.name),
        requiredHeaders: named('header')
          .filter((parameter) => parameter.required)
          .map((parameter) => parameter.name),
        ...(operation.requestBody && { bodySchema: operation.requestBody.content['application/json']?.schema }),
        bearer: (operation.security ?? []).length > 0,
      };
    }),
  );
}

export type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'object';
export type FieldPath = ReadonlyArray<string | number>;

export interface BodyField {
  path: FieldPath;
  type: FieldType;
  /** The document allows null here. */
  nullable: boolean;
}

/** `items.0.productId` */
export function fieldName(path: FieldPath): string {
  return path.join('.');
}

function resolve(document: OpenApiDocument, schema: SchemaObject): SchemaObject {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = document.components.schemas[name];
    if (!target) throw new Error(`unknown schema ${schema.$ref}`);
    return resolve(document, target);
  }
  if (schema.allOf?.length === 1) return { ...resolve(document, schema.allOf[0]), ...(schema.nullable && { nullable: true }) };
  return schema;
}

function typeOf(schema: SchemaObject): FieldType {
  switch (schema.type) {
    case 'string':
    case 'boolean':
    case 'array':
    case 'object':
      return schema.type;
    case 'number':
    case 'integer':
      return 'number';
    default:
      if (schema.properties) return 'object';
      throw new Error(`a body field of unknown type: ${JSON.stringify(schema)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every field the body schema declares, with the fields of nested objects and the first element of
 * arrays where the baseline body holds one (`items.0.productId`, `modes.0`).
 */
export function bodyFields(document: OpenApiDocument, schema: SchemaObject, baseline: unknown, prefix: FieldPath = []): BodyField[] {
  const fields: BodyField[] = [];
  for (const [name, declared] of Object.entries(resolve(document, schema).properties ?? {})) {
    const property = resolve(document, declared);
    const path = [...prefix, name];
    const type = typeOf(property);
    fields.push({ path, type, nullable: declared.nullable === true || property.nullable === true });
    const value = isRecord(baseline) ? baseline[name] : undefined;
    if (type === 'object' && isRecord(value)) fields.push(...bodyFields(document, property, value, path));
    if (type === 'array' && Array.isArray(value) && value.length > 0 && property.items) {
      const item = resolve(document, property.items);
      const itemType = typeOf(item);
      if (itemType === 'object') fields.push(...bodyFields(document, item, value[0], [...path, 0]));
      else fields.push({ path: [...path, 0], type: itemType, nullable: false });
    }
  }
  return fields;
}

/** The nested objects of a body (the body itself first), for unknown-field checks at every level. */
export function objectPaths(fields: readonly BodyField[]): FieldPath[] {
  return [[], ...fields.filter((field) => field.type === 'object' || typeof field.path[field.path.length - 1] === 'number').map((field) => field.path)].filter(
    (path, index, all) => all.findIndex((other) => fieldName(other) === fieldName(path)) === index,
  );
}

/** A deep copy of `body` with `value` at `path` (objects and arrays on the way are created). */
export function withValue(body: unknown, path: FieldPath, value: unknown): unknown {
  const copy: unknown = structuredClone(body);
  if (path.length === 0) return value;
  let node = copy as Record<string | number, unknown>;
  path.slice(0, -1).forEach((step, index) => {
    if (typeof node[step] !== 'object' || node[step] === null) node[step] = typeof path[index + 1] === 'number' ? [] : {};
    node = node[step] as Record<string | number, unknown>;
  });
  node[path[path.length - 1]] = value;
  return copy;
}

/** The value at `path` of `body`, if any. */
export function valueAt(body: unknown, path: FieldPath): unknown {
  return path.reduce<unknown>((node, step) => (typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[step] : undefined), body);
}

/** Values of another JSON type than the field's; null too, unless the document allows it. */
export function wrongTypeValues(field: BodyField): unknown[] {
  const values: Record<FieldType, unknown[]> = {
    string: [12345, true, { text: 'x' }, ['x'], null],
    number: ['12', true, { amount: 12 }, [12], null],
    boolean: ['true', 1, { yes: true }, [true], null],
    array: ['x', 1, true, { 0: 'x' }, null],
    object: ['x', 1, true, [], null],
  };
  return values[field.type].filter((value) => value !== null || !field.nullable);
}

/** Injection fragments every string field, path parameter and query parameter must refuse. */
export const FRAGMENTS: readonly string[] = [
  "' OR '1'='1",
  "'; DROP TABLE accounts; --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'nul\u0000byte',
  '{"$gt":""}',
];

/** A JSON body nested `depth` levels deep, `{"a":[[[…]]]}`: past JSON_MAX_DEPTH (32) it is 400 JSON_TOO_DEEP before anything walks it. */
export function deeplyNested(depth: number): string {
  return `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

/** Disguises of an email's local part that must register as the same account or not at all (#17). */
export const LOOK_ALIKES: ReadonlyArray<[string, (email: string) => string]> = [
  ['full-width first letter', (email) => `${String.fromCodePoint(0xff41 + email.charCodeAt(0) - 0x61)}${email.slice(1)}`],
  ['a trailing zero-width space', (email) => email.replace('@', '\u200b@')],
  ['a soft hyphen', (email) => email.replace('@', '\u00ad@')],
  ['upper case', (email) => email.toUpperCase()],
  ['Cyrillic о for o', (email) => email.replace(/o/g, 'о')],
  ['Cyrillic е for e', (email) => email.replace(/e/g, 'е')],
  ['dotless ı for i', (email) => email.replace(/i/g, 'ı')],
];

/** Settlement days Postgres cannot hold, or the scheme never had: 400 (they were 500s). */
export const EDGE_DATES: readonly string[] = ['0001-01-01', '0000-01-01', '1899-12-31', '9999-12-31', '275760-09-13'];

/** Denylist cursors with a NUL or a control character where the id goes, or a number past bigint: 400 (they were 500s). */
export const EDGE_CURSORS: readonly string[] = [
  'MXwA',
  ...['1|\u0000', '1|x\u0000y', '1|\u0001', '1|\u00ff', '99999999999999999999|', '1|a|b'].map((cursor) => Buffer.from(cursor).toString('base64url')),
];

/** A NoSQL-style operator object where a string belongs. */
export const OPERATOR_OBJECT = { $gt: '' };

/** Over the body limit (BODY_LIMIT_BYTES is 256 KB): 413. */
export const ONE_MEGABYTE = 'x'.repeat(1024 * 1024);
/** Well under the body limit, well over any sane field: 400. */
export const TEN_KILOBYTES = 'a'.repeat(10 * 1024);

/** The path with its parameters filled in, each URL-encoded. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

// ---- tokens ----

export interface ForgedTokens {
  /** The same claims, signed with the right key, expired a minute ago: 401 TOKEN_EXPIRED. */
  expired: string;
  /** The same claims signed with a key we do not hold: 401 TOKEN_INVALID. */
  wrongKey: string;
  /** The same claims, unsigned (alg none): 401 TOKEN_INVALID. */
  unsigned: string;
}

/** Tokens made from a real caller's claims: expired, signed with another key, unsigned. */
export function forgedTokens(bearer: string, key: { kid: string; secret: string }): ForgedTokens {
  const payload = jwt.decode(bearer.replace(/^Bearer /, '')) as JwtPayload;
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: JwtPayload, secret: string) => `Bearer ${jwt.sign(claims, secret, { algorithm: 'HS256', keyid: key.kid })}`;
  return {
    expired: sign({ ...payload, iat: now - 3600, exp: now - 60 }, key.secret),
    wrongKey: sign(payload, `${key.secret}-but-not-ours`),
    unsigned: `Bearer ${jwt.sign(payload, null, { algorithm: 'none', keyid: key.kid })}`,
  };
}

// ---- an isolated database and Redis db ----

/** A fresh database of that name on the test server, migrated and seeded; returns its URL. */
export async function createIsolatedDatabase(name: string): Promise<string> {
  if (!/^[a-z_]*test[a-z_]*$/.test(name)) throw new Error(`a test database name must say "test": ${name}`);
  const shared = new URL(process.env.DATABASE_URL!);
  await onServer(shared, async (admin) => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(shared.toString());
  url.pathname = `/${name}`;
  await migrateAndMaybeSeed(url.toString(), true, () => undefined);
  return url.toString();
}

export async function dropIsolatedDatabase(name: string): Promise<void> {
  await onServer(new URL(process.env.DATABASE_URL!), (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function onServer(url: URL, work: (admin: Client) => Promise<unknown>): Promise<void> {
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}

/** The test Redis with another logical db selected (node-redis reads it from the URL's path). */
export function redisDbUrl(db: number): string {
  const url = new URL(process.env.REDIS_URL!);
  url.pathname = `/${db}`;
  return url.toString();
}

// ---- what the stores hold ----

export interface StoreSnapshot {
  /** Per table (partitions too): row count and a digest of every row. */
  tables: Record<string, string>;
  /** DBSIZE of the sweep's Redis db. */
  redisKeys: number;
  /** Per Redis key: its type and a digest of its value. */
  redis: Record<string, string>;
  /** Entries ever added to the tap stream, and its length. */
  /** Each shard's tap stream: its length and last entry. */
  tapStream: string;
}

/**
 * Everything Postgres and Redis hold, so that two snapshots are equal only when nothing was
 * written. `ignoreRedisKey` names keys whose change is by design (the login attempt counters).
 */
/** A day partition of a partitioned table (taps_20261209). */
const DAY_PARTITION = /_\d{8}$/;

export async function snapshotStores(app: NestFastifyApplication, ignoreRedisKey: (key: string) => boolean): Promise<StoreSnapshot> {
  const db = app.get(DataSource);
  const relations = await db.query<Array<{ name: string }>>(
    `SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  const tables: Record<string, string> = {};
  for (const { name } of relations) {
    const [row] = await db.query<Array<{ rows: number; digest: string }>>(
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS digest FROM ${name} t`,
    );
    // Day partitions are made ahead by the leader's round (tomorrow's, after local midnight) whenever it
    // runs: an empty one says nothing about what a request wrote.
    if (row.rows === 0 && DAY_PARTITION.test(name)) continue;
    tables[name] = `${row.rows} rows, ${row.digest}`;
  }
  const client = app.get(RedisService).client;
  const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const redis: Record<string, string> = {};
  for await (const keys of client.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) {
      if (ignoreRedisKey(key)) continue;
      const type = await client.type(key);
      // A stream's serialisation holds its consumers' last-seen times, which polling changes.
      const value = type === 'stream' ? '' : ((await binary.dump(key)) ?? Buffer.alloc(0)).toString('hex');
      redis[key] = `${type} ${value}`;
    }
  }
  const keys = app.get(GateKeys);
  const streams = await Promise.all(
    keys.allShards().map(async (shard) => {
      const stream = keys.tapStream(shard);
      const length = await client.xLen(stream);
      const info = length > 0 || (await client.exists(stream)) ? await client.xInfoStream(stream) : undefined;
      return `${length} entries, last ${info ? String(info['last-generated-id']) : 'none'}`;
    }),
  );
  return { tables, redisKeys: Object.keys(redis).length, redis, tapStream: streams.join('; ') };
}

// ---- checking answers ----

/** Codes the access guard answers with: a request refused for them never reached the route. */
const GUARD_CODES: readonly string[] = ['UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'DEVICE_DISABLED', 'FORBIDDEN'];

function describeResponse(response: request.Response): string {
  const code = (response.body as { error?: { code?: string } } | undefined)?.error?.code;
  const detail = code ?? (response.text ?? '').slice(0, 120);
  return `${response.status} ${detail}`.trim();
}

/**
 * Collects every mismatch of a sweep instead of stopping at the first, so one run lists them all.
 * Error shapes are checked with the suite's `expectError`.
 */
export class Findings {
  readonly problems: string[] = [];

  /** Exactly this status and code, in the contract's error shape. */
  error(label: string, response: request.Response, status: number, code: string): void {
    this.attempt(label, response, `${status} ${code}`, () => expectError(response, status, code));
  }

  /** A refusal with one of these statuses, in the contract's error shape. */
  refused(label: string, response: request.Response, statuses: readonly number[], codes?: readonly string[]): void {
    const expected = `${statuses.join(' or ')}${codes ? ` ${codes.join('/')}` : ''}`;
    this.attempt(label, response, expected, () => {
      const code = (response.body as { error?: { code?: string } }).error?.code ?? '';
      expect(statuses).toContain(response.status);
      if (codes) expect(codes).toContain(code);
      expectError(response, response.status, code);
    });
  }

  /** The guard let the caller through: this status, and never one of the guard's refusals. */
  passed(label: string, response: request.Response, status: number): void {
    this.attempt(label, response, `${status}, past the guard`, () => {
      expect(response.status).toBe(status);
      expect(GUARD_CODES).not.toContain((response.body as { error?: { code?: string } } | undefined)?.error?.code);
    });
  }

  check(label: string, response: request.Response, expected: string, assertion: () => void): void {
    this.attempt(label, response, expected, assertion);
  }

  private attempt(label: string, response: request.Response, expected: string, assertion: () => void): void {
    try {
      assertion();
    } catch {
      this.problems.push(`${label}: expected ${expected}, got ${describeResponse(response)}`);
    }
  }
}

/** Runs the jobs with at most `concurrency` at a time. */
export async function inParallel(jobs: ReadonlyArray<() => Promise<void>>, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
}
