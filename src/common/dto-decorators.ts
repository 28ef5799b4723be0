import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, NotContains, ValidateIf } from 'class-validator';

/** An optional page size in a query: a whole number from 1 to `max`; the service applies `defaultValue` when absent. */
export function PageLimit(max = 100, defaultValue = 50): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ default: defaultValue, minimum: 1, maximum: max }), IsOptional(), Type(() => Number), IsInt(), Min(1), Max(max));
}

/**
 * A body field that may be left out; when sent, it must be valid. Unlike IsOptional, which lets
 * null through as if the field were absent, JSON null is refused: fields that take null say so.
 */
export function MayBeOmitted(): PropertyDecorator {
  return ValidateIf((_: object, value: unknown) => value !== undefined);
}

/** The ids of operators, lines, stations and products: lower-case letters, digits and dashes. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** An operator, line or station id in a query. */
export function IsId(): PropertyDecorator {
  return applyDecorators(IsString(), Matches(ID_PATTERN, { message: '$property must be an id: lower-case letters, digits and dashes (at most 64)' }));
}

const PERSON_NAME = /^[\p{L}\p{M}][\p{L}\p{M} .'’,-]*$/u;

/** A person's name: letters (any script, with their marks), spaces and . ' ’ , - — "Nguyễn Thị Ánh", "O'Brien"; no digits, markup or control characters. */
export function PersonName(maxLength = 200): PropertyDecorator {
  return applyDecorators(IsString(), MaxLength(maxLength), Matches(PERSON_NAME, { message: "$property must be a name: letters, spaces and . ' , - only" }));
}

const FREE_TEXT = /^[\p{L}\p{M}\p{N}\p{Zs}.,'’"“”()\-–—/:#&+!?%]+$/u;

/**
 * Words people type for other people (evidence, reasons, product names): letters, digits, spaces and
 * plain punctuation, which document numbers such as "123/QĐ-UBND" need. No markup, code, paths or
 * control characters: < > ; = { } $ \ and the like are refused, and so is "../"; nor a leading
 * = + - or @, which spreadsheets take for a formula.
 */
export function FreeText(maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MaxLength(maxLength),
    Matches(/\S/, { message: '$property must not be blank' }),
    Matches(FREE_TEXT, { message: '$property may hold letters, digits, spaces and . , \' " ( ) - / : # & + ! ? % only' }),
    // A spreadsheet opening an export would read such a cell as a formula (CSV injection).
    Matches(/^[^=+\-@\t\r]/, { message: '$property must not start with = + - @, a tab or a carriage return' }),
    NotContains('../', { message: '$property must not hold a path' }),
  );
}
