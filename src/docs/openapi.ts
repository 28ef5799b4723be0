import type { INestApplication } from '@nestjs/common';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { DECORATORS, DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ACCESS_METADATA, type AccessRule } from '../common/access.decorator';
import { gateRouteDocs, GATE_ROUTE_ACCESS } from '../validation/gate.route';
import { TapDto, TapVerdictDto } from '../validation/validation.dto';
import { OPERATION_ERRORS, OPERATION_SUMMARIES } from './summaries';

export const ERROR_SCHEMA = 'ErrorResponse';
const ERROR_REF = `#/components/schemas/${ERROR_SCHEMA}`;

/** The contract's one error shape (src/common/error-response.ts), as a schema. */
const ERROR_RESPONSE_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Every 4xx and 5xx answer: a stable code, a message for people, and the request id to quote',
  required: ['error', 'requestId'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', example: 'VALIDATION_FAILED', description: 'Stable; clients branch on it' },
        message: { type: 'string' },
        details: {
          type: 'array',
          description: 'What was wrong, field by field, when that helps',
          items: { type: 'object', additionalProperties: true, properties: { field: { type: 'string' }, problem: { type: 'string' } } },
        },
      },
    },
    requestId: { type: 'string', description: 'The x-request-id header of the answer' },
  },
};

/** Error answers every operation can give, whatever it does. */
const COMMON_ERRORS: Record<string, string> = {
  '500': 'INTERNAL_ERROR: a fault of ours; quote the request id',
  '503': 'SERVICE_UNAVAILABLE: Postgres or Redis cannot be reached just now; retry shortly',
};
const INPUT_ERROR = 'VALIDATION_FAILED (or BAD_REQUEST, MALFORMED_JSON): a parameter or the body is not valid; details name the field';
const NOT_FOUND_ERROR = 'NOT_FOUND: nothing of that id (or not the caller\'s)';
const BODY_ERRORS: Record<string, string> = {
  '413': 'PAYLOAD_TOO_LARGE: the body is over the size limit',
  '415': 'UNSUPPORTED_MEDIA_TYPE: bodies are application/json',
};
const AUTH_ERRORS: Record<string, string> = {
  '401': 'UNAUTHENTICATED, TOKEN_INVALID or TOKEN_EXPIRED: no valid bearer token',
  '403': 'FORBIDDEN: the caller does not hold a role this operation allows',
};

/**
 * The OpenAPI document: generated from the controllers and DTOs, plus the gate route's entry (it has
 * no controller), then completed from route metadata so that every route, including ones added
 * later, says the same things the same way (see `completeDocument`).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Liên Thông API')
    .setDescription('Account-based, interoperable ticketing for Hà Nội public transport (contract v1). Every error answer has the ErrorResponse shape.')
    .setVersion('1')
    .addServer('/', 'This service (same origin as the document)')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [TapDto, TapVerdictDto] });
  const info = { ...document.info, license: { name: 'Proprietary: all rights reserved (package.json "UNLICENSED")' } };
  return completeDocument({ ...document, info, paths: { ...document.paths, ...gateRouteDocs() } }, accessRules(app));
}

/**
 * Every handler's access rule (Public or Roles) by the operation id Nest's generator gives it
 * (`Controller_method`, or the one an `@ApiOperation({ operationId })` sets). Read from the same
 * metadata the access guard reads.
 */
export function accessRules(app: INestApplication): Map<string, AccessRule> {
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const rules = new Map<string, AccessRule>([['ValidationController_validate', { public: false, roles: GATE_ROUTE_ACCESS.roles }]]);
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, (...args: unknown[]) => unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const rule = reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [prototype[name], controller]);
        const operation = reflector.get<{ operationId?: string } | undefined>(DECORATORS.API_OPERATION, prototype[name]);
        if (rule) rules.set(operation?.operationId ?? `${controller.name}_${name}`, rule);
      }
    }
  }
  return rules;
}

/**
 * What the generator cannot know per route, applied to every operation:
 * - the error schema (one component) on every 4xx/5xx answer, and the answers every route can give:
 *   400 when it takes parameters or a body, 404 with a path parameter, 413/415 with a body,
 *   those src/docs/summaries.ts lists for it, 401/403 when it is protected,
 *   500 and 503 always;
 * - `security: []` on public operations, the bearer scheme on protected ones;
 * - a summary (src/docs/summaries.ts, or one made from the handler's name);
 * - OpenAPI 3.0 nullability: `nullable` only widens a `type` in the same schema, so a nullable enum
 *   lists null and a nullable `$ref` is written out in place.
 */
export function completeDocument(document: OpenAPIObject, rules: ReadonlyMap<string, AccessRule>): OpenAPIObject {
  const schemas = { ...(document.components?.schemas ?? {}), [ERROR_SCHEMA]: ERROR_RESPONSE_SCHEMA } as Record<string, SchemaObject>;
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = fixNullability(schema, schemas);
  for (const methods of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = methods[method];
      if (operation) completeOperation(operation, operation.operationId ? rules.get(operation.operationId) : undefined);
    }
  }
  return { ...document, components: { ...document.components, schemas } };
}

function completeOperation(operation: OperationObject, rule: AccessRule | undefined): void {
  const id = operation.operationId ?? '';
  // `@ApiOperation` leaves an empty summary when it only sets the operation id.
  if (!operation.summary) operation.summary = OPERATION_SUMMARIES[id] ?? summaryFromName(id);
  const responses = operation.responses as Record<string, ResponseObject>;
  const add = (errors: Record<string, string>) => {
    for (const [status, description] of Object.entries(errors)) responses[status] ??= { description };
  };
  const takesInput = (operation.parameters ?? []).length > 0 || operation.requestBody !== undefined;
  if (takesInput) add({ '400': INPUT_ERROR });
  if ((operation.parameters ?? []).some((parameter) => 'in' in parameter && parameter.in === 'path')) add({ '404': NOT_FOUND_ERROR });
  add(OPERATION_ERRORS[id] ?? {});
  if (operation.requestBody !== undefined) add(BODY_ERRORS);
  if (rule?.public === true) {
    operation.security = [];
  } else if (rule?.public === false || (operation.security ?? []).length > 0) {
    operation.security = [{ bearer: [] }];
    add(rule && !rule.public ? { ...AUTH_ERRORS, '403': `FORBIDDEN: only ${rule.roles.join(', ')} callers may call it` } : AUTH_ERRORS);
  }
  add(COMMON_ERRORS);
  for (const [status, response] of Object.entries(responses)) {
    if (Number(status) >= 400) {
      response.content = { 'application/json': { schema: { $ref: ERROR_REF } } };
    }
  }
  operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/** "FaresController_listProducts" → "List products". */
function summaryFromName(operationId: string): string {
  const name = operationId.split('_').pop() ?? operationId;
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fixNullability(schema: SchemaObject, schemas: Record<string, SchemaObject>): SchemaObject {
  const fixed: SchemaObject = { ...schema };
  if (fixed.nullable === true && Array.isArray(fixed.enum) && !fixed.enum.includes(null)) fixed.enum = [...(fixed.enum as unknown[]), null];
  if (fixed.nullable === true && fixed.allOf?.length === 1 && '$ref' in fixed.allOf[0]) {
    const target = schemas[fixed.allOf[0].$ref.split('/').pop() ?? ''];
    if (target) {
      const rest: SchemaObject = { ...fixed };
      delete rest.allOf;
      return fixNullability({ ...target, ...rest, nullable: true }, schemas);
    }
  }
  if (fixed.properties) {
    fixed.properties = Object.fromEntries(
      Object.entries(fixed.properties).map(([key, value]) => [key, '$ref' in value ? value : fixNullability(value, schemas)]),
    );
  }
  if (fixed.items && !('$ref' in fixed.items)) fixed.items = fixNullability(fixed.items, schemas);
  return fixed;
}

/** GET /docs (Swagger UI) and GET /docs-json. */
export function setUpDocs(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
