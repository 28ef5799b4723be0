import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** An optional page size in a query: a whole number from 1 to `max`; the service applies `defaultValue` when absent. */
export function PageLimit(max = 100, defaultValue = 50): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ default: defaultValue, minimum: 1, maximum: max }), IsOptional(), Type(() => Number), IsInt(), Min(1), Max(max));
}
