import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, ErrorDetail } from './domain-error';

/**
 * Global validation: unknown fields are rejected, values are converted to the DTO's types,
 * and every problem is reported as a detail under VALIDATION_FAILED.
 */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors: ValidationError[]) =>
      new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', flattenValidationErrors(errors)),
  });
}

/**
 * Also refuses the NUL character in any body, query or path value, before anything reads it: no
 * field has a use for it, and Postgres text cannot hold it (it would end as a 500).
 */
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const field = nulCharacterAt(value, metadata.type === 'body' ? '' : (metadata.data ?? ''));
      if (field !== undefined) {
        throw new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', [{ field: field || 'body', problem: 'must not contain the NUL character' }]);
      }
    }
    return super.transform(value, metadata);
  }
}

/** The path of the first string (or key) holding U+0000 in a parsed JSON value or query, if any. */
export function nulCharacterAt(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key in value) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    const found = nulCharacterAt((value as Record<string, unknown>)[key], at);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function flattenValidationErrors(errors: ValidationError[], parent = ''): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const problem of Object.values(error.constraints ?? {})) {
      details.push({ field, problem });
    }
    if (error.children?.length) details.push(...flattenValidationErrors(error.children, field));
  }
  return details;
}
