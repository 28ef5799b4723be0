import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS } from '../payments/ledger';

/** Charges the fares of closed pay-as-you-go journeys to the wallet in the ledger. */
@Injectable()
export class FareCharger {
  constructor(private readonly ledger: Ledger) {}

  /**
   * The fare from the wallet to the scheme, as far as the wallet covers it (the ledger keeps wallets
   * at zero or above); what it cannot cover is returned and kept on the journey as owed.
   */
  async charge(em: EntityManager, accountId: string, journeyId: string, charge: number): Promise<number> {
    const { balance } = await this.ledger.walletBalance(em, accountId);
    const covered = Math.min(Math.max(balance, 0), charge);
    if (covered === 0) return charge;
    try {
      await this.ledger.transfer(em, { kind: 'fare', reference: journeyId, from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: covered });
      return charge - covered;
    } catch (error) {
      // A purchase spent the money between the two statements: owe it all rather than fail the batch.
      if (error instanceof DomainError && error.code === 'INSUFFICIENT_BALANCE') return charge;
      throw error;
    }
  }
}
