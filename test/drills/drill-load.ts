/**
 * The fault drill's load: riders with wallets, tickets and a pay-as-you-go QR, and validators that
 * behave like real ones (a tap without an answer is kept offline and uploaded later with its own
 * time and tap id). Everything the drill saw is kept for the checks: every verdict, every order's
 * Idempotency-Key with the answers it got, every top-up.
 */
import { randomUUID } from 'node:crypto';

/** An answer from the service; status 0 when none came (refused connection, reset, timeout). */
export interface Answer {
  status: number;
  body: unknown;
}

/** Calls to the service; with several copies, shared out in turn between them, as a load balancer would. */
export class Api {
  private bases: string[];
  private next = 0;

  constructor(
    bases: string | readonly string[],
    private readonly timeoutMs: number,
  ) {
    this.bases = typeof bases === 'string' ? [bases] : [...bases];
  }

  /** The copies calls go to from now on (a copy that died leaves the rotation, its replacement joins it). */
  route(bases: readonly string[]): void {
    this.bases = [...bases];
  }

  async call(method: 'GET' | 'POST', path: string, options: { bearer?: string; body?: unknown; idempotencyKey?: string; timeoutMs?: number } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.bearer !== undefined) headers.authorization = options.bearer;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    try {
      const base = this.bases[this.next++ % this.bases.length];
      const response = await fetch(base + path, {
        method,
        headers,
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
      });
      const text = await response.text();
      let body: unknown = text;
      if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
      return { status: response.status, body };
    } catch {
      return { status: 0, body: undefined };
    }
  }

  /** The call, which must answer `status`; anything else is an error naming what came back. */
  async expect<T>(status: number, method: 'GET' | 'POST', path: string, options: Parameters<Api['call']>[2] = {}): Promise<T> {
    const answer = await this.call(method, path, options);
    if (answer.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as T;
  }
}

/** Named counters, with snapshots to show what one phase added. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }

  /** What was added since the snapshot, by name. */
  since(snapshot: Map<string, number>): Record<string, number> {
    const added: Record<string, number> = {};
    for (const [name, count] of [...this.counts].sort(([a], [b]) => a.localeCompare(b))) {
      const delta = count - (snapshot.get(name) ?? 0);
      if (delta !== 0) added[name] = delta;
    }
    return added;
  }

  all(): Record<string, number> {
    return this.since(new Map());
  }
}

export type SubjectKind = 'single' | 'pass' | 'payg';

/** Something a rider shows at the gate: a ticket, or the account's pay-as-you-go QR. */
export interface Subject {
  kind: SubjectKind;
  /** The ticket's id, or the account's. */
  id: string;
  qr: string;
  /** Single trips: the stations it was paid between. */
  originStationId?: string;
  destinationStationId?: string;
  lineId?: string;
  /** Where this subject last tried to enter: a PASSBACK refusal is answered by an exit there. */
  lastEntryLine?: string;
}

export interface Gate {
  /** Short, for tap ids. */
  label: string;
  deviceId: string;
  bearer: string;
  lineId: string;
  /** Gates stand in a station; a bus validator sends the stop with each tap. */
  stationId?: string;
  seq: number;
  /** Taps that got no answer (or a 5xx), oldest first, as the validator keeps them. */
  queue: OfflineTap[];
  uploading: boolean;
}

export interface OfflineTap {
  tapId: string;
  qr: string;
  /** A medium read by the validator instead of the QR (a bank card: `{kind: 'bank_card', token}`). */
  medium?: object;
  direction: 'entry' | 'exit';
  occurredAt: string;
  stationId?: string;
  subject: Subject;
}

export interface Verdict {
  verdict: 'accept' | 'reject';
  reason: string;
  valid?: boolean;
  fare?: number;
  balance?: number;
  journeyId?: string;
}

/** A verdict the drill saw, online or in a batch's results. */
export interface SeenTap {
  deviceId: string;
  tapId: string;
  subject: Subject;
  direction: 'entry' | 'exit';
  verdict: 'accept' | 'reject';
  reason: string;
  /** False for a tap accepted offline that would have been refused online. */
  valid: boolean;
  via: 'online' | 'batch';
}

export type TapOutcome = { kind: 'online'; verdict: Verdict } | { kind: 'offline' } | { kind: 'refused'; status: number };

/** Every tap the drill sent, and every verdict it saw. */
export class TapBook {
  readonly sent = new Map<string, { gate: Gate; tapId: string }>();
  readonly seen = new Map<string, SeenTap>();
  /** The same tap answered twice with different verdicts (a replay must repeat the first). */
  readonly changedOnReplay: string[] = [];

  static key(deviceId: string, tapId: string): string {
    return `${deviceId}|${tapId}`;
  }

  record(seen: SeenTap): void {
    const key = TapBook.key(seen.deviceId, seen.tapId);
    const before = this.seen.get(key);
    if (before && (before.verdict !== seen.verdict || before.reason !== seen.reason || before.valid !== seen.valid)) {
      this.changedOnReplay.push(`${key}: ${before.verdict}/${before.reason} then ${seen.verdict}/${seen.reason}`);
    }
    if (!before) this.seen.set(key, seen);
  }
}

/** An order as the rider's app keeps it: one Idempotency-Key for the intended purchase, every answer it got. */
export interface OrderAttempt {
  key: string;
  rider: Rider;
  body: { items: OrderItem[]; payWith: 'wallet' };
  /** Order ids in 201 answers: one, whatever the retries. */
  orderIds: Set<string>;
  outcome: 'pending' | 'paid' | 'refused';
  refusal?: string;
}

export interface OrderItem {
  productId: string;
  originStationId?: string;
  destinationStationId?: string;
}

export interface TopUpAttempt {
  key: string;
  rider: Rider;
  amount: number;
  paymentIds: Set<string>;
  completed: boolean;
}

type PendingCall = { type: 'order'; attempt: OrderAttempt } | { type: 'top-up'; attempt: TopUpAttempt } | { type: 'qr'; ticket: TicketBody };

export interface Rider {
  id: string;
  email: string;
  bearer: string;
  payg: Subject;
  singles: Subject[];
  usedSingles: Subject[];
  passes: Subject[];
  /** Calls that got no answer or a 5xx, retried the same way (same key) on the rider's next turn. */
  pending: PendingCall[];
  busy: boolean;
  /** Tops up little at a time: purchases and fares then run close to an empty wallet. */
  short: boolean;
}

export interface Line {
  id: string;
  stations: string[];
}

export interface TicketBody {
  id: string;
  kind: 'single' | 'pass';
  lineIds: string[] | null;
  originStationId?: string;
  destinationStationId?: string;
}

export interface LoadSettings {
  /** Rider actions started per second (a ride is two taps). */
  ratePerSecond: number;
  tapTimeoutMs: number;
}

/**
 * The riders, the gates and what they do. `start` runs actions at the set rate until `pause`;
 * `settle` retries what is pending and uploads what validators hold until nothing is left.
 */
export class Passengers {
  readonly book = new TapBook();
  readonly tally = new Tally();
  readonly orders: OrderAttempt[] = [];
  readonly topUps: TopUpAttempt[] = [];
  readonly doubleTapsBothAccepted: string[] = [];
  /** Tickets the drill bought that a gate called INVALID_QR (the gates never heard of them). */
  readonly unknownTickets = new Set<string>();
  /**
   * Pay-as-you-go accounts with a tap the validator got no answer for: the service may still have
   * applied it, late (a command queued while Redis was away), so that it is stored as online.
   */
  readonly accountsWithUnansweredTaps = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private ticker: NodeJS.Timeout | undefined;
  private uploader: NodeJS.Timeout | undefined;

  constructor(
    readonly api: Api,
    readonly riders: Rider[],
    /** Gates by line, two per station (for simultaneous taps of one ticket). */
    readonly gates: Map<string, Gate[]>,
    readonly lines: Map<string, Line>,
    private readonly settings: LoadSettings,
  ) {}

  start(): void {
    this.ticker = setInterval(() => this.startAction(), 1000 / this.settings.ratePerSecond);
    this.uploader = setInterval(() => this.uploadAll(), 1000);
  }

  /** Stops starting actions and waits for those under way. */
  async pause(): Promise<void> {
    clearInterval(this.ticker);
    clearInterval(this.uploader);
    this.ticker = this.uploader = undefined;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Retries pending calls and uploads offline queues until none are left; returns what is left at the deadline. */
  async settle(timeoutMs: number): Promise<{ pendingCalls: number; queuedTaps: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await Promise.all(this.riders.filter((rider) => rider.pending.length > 0).map((rider) => this.retryPending(rider)));
      for (const gates of this.gates.values()) {
        for (const gate of gates) {
          while (gate.queue.length > 0) if (!(await this.upload(gate))) break;
        }
      }
      const left = this.leftOver();
      if ((left.pendingCalls === 0 && left.queuedTaps === 0) || Date.now() > deadline) return left;
      await sleep(500);
    }
  }

  leftOver(): { pendingCalls: number; queuedTaps: number } {
    let pendingCalls = 0;
    let queuedTaps = 0;
    for (const rider of this.riders) pendingCalls += rider.pending.length;
    for (const gates of this.gates.values()) for (const gate of gates) queuedTaps += gate.queue.length;
    return { pendingCalls, queuedTaps };
  }

  private startAction(): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      const rider = pick(this.riders);
      if (rider.busy) continue;
      rider.busy = true;
      this.track(this.act(rider).finally(() => (rider.busy = false)));
      return;
    }
    this.tally.add('load.skipped (every rider picked was busy)');
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.tally.add(`unexpected.drill error: ${String(error)}`)).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private uploadAll(): void {
    for (const gates of this.gates.values()) for (const gate of gates) if (gate.queue.length > 0 && !gate.uploading) this.track(this.upload(gate).then(() => undefined));
  }

  /** One turn of a rider: first whatever failed before, then something new. */
  private async act(rider: Rider): Promise<void> {
    if (rider.pending.length > 0) return this.retryPending(rider);
    const roll = Math.random();
    if (roll < 0.06) {
      await this.topUp(rider, (rider.short ? 10_000 : 50_000) + 10_000 * Math.floor(Math.random() * (rider.short ? 3 : 6)));
      return;
    }
    if (roll < 0.2) return this.buy(rider, rider.singles.length >= 3 || (rider.passes.length === 0 && Math.random() < 0.4) ? 'pass' : 'single');
    if (roll < 0.28) return rider.singles.length > 0 ? this.doubleTap(rider) : this.buy(rider, 'single');
    if (roll < 0.31 && rider.usedSingles.length > 0) return this.retapUsedSingle(rider);
    const choice = Math.random();
    if (choice < 0.35 && rider.singles.length > 0) return this.rideSingle(rider);
    if (choice < 0.65 && rider.passes.length > 0) return this.rideAnywhere(pick(rider.passes));
    return this.rideAnywhere(rider.payg);
  }

  // ---- gates ------------------------------------------------------------------------------------

  /** One tap as a validator makes it: online, or kept offline when no answer (or a 5xx) comes. */
  async tap(gate: Gate, subject: Subject, direction: 'entry' | 'exit'): Promise<TapOutcome> {
    const tapId = `${gate.label}-${++gate.seq}`;
    const occurredAt = new Date().toISOString();
    this.book.sent.set(TapBook.key(gate.deviceId, tapId), { gate, tapId });
    this.tally.add('taps.sent');
    if (direction === 'entry') subject.lastEntryLine = gate.lineId;
    const body = { tapId, qr: subject.qr, direction };
    const answer = await this.api.call('POST', '/v1/validations', { bearer: gate.bearer, body, timeoutMs: this.settings.tapTimeoutMs });
    if (answer.status === 200) {
      const verdict = answer.body as Verdict;
      this.seen(gate, tapId, subject, direction, verdict, 'online');
      this.tally.add(`taps.online.${verdict.verdict}`);
      if (verdict.verdict === 'reject') this.tally.add(`taps.online.reject.${verdict.reason}`);
      return { kind: 'online', verdict };
    }
    if (answer.status === 0 || answer.status >= 500) {
      this.tally.add(answer.status === 0 ? 'taps.no answer' : `taps.http ${answer.status}`);
      this.tally.add('taps.kept offline');
      if (subject.kind === 'payg') this.accountsWithUnansweredTaps.add(subject.id);
      gate.queue.push({ tapId, qr: subject.qr, direction, occurredAt, subject });
      return { kind: 'offline' };
    }
    this.tally.add(`unexpected.tap answered ${answer.status}`);
    return { kind: 'refused', status: answer.status };
  }

  /** Uploads up to 500 of the gate's offline taps, as its validator does; true when the service took them. */
  async upload(gate: Gate): Promise<boolean> {
    if (gate.queue.length === 0 || gate.uploading) return false;
    gate.uploading = true;
    try {
      const taps = gate.queue.slice(0, 500);
      const results = await this.uploadBatch(gate, taps);
      if (results) gate.queue.splice(0, taps.length);
      return results !== undefined;
    } finally {
      gate.uploading = false;
    }
  }

  /** POST /v1/validations/batch with these taps; the results in order, or undefined when the service did not take them. */
  async uploadBatch(gate: Gate, taps: readonly OfflineTap[]): Promise<Array<Verdict & { tapId: string }> | undefined> {
    const body = {
      taps: taps.map(({ tapId, qr, medium, direction, occurredAt, stationId }) => ({ tapId, ...(medium ? { medium } : { qr }), direction, occurredAt, ...(stationId !== undefined && { stationId }) })),
    };
    const answer = await this.api.call('POST', '/v1/validations/batch', { bearer: gate.bearer, body, timeoutMs: 20_000 });
    if (answer.status !== 200) {
      this.tally.add(answer.status === 0 || answer.status >= 500 ? 'batches.failed (kept for later)' : `unexpected.batch answered ${answer.status}`);
      return undefined;
    }
    const results = (answer.body as { results: Array<Verdict & { tapId: string }> }).results;
    const byTapId = new Map(results.map((result) => [result.tapId, result]));
    for (const tap of taps) {
      const result = byTapId.get(tap.tapId);
      if (!result) {
        this.tally.add('unexpected.batch result missing a tap');
        continue;
      }
      this.seen(gate, tap.tapId, tap.subject, tap.direction, result, 'batch');
      this.tally.add(`taps.uploaded.${result.verdict}${result.valid === false ? ' (invalid)' : ''}`);
    }
    this.tally.add('batches.uploaded');
    return results;
  }

  private seen(gate: Gate, tapId: string, subject: Subject, direction: 'entry' | 'exit', verdict: Verdict, via: 'online' | 'batch'): void {
    const valid = verdict.valid ?? verdict.verdict === 'accept';
    this.book.record({ deviceId: gate.deviceId, tapId, subject, direction, verdict: verdict.verdict, reason: verdict.reason, valid, via });
    if (subject.kind !== 'payg' && verdict.reason === 'INVALID_QR') this.unknownTickets.add(subject.id);
  }

  // ---- rides ------------------------------------------------------------------------------------

  private gatesAt(lineId: string, stationId: string): Gate[] {
    return (this.gates.get(lineId) ?? []).filter((gate) => gate.stationId === stationId);
  }

  private async rideSingle(rider: Rider): Promise<void> {
    const ticket = rider.singles.shift()!;
    rider.usedSingles.push(ticket);
    await this.ride(ticket, pick(this.gatesAt(ticket.lineId!, ticket.originStationId!)), pick(this.gatesAt(ticket.lineId!, ticket.destinationStationId!)));
  }

  private async rideAnywhere(subject: Subject): Promise<void> {
    const line = pick([...this.gates.keys()]);
    const entry = pick(this.gates.get(line)!);
    const exit = pick(this.gates.get(line)!.filter((gate) => gate.stationId !== entry.stationId));
    await this.ride(subject, entry, exit);
  }

  /** Entry, a short ride, exit (or, refused with PASSBACK, the exit of the journey left open). */
  async ride(subject: Subject, entryGate: Gate, exitGate: Gate): Promise<void> {
    const previousLine = subject.lastEntryLine ?? entryGate.lineId;
    const entry = await this.tap(entryGate, subject, 'entry');
    if (entry.kind === 'refused') return;
    if (entry.kind === 'online' && entry.verdict.verdict === 'reject') {
      // Still inside from a journey whose exit was lost: leave on that line, as staff would let them.
      if (entry.verdict.reason === 'PASSBACK') await this.tap(pick(this.gates.get(previousLine) ?? [exitGate]), subject, 'exit');
      return;
    }
    await sleep(200 + Math.random() * 600);
    await this.tap(exitGate, subject, 'exit');
  }

  /** The same single trip at two gates of its station at once: at most one may let the rider in. */
  private async doubleTap(rider: Rider): Promise<void> {
    const ticket = rider.singles.shift()!;
    rider.usedSingles.push(ticket);
    const [first, second] = this.gatesAt(ticket.lineId!, ticket.originStationId!);
    this.tally.add('double taps');
    const outcomes = await Promise.all([this.tap(first, ticket, 'entry'), this.tap(second, ticket, 'entry')]);
    const online = outcomes.filter((outcome) => outcome.kind === 'online');
    const accepted = online.filter((outcome) => outcome.verdict.verdict === 'accept').length;
    if (online.length < 2) this.tally.add('double taps.inconclusive (a gate had no answer)');
    else this.tally.add(`double taps.${accepted} accepted`);
    if (accepted > 1) this.doubleTapsBothAccepted.push(ticket.id);
    if (accepted > 0 || online.length < 2) {
      await sleep(200 + Math.random() * 400);
      await this.tap(pick(this.gatesAt(ticket.lineId!, ticket.destinationStationId!)), ticket, 'exit');
    }
  }

  /** A used single trip shown again later: it must be refused. */
  private async retapUsedSingle(rider: Rider): Promise<void> {
    const ticket = pick(rider.usedSingles);
    this.tally.add('used single trips tapped again');
    await this.tap(pick(this.gatesAt(ticket.lineId!, ticket.originStationId!)), ticket, 'entry');
  }

  // ---- money ------------------------------------------------------------------------------------

  /** A single trip between two gate stations of a line, or a metro day pass. */
  private async buy(rider: Rider, kind: 'single' | 'pass'): Promise<void> {
    if (kind === 'pass') {
      await this.order(rider, { productId: 'metro-day' }, true);
      return;
    }
    const line = this.lines.get(pick([...this.gates.keys()]))!;
    const [origin, destination] = shuffled(line.stations);
    await this.order(rider, { productId: 'metro-single', originStationId: origin, destinationStationId: destination }, true);
  }

  /** An order from the wallet with a new Idempotency-Key; with `repeats`, sometimes sent twice on purpose. */
  async order(rider: Rider, item: OrderItem, repeats = false): Promise<OrderAttempt> {
    const attempt: OrderAttempt = { key: randomUUID(), rider, body: { items: [item], payWith: 'wallet' }, orderIds: new Set(), outcome: 'pending' };
    this.orders.push(attempt);
    this.tally.add('orders.keys');
    const roll = repeats ? Math.random() : 1;
    if (roll < 0.05) {
      // Two tabs, or a retry fired while the first is still in flight.
      this.tally.add('orders.sent twice at once');
      await Promise.all([this.sendOrder(attempt), this.sendOrder(attempt, true)]);
      return attempt;
    }
    await this.sendOrder(attempt);
    if (attempt.outcome === 'paid' && roll < 0.15) {
      // The app timed out just as the answer came: the same request again, same key.
      this.tally.add('orders.sent again after success');
      await this.sendOrder(attempt, true);
    }
    return attempt;
  }

  /** The same order again (same key, same body), as the app retries it. */
  async retryOrder(attempt: OrderAttempt): Promise<void> {
    this.tally.add('orders.retried after no answer or 5xx');
    await this.sendOrder(attempt);
  }

  private async sendOrder(attempt: OrderAttempt, duplicate = false): Promise<void> {
    const answer = await this.api.call('POST', '/v1/orders', { bearer: attempt.rider.bearer, body: attempt.body, idempotencyKey: attempt.key, timeoutMs: 10_000 });
    this.tally.add(`orders.answered ${answer.status}`);
    if (answer.status === 201) {
      const order = answer.body as { id: string; tickets: TicketBody[] };
      const fresh = !attempt.orderIds.has(order.id) && attempt.outcome !== 'paid';
      attempt.orderIds.add(order.id);
      attempt.outcome = 'paid';
      if (fresh) for (const ticket of order.tickets) await this.fetchTicketQr(attempt.rider, ticket);
      return;
    }
    if (answer.status === 409 && errorCode(answer) === 'INSUFFICIENT_BALANCE') {
      attempt.outcome = 'refused';
      attempt.refusal = 'INSUFFICIENT_BALANCE';
      this.tally.add('orders.refused INSUFFICIENT_BALANCE');
      return;
    }
    if (answer.status === 0 || answer.status >= 500) {
      if (!duplicate && attempt.outcome === 'pending' && !attempt.rider.pending.some((call) => call.type === 'order' && call.attempt === attempt)) {
        attempt.rider.pending.push({ type: 'order', attempt });
      }
      return;
    }
    this.tally.add(`unexpected.order answered ${answer.status} ${errorCode(answer)}`);
    if (attempt.outcome === 'pending') {
      attempt.outcome = 'refused';
      attempt.refusal = `${answer.status} ${errorCode(answer)}`;
    }
  }

  /** The ticket's QR as text, kept by the rider's app (retried later when the service does not answer). */
  async fetchTicketQr(rider: Rider, ticket: TicketBody): Promise<void> {
    const answer = await this.api.call('GET', `/v1/tickets/${ticket.id}/qr?format=text`, { bearer: rider.bearer });
    if (answer.status !== 200) {
      this.tally.add(`tickets.qr answered ${answer.status} (retried later)`);
      rider.pending.push({ type: 'qr', ticket });
      return;
    }
    const subject: Subject = { kind: ticket.kind, id: ticket.id, qr: answer.body as string };
    if (ticket.kind === 'single') {
      subject.originStationId = ticket.originStationId;
      subject.destinationStationId = ticket.destinationStationId;
      subject.lineId = [...this.lines.values()].find((line) => line.stations.includes(ticket.originStationId!))?.id;
      rider.singles.push(subject);
    } else {
      rider.passes.push(subject);
    }
  }

  /** A wallet top-up through the development gateway: the payment (with its key), then the payer completes it. */
  async topUp(rider: Rider, amount: number): Promise<TopUpAttempt> {
    const attempt: TopUpAttempt = { key: randomUUID(), rider, amount, paymentIds: new Set(), completed: false };
    this.topUps.push(attempt);
    this.tally.add('top-ups.keys');
    await this.sendTopUp(attempt);
    return attempt;
  }

  private async sendTopUp(attempt: TopUpAttempt): Promise<void> {
    if (attempt.paymentIds.size === 0) {
      const answer = await this.api.call('POST', '/v1/wallet/top-ups', { bearer: attempt.rider.bearer, body: { amount: attempt.amount }, idempotencyKey: attempt.key });
      this.tally.add(`top-ups.answered ${answer.status}`);
      if (answer.status !== 201) return this.topUpFailed(attempt, answer);
      attempt.paymentIds.add((answer.body as { id: string }).id);
    }
    const paymentId = [...attempt.paymentIds][0];
    const complete = () => this.api.call('POST', `/v1/payments/sandbox/${paymentId}/complete`, { body: {} });
    let completed: Answer;
    if (Math.random() < 0.05) {
      // The gateway's callback and its retry arrive together: one may apply, the other must change nothing.
      this.tally.add('top-ups.webhook twice at once');
      const answers = await Promise.all([complete(), complete()]);
      completed = answers.find((answer) => (answer.body as { webhookStatus?: number } | undefined)?.webhookStatus === 200) ?? answers[0];
    } else {
      completed = await complete();
    }
    const webhook = completed.body as { webhookStatus?: number; webhookResponse?: { status?: string } } | undefined;
    if (completed.status !== 200 || webhook?.webhookStatus !== 200) {
      this.tally.add(`top-ups.gateway answered ${completed.status}/${webhook?.webhookStatus ?? '-'}`);
      return this.topUpFailed(attempt, { status: completed.status === 200 ? (webhook?.webhookStatus ?? 0) : completed.status, body: webhook?.webhookResponse });
    }
    if (webhook.webhookResponse?.status !== 'succeeded') this.tally.add(`unexpected.top-up payment ${webhook.webhookResponse?.status}`);
    attempt.completed = true;
    this.tally.add('top-ups.completed');
    if (Math.random() < 0.1) {
      // The gateway calls the webhook again (it never heard our first answer): nothing may change.
      this.tally.add('top-ups.webhook repeated');
      await complete();
    }
  }

  private topUpFailed(attempt: TopUpAttempt, answer: Answer): void {
    if (answer.status === 0 || answer.status >= 500) {
      if (!attempt.rider.pending.some((call) => call.type === 'top-up' && call.attempt === attempt)) attempt.rider.pending.push({ type: 'top-up', attempt });
      return;
    }
    this.tally.add(`unexpected.top-up answered ${answer.status} ${errorCode(answer)}`);
  }

  private async retryPending(rider: Rider): Promise<void> {
    const calls = rider.pending.splice(0);
    for (const call of calls) {
      switch (call.type) {
        case 'order':
          await this.retryOrder(call.attempt);
          break;
        case 'top-up':
          this.tally.add('top-ups.retried after no answer or 5xx');
          await this.sendTopUp(call.attempt);
          break;
        case 'qr':
          await this.fetchTicketQr(rider, call.ticket);
          break;
      }
    }
  }
}

export function errorCode(answer: Answer): string {
  return (answer.body as { error?: { code?: string } } | undefined)?.error?.code ?? '';
}

export function pick<T>(items: readonly T[]): T {
  if (items.length === 0) throw new Error('nothing to pick from');
  return items[Math.floor(Math.random() * items.length)];
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
