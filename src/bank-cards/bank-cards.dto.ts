import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { IsId, MayBeOmitted } from '../common/dto-decorators';
import { RECONCILIATION_CODES, type ReconciliationCode } from './card-reconciliation';

export class DebtDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The card: an HMAC of its token, never the token' }) cardId!: string;
  @ApiProperty({ example: 'Bank card 3F2A' }) label!: string;
  @ApiProperty({ example: '2026-12-07', description: 'The local day of the journeys charged' }) day!: string;
  @ApiProperty({ example: 24_000 }) amount!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ enum: ['unpaid', 'paid'] }) status!: 'unpaid' | 'paid';
  @ApiProperty({ example: 'insufficient_funds' }) declineCode!: string;
  @ApiProperty({ format: 'date-time', description: 'When the charge was first declined' }) declinedAt!: string;
  @ApiProperty({ description: 'Authorisations asked so far' }) attempts!: number;
  @ApiProperty({ description: 'Scheduled retries made so far' }) retries!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'The next scheduled retry; absent once the schedule is spent' }) nextRetryAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) paidAt?: string;
}

export class BankCardDto {
  @ApiProperty({ description: 'The card id: an HMAC of its token' }) id!: string;
  @ApiProperty({ enum: ['bank_card'] }) kind!: 'bank_card';
  @ApiProperty({ enum: ['active', 'blocked'], description: 'blocked: on the deny list for an unpaid charge' }) status!: 'active' | 'blocked';
  @ApiProperty({ example: 'Bank card 3F2A' }) label!: string;
  @ApiProperty({ format: 'date-time', description: 'When it was linked to the account' }) createdAt!: string;
}

export class ChargeRunDto {
  @ApiProperty({ description: 'Charges gathered from journeys by this run' }) created!: number;
  @ApiProperty({ description: 'Charges captured by this run' }) captured!: number;
  @ApiProperty({ description: 'Charges declined by this run' }) declined!: number;
}

export class AcquirerWebhookResultDto {
  @ApiProperty({ description: 'False when the event repeated an answer already applied: nothing changed' }) applied!: boolean;
}

export class ChargeRunRequestDto {
  @ApiPropertyOptional({ description: "Only this card's charges (its id, an HMAC of its token); absent: every card", example: '3f2a9c0e5b7d41e6a8c2f0d9b1e4a7c3' })
  @MayBeOmitted()
  @Matches(/^[0-9a-f]{32}$/, { message: 'must be a card id (32 hex digits)' })
  cardId?: string;
}

export class CardReconciliationQuery {
  @ApiProperty({ example: '2026-12-07', description: 'The local day (Asia/Ho_Chi_Minh)' })
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be a local date YYYY-MM-DD' })
  date!: string;

  @ApiPropertyOptional({ example: 'hmc', description: 'Operator staff: only their own (the default). Admins: any; none for the whole scheme' })
  @MayBeOmitted()
  @IsId()
  operatorId?: string;
}

export class ReconciliationMismatchDto {
  @ApiProperty({
    enum: RECONCILIATION_CODES,
    description:
      'TAP_WITHOUT_JOURNEY (an accepted card exit whose journey the record does not hold closed), JOURNEY_WITHOUT_TAP (a journey closed by an exit the taps lack), TAP_FARE_MISMATCH, JOURNEY_NOT_CHARGED (a priced journey in no charge), JOURNEY_AMOUNT_MISMATCH (in a charge at another amount), CHARGE_AMOUNT_MISMATCH (a charge not the sum of its journeys), CAPTURE_NOT_IN_FILE (captured by us that day, absent from the acquirer\'s file), FILE_AMOUNT_MISMATCH, FILE_REFERENCE_MISMATCH, FILE_LINE_UNKNOWN (a line of the file naming no capture of ours that day)',
  })
  code!: ReconciliationCode;
  @ApiPropertyOptional({ format: 'uuid' }) journeyId?: string;
  @ApiPropertyOptional({ description: 'Our reference: the charge id (or what a file line names)' }) chargeId?: string;
  @ApiPropertyOptional({ description: 'The card id (an HMAC of its token)' }) cardId?: string;
  @ApiPropertyOptional() deviceId?: string;
  @ApiPropertyOptional() tapId?: string;
  @ApiPropertyOptional() acquirerReference?: string;
  @ApiPropertyOptional({ description: 'đồng: what the other side says it should be' }) expected?: number;
  @ApiPropertyOptional({ description: 'đồng: what this side holds' }) found?: number;
  @ApiPropertyOptional() detail?: string;
}

class ReconciliationTapsDto {
  @ApiProperty({ description: "Accepted exit taps of the day's priced card journeys" }) exits!: number;
  @ApiProperty({ description: 'What those exits charged' }) charged!: number;
  @ApiProperty({ description: 'Journeys closed at the maximum fare without an exit (no tap)' }) timedOutJourneys!: number;
  @ApiProperty() timedOutCharged!: number;
}

class ReconciliationJourneysDto {
  @ApiProperty({ description: 'Priced card journeys entered that day' }) count!: number;
  @ApiProperty({ description: 'Their fares: exits charged + timed out charged when the taps agree' }) fares!: number;
  @ApiProperty({ description: 'Of those fares, the amounts in charges' }) inCharges!: number;
}

class ReconciliationChargesDto {
  @ApiProperty({ description: "Charges of the day's journeys" }) count!: number;
  @ApiProperty() amount!: number;
  @ApiProperty() captured!: number;
  @ApiProperty({ description: 'Declined and not paid yet' }) declined!: number;
  @ApiProperty({ description: 'Pending or in flight' }) open!: number;
}

class ReconciliationSettlementDto {
  @ApiProperty({ description: 'Charges we captured that day (of any day\'s journeys)' }) captures!: number;
  @ApiProperty() captured!: number;
  @ApiProperty({ description: "Lines of the acquirer's settlement file of the day" }) fileLines!: number;
  @ApiProperty({ description: 'What the file says the acquirer paid out (refunds negative)' }) fileTotal!: number;
}

export class CardReconciliationDto {
  @ApiProperty({ example: '2026-12-07' }) date!: string;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ nullable: true, type: String, description: 'null: the whole scheme' }) operatorId!: string | null;
  @ApiProperty({ example: 'dev', description: 'The acquirer whose settlement file was read' }) acquirer!: string;
  @ApiProperty({ type: ReconciliationTapsDto }) taps!: ReconciliationTapsDto;
  @ApiProperty({ type: ReconciliationJourneysDto }) journeys!: ReconciliationJourneysDto;
  @ApiProperty({ type: ReconciliationChargesDto }) charges!: ReconciliationChargesDto;
  @ApiProperty({ type: ReconciliationSettlementDto }) settlement!: ReconciliationSettlementDto;
  @ApiProperty({ type: [ReconciliationMismatchDto], description: 'Every disagreement between taps, journeys, charges and the file' }) mismatches!: ReconciliationMismatchDto[];
  @ApiProperty({ description: 'No mismatch: taps, charges and the file agree to the đồng' }) balanced!: boolean;
}
