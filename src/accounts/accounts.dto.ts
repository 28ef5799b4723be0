import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsISO8601, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { RIDER_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import type { Role } from '../common/access.decorator';
import { ROLES } from '../common/access.decorator';
import { MayBeOmitted, PersonName } from '../common/dto-decorators';
import { normaliseEmail, WITHOUT_INVISIBLE_CHARACTERS } from './email';
import { PASSWORD_MAX_LENGTH } from './password-policy';

/** A calendar date, YYYY-MM-DD. */
export const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export class RegisterDto {
  @ApiProperty({ example: 'lan.nguyen@example.vn', description: 'Stored in Unicode NFKC, lower case; no invisible characters; refused when it looks like an existing account\'s' })
  // Checked in its stored form: "ａdmin@…" (full width) is checked, and refused if taken, as "admin@…".
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? normaliseEmail(value) : value))
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  @Matches(WITHOUT_INVISIBLE_CHARACTERS, { message: 'must not hold invisible, format or control characters' })
  email!: string;

  @ApiProperty({ example: 'tàu điện Cát Linh 2A', description: 'At least 12 characters; must not contain the email address' })
  @IsString()
  // The policy's own maximum is checked with a clear WEAK_PASSWORD; this only stops absurd bodies early.
  @MaxLength(PASSWORD_MAX_LENGTH * 4)
  password!: string;

  @ApiProperty({ example: 'Nguyễn Thị Lan' })
  @PersonName()
  fullName!: string;

  @ApiPropertyOptional({ example: '1990-05-17', description: 'Self-declared; grants no concession (a verified date comes with an approved claim)' })
  @MayBeOmitted()
  @Matches(DATE_ONLY, { message: 'must be a date, YYYY-MM-DD' })
  @IsISO8601({ strict: true }, { message: 'must be a real calendar date' })
  dateOfBirth?: string;
}

export class RegisteredDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'lan.nguyen@example.vn' }) email!: string;
  @ApiProperty({ enum: RIDER_CATEGORIES, example: 'adult' }) riderCategory!: RiderCategory;
}

export class LoginDto {
  @ApiProperty({ example: 'lan.nguyen@example.vn' })
  @IsString()
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH * 4)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token of the last login or refresh; it is spent by this call' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  // Refresh tokens are base64url: anything else names no session.
  @Matches(/^[A-Za-z0-9_-]+$/, { message: '$property is not a refresh token' })
  refreshToken!: string;
}

export class TokenPairDto {
  @ApiProperty({ description: 'JWT for Authorization: Bearer' }) accessToken!: string;
  @ApiProperty({ description: 'Opaque; exchange it once at POST /v1/auth/refresh' }) refreshToken!: string;
  @ApiProperty({ example: 900, description: 'Seconds until the access token expires' }) expiresIn!: number;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
}

export class ProfileDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() fullName!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiPropertyOptional({ example: 'hmc', description: "Operator staff: their operator" }) operatorId?: string;
  @ApiProperty({ enum: RIDER_CATEGORIES, description: 'The category fares use today' }) riderCategory!: RiderCategory;
  @ApiPropertyOptional({ example: '1950-03-01', description: 'From an approved concession claim' }) verifiedDateOfBirth?: string;
  @ApiProperty({ example: 0, description: 'Wallet balance in đồng' }) balance!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
}
