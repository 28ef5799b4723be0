import { Network1763800000000 } from './1763800000000-network';
import { Fares1763800001000 } from './1763800001000-fares';
import { Accounts1763800002000 } from './1763800002000-accounts';
import { Devices1763800003000 } from './1763800003000-devices';
import { Payments1763800010000 } from './1763800010000-payments';
import { Tickets1763800011000 } from './1763800011000-tickets';
import { Validation1763800020000 } from './1763800020000-validation';
import { Settlement1763800030000 } from './1763800030000-settlement';
import { TapBalance1763800040000 } from './1763800040000-tap-balance';
import { EmailSkeletons1763800050000 } from './1763800050000-email-skeletons';
import { RidersService1763800070000 } from './1763800070000-riders-service';
import { TapConflicts1763800080000 } from './1763800080000-tap-conflicts';
import { Media1763800110000 } from './1763800110000-media';
import { BankCards1763800130000 } from './1763800130000-bank-cards';
import { AuditEveryAction1763800140000 } from './1763800140000-audit-every-action';
import { JourneyTimedOutAt1763800141000 } from './1763800141000-journey-timed-out-at';
import { PenaltyPayments1763800142000 } from './1763800142000-penalty-payments';
import { LinkedBankCards1763800160000 } from './1763800160000-linked-bank-cards';
import { MediaCategoryFollowsAccount1763800170000 } from './1763800170000-media-category-follows-account';
import { MediaCounters1763800171000 } from './1763800171000-media-counters';
import { MediaPhoneKeys1763800172000 } from './1763800172000-media-phone-keys';
import { InspectorDevices1763800180000 } from './1763800180000-inspector-devices';

/** Every migration, in order. Listed explicitly so the same code runs from TypeScript and from dist/. */
export const MIGRATIONS = [Network1763800000000, Fares1763800001000, Accounts1763800002000, Devices1763800003000, Payments1763800010000, Tickets1763800011000, Validation1763800020000, Settlement1763800030000, TapBalance1763800040000, EmailSkeletons1763800050000, RidersService1763800070000, TapConflicts1763800080000, Media1763800110000, BankCards1763800130000, AuditEveryAction1763800140000, JourneyTimedOutAt1763800141000, PenaltyPayments1763800142000, LinkedBankCards1763800160000, MediaCategoryFollowsAccount1763800170000, MediaCounters1763800171000, MediaPhoneKeys1763800172000, InspectorDevices1763800180000];
