import { readFileSync } from 'node:fs';
import { OPENAPI_FILE, generateOpenApiJson } from '../../src/cli/openapi';
import { checkResponse } from '../support/openapi-responses';

type Operation = { operationId: string; summary?: string; security?: unknown[]; parameters?: Array<{ in: string }>; requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> };

describe('committed OpenAPI document', () => {
  const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as { info: { license?: { name: string } }; servers: unknown[]; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  const operations = Object.entries(committed.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, ...operation })));

  it('matches what the code generates (run `npm run openapi` after changing the API)', async () => {
    const generated = JSON.parse(await generateOpenApiJson());
    expect(generated).toEqual(committed);
  });

  it('says what every operation does, who may call it and how it fails', () => {
    expect(committed.info.license?.name).toBeTruthy();
    expect(committed.servers.length).toBeGreaterThan(0);
    const faults = operations.flatMap((operation) => {
      const problems: string[] = [];
      if (!operation.summary) problems.push('no summary');
      if (!Array.isArray(operation.security)) problems.push('no security (public operations say [])');
      if ((operation.security ?? []).length > 0 && !(operation.responses['401'] && operation.responses['403'])) problems.push('protected without 401/403');
      if (((operation.parameters ?? []).length > 0 || operation.requestBody) && !operation.responses['400']) problems.push('takes input without 400');
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 && response.content?.['application/json']?.schema?.$ref !== '#/components/schemas/ErrorResponse') problems.push(`${status} without the ErrorResponse schema`);
      }
      return problems.map((problem) => `${operation.name}: ${problem}`);
    });
    expect(faults).toEqual([]);
  });

  it('allows null only the way OpenAPI 3.0 allows it', () => {
    const faults: string[] = [];
    const walk = (schema: unknown, where: string) => {
      if (!schema || typeof schema !== 'object') return;
      const node = schema as { nullable?: boolean; enum?: unknown[]; allOf?: unknown[]; $ref?: string; type?: string };
      if (node.nullable && node.enum && !node.enum.includes(null)) faults.push(`${where}: nullable enum without null`);
      if (node.nullable && (node.allOf || node.$ref)) faults.push(`${where}: nullable beside allOf/$ref has no effect`);
      for (const [key, value] of Object.entries(node)) walk(value, `${where}/${key}`);
    };
    walk(committed.components.schemas, '#/components/schemas');
    expect(faults).toEqual([]);
  });

  // The e2e check (test/setup/openapi-responses.ts) is only as good as this function: it must refuse.
  it('refuses answers the document does not describe', () => {
    const json = (value: unknown) => Buffer.from(JSON.stringify(value));
    const error = { error: { code: 'NOT_FOUND', message: 'x', details: [] }, requestId: 'r' };
    expect(checkResponse('GET', '/v1/lines/metro-2a', 404, 'application/json', json(error))).toEqual([]);
    expect(checkResponse('GET', '/v1/lines/metro-2a', 404, 'application/json', json({ message: 'Not Found' }))).not.toEqual([]);
    expect(checkResponse('GET', '/v1/lines/metro-2a', 418, 'application/json', json(error))).toEqual(['status 418 is not documented for GET /v1/lines/{id}']);
    expect(checkResponse('GET', '/v1/products', 200, 'application/json', json([{ id: 'x' }]))).not.toEqual([]);
    expect(checkResponse('GET', '/v1/settlements/daily.csv', 200, 'application/json', json({}))).not.toEqual([]);
    expect(checkResponse('GET', '/v1/nowhere', 200, 'application/json', json({}))).toEqual(['200 answer to a path the document does not list']);
    // Errors to paths or methods the document does not list: any status, the error shape.
    expect(checkResponse('POST', '/v1/lines', 400, 'application/json', json(error))).toEqual([]);
    expect(checkResponse('POST', '/v1/lines', 413, 'application/json', json(error))).toEqual([]);
    expect(checkResponse('DELETE', '/v1/nowhere', 404, 'application/json', json({ message: 'Not Found' }))).not.toEqual([]);
  });
});
