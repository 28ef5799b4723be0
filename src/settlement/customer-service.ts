import type { EntityManager } from 'typeorm';

/**
 * Money that moved for riders outside fares, on a local day: support adjustments, corrections of
 * maximum fares, and penalty fares paid. They are shown beside the fare statement and kept out of its
 * balance check (which proves the day's fare revenue is allocated to the đồng): each operator's
 * settlement adds its penalty revenue and deducts the corrections of its journeys and the
 * adjustments of its own support agents; those of unbound agents are the scheme's (operatorId null).
 */
export interface CustomerServiceFigures {
  /** Support adjustments made that day; positive: money to riders. */
  adjustments: Array<{ operatorId: string | null; reason: string; count: number; amount: number }>;
  /** Maximum fares lowered that day (automatic completions and claims), by the journey's operator. */
  journeyCorrections: Array<{ operatorId: string; kind: string; count: number; refunded: number }>;
  /** Penalty fares paid that day, by the operator whose inspector issued them. */
  penaltyRevenue: Array<{ operatorId: string; count: number; amount: number }>;
}

export const NO_CUSTOMER_SERVICE: CustomerServiceFigures = { adjustments: [], journeyCorrections: [], penaltyRevenue: [] };

/**
 * The day's figures: what happened from `start` to `end`, and what happened on the day before after it
 * was closed (`previousClosedAt`, when it was closed before it ended): its frozen statement could not
 * show it, so it lands on this day, as late fares do.
 */
export async function customerServiceFigures(em: EntityManager, start: Date, end: Date, previousClosedAt?: Date): Promise<CustomerServiceFigures> {
  // $1 to $2: the day; $3 to $1: the day before, after its close (empty when it closed after it ended, or is open).
  const range = [start, end, previousClosedAt ?? start];
  const adjustments = await em.query<Array<{ operatorId: string | null; reason: string; count: number; amount: string }>>(
    `SELECT operator_id AS "operatorId", reason_code AS reason, count(*)::int AS count, sum(amount) AS amount
       FROM support_adjustments WHERE (created_at >= $1 AND created_at < $2) OR (created_at >= $3 AND created_at < $1)
      GROUP BY operator_id, reason_code ORDER BY operator_id NULLS LAST, reason_code`,
    range,
  );
  const corrections = await em.query<Array<{ operatorId: string; kind: string; count: number; refunded: string }>>(
    `SELECT operator_id AS "operatorId", kind, count(*)::int AS count, sum(refunded) AS refunded
       FROM journey_corrections WHERE (created_at >= $1 AND created_at < $2) OR (created_at >= $3 AND created_at < $1) GROUP BY operator_id, kind ORDER BY operator_id, kind`,
    range,
  );
  const penalties = await em.query<Array<{ operatorId: string; count: number; amount: string }>>(
    `SELECT operator_id AS "operatorId", count(*)::int AS count, sum(amount) AS amount
       FROM penalties WHERE (paid_at >= $1 AND paid_at < $2) OR (paid_at >= $3 AND paid_at < $1) GROUP BY operator_id ORDER BY operator_id`,
    range,
  );
  return {
    adjustments: adjustments.map((row) => ({ ...row, amount: Number(row.amount) })),
    journeyCorrections: corrections.map((row) => ({ ...row, refunded: Number(row.refunded) })),
    penaltyRevenue: penalties.map((row) => ({ ...row, amount: Number(row.amount) })),
  };
}

/** One operator's part. */
export function customerServiceFor(figures: CustomerServiceFigures, operatorId: string): CustomerServiceFigures {
  return {
    adjustments: figures.adjustments.filter((row) => row.operatorId === operatorId),
    journeyCorrections: figures.journeyCorrections.filter((row) => row.operatorId === operatorId),
    penaltyRevenue: figures.penaltyRevenue.filter((row) => row.operatorId === operatorId),
  };
}
