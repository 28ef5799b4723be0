import 'reflect-metadata';
import type { ArgumentMetadata } from '@nestjs/common';
import { IsBoolean, IsString } from 'class-validator';
import { FreeText, IsId, MayBeOmitted, PersonName } from './dto-decorators';
import { createValidationPipe, nulCharacterAt } from './validation.pipe';

class SampleDto {
  @PersonName() fullName!: string;
  @MayBeOmitted() @FreeText(100) reason?: string;
  @MayBeOmitted() @IsId() operatorId?: string;
  @MayBeOmitted() @IsBoolean() notify?: boolean;
}

class TapLike {
  @IsString() qr!: string;
}

const body = (metatype: new () => object): ArgumentMetadata => ({ type: 'body', metatype });
const problems = async (value: unknown, metadata: ArgumentMetadata = body(SampleDto)): Promise<string[]> => {
  try {
    await createValidationPipe().transform(value, metadata);
    return [];
  } catch (error) {
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    return [...new Set((error as { details: Array<{ field: string }> }).details.map((detail) => detail.field))];
  }
};

describe('the global validation pipe', () => {
  it('accepts names and free text people write, in any script', async () => {
    for (const fullName of ["Nguyễn Thị Ánh", "O'Brien", 'Trần Văn A', 'Mary-Jane O’Neil, Jr.', 'Nguyễn'.normalize('NFD')]) {
      expect(await problems({ fullName })).toEqual([]);
    }
    for (const reason of ['Quyết định số 1234/QĐ-UBND, ngày 01/06/2021', 'Thẻ sinh viên (hết hạn): 50% giá vé!', 'CCCD 001050012345']) {
      expect(await problems({ fullName: 'A', reason })).toEqual([]);
    }
  });

  it('refuses markup, SQL, paths and control characters in names and free text', async () => {
    for (const fragment of ["' OR '1'='1", "'; DROP TABLE accounts; --", '<script>alert(1)</script>', '../../etc/passwd', '{"$gt":""}', 'tab\there', 'Lan 2', ' ']) {
      expect(await problems({ fullName: fragment })).toEqual(['fullName']);
    }
    for (const fragment of ["' OR '1'='1", "'; DROP TABLE accounts; --", '<script>alert(1)</script>', '../../etc/passwd', '{"$gt":""}', 'line\nbreak', '   ']) {
      expect(await problems({ fullName: 'A', reason: fragment })).toEqual(['reason']);
    }
  });

  it('takes ids in lower-case letters, digits and dashes only', async () => {
    expect(await problems({ fullName: 'A', operatorId: 'hmc' })).toEqual([]);
    expect(await problems({ fullName: 'A', operatorId: "hmc' OR '1'='1" })).toEqual(['operatorId']);
    expect(await problems({ fullName: 'A', operatorId: 'HMC' })).toEqual(['operatorId']);
  });

  it('lets an optional field be left out, but not be null', async () => {
    expect(await problems({ fullName: 'A' })).toEqual([]);
    expect(await problems({ fullName: 'A', reason: null, operatorId: null, notify: null })).toEqual(['reason', 'operatorId', 'notify']);
  });

  it('refuses the NUL character in any body, query or path value, even where no DTO checks it', async () => {
    expect(await problems({ fullName: 'A', reason: 'a\u0000b' })).toEqual(['reason']);
    expect(await problems({ qr: 'x\u0000' }, body(TapLike))).toEqual(['qr']);
    expect(await problems({ taps: [{ qr: 'ok' }, { qr: 'x\u0000' }] }, { type: 'body', metatype: Object })).toEqual(['taps.1.qr']);
    expect(await problems('2a-cat-linh\u0000', { type: 'param', data: 'id', metatype: String })).toEqual(['id']);
    expect(await problems({ operatorId: '\u0000' }, { type: 'query', metatype: Object })).toEqual(['operatorId']);
  });

  it('finds a NUL character in keys too, and nowhere else', () => {
    expect(nulCharacterAt({ 'a\u0000': 1 })).toBe('a\u0000');
    expect(nulCharacterAt({ a: [1, true, null, { b: 'fine' }] })).toBeUndefined();
    expect(nulCharacterAt('\u0000', 'id')).toBe('id');
  });
});
