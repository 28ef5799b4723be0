import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, ErrorDetail } from './domain-error';

/**
 * Global validation: unknown fields are rejected, values are converted to the DTO's types,
 * and every problem is reported as a detail under VALIDATION_FAILED.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
