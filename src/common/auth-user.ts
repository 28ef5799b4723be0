import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from './access.decorator';
import type { RiderCategory } from '../fares/rider-category';

/** Who is calling, as the auth guard established it from a verified token. */
export interface AuthUser {
  /** Account id, or device id for devices. */
  id: string;
  role: Role;
  /** Set for devices (validators, inspectors' handsets): `id` is then a device id, not an account's. */
  device?: true;
  /** Passengers: the category fares use. */
  riderCategory?: RiderCategory;
  /** Passengers whose category ends (a concession's end, a birthday): when (epoch ms). */
  riderCategoryEndsAt?: number;
  /** Operator staff, inspectors and devices: the operator they belong to. */
  operatorId?: string;
  /** Validator devices: the line they serve, and for gates the station they stand in. */
  lineId?: string;
  stationId?: string;
}

/** The authenticated caller, or undefined on a public route called without a token. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): AuthUser | undefined => {
  return context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
});
