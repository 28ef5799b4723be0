import { DomainError } from '../common/domain-error';
import type { Acquirer, AcquirerEvent, Authorisation, SettlementLine } from './acquirer';

/** ACQUIRER=off: no acquirer. Charges wait; webhooks are refused. */
export class OffAcquirer implements Acquirer {
  readonly name = 'off';

  authorise(): Promise<Authorisation> {
    return Promise.reject(off());
  }

  capture(): Promise<{ acquirerReference: string }> {
    return Promise.reject(off());
  }

  refund(): Promise<{ acquirerReference: string }> {
    return Promise.reject(off());
  }

  verifyWebhook(): AcquirerEvent {
    throw new DomainError('unauthenticated', 'INVALID_SIGNATURE', 'No acquirer is configured: no webhook is taken');
  }

  settlementFile(): Promise<SettlementLine[]> {
    return Promise.resolve([]);
  }
}

function off(): DomainError {
  return new DomainError('conflict', 'ACQUIRER_OFF', 'No card acquirer is configured (ACQUIRER=off)');
}
