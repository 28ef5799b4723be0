import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { TAP_EVENT_STREAM_FIELD, type TapEvent } from '../gate-state/gate-state';
import { RedisService, type RedisClient } from '../redis/redis.service';
import { TapRecorder } from './tap-recorder';

export type { TapEvent } from '../gate-state/gate-state';

interface StreamEntry {
  id: string;
  message: Record<string, string>;
}

/** The event a stream entry carries, as JSON in its one field. */
export function tapEventOf(message: Record<string, string>): TapEvent {
  const event = message[TAP_EVENT_STREAM_FIELD];
  if (event === undefined) throw new Error(`a stream entry without a tap event: ${JSON.stringify(message)}`);
  return JSON.parse(event) as TapEvent;
}

const READ_BLOCK_MS = 500;
const TRIM_EVERY_MS = 10_000;
const BATCH_GATHER_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * The tap stream's consumer: moves taps from the Redis stream to Postgres through a consumer group,
 * a batch at a time (written by TapRecorder in one transaction, idempotent on (device, tap id) and
 * on the journey's state), acknowledged only after the commit. While Postgres is down the entries stay pending and are retried; entries a dead
 * consumer left pending are claimed after `claimIdleSeconds`.
 */
@Injectable()
export class TapPersister implements OnModuleDestroy {
  private readonly logger = new Logger(TapPersister.name);
  /** Unique per instance: two copies must never share a consumer (one would ack what the other holds). */
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private client: RedisClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly recorder: TapRecorder,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts the loop (TapPersisterRunner decides where: see tap-persister.runner.ts). */
  async start(): Promise<void> {
    this.client = this.redis.client.duplicate();
    this.client.on('error', () => undefined);
    await this.client.connect();
    await this.ensureGroup();
    this.running = true;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.client?.isOpen) await this.client.close();
  }

  /** The consumer group, created with the stream; again if Redis lost both. */
  private async ensureGroup(): Promise<void> {
    await this.client!.xGroupCreate(this.config.gate.streamKey, this.config.gate.consumerGroup, '0', { MKSTREAM: true }).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    });
  }

  /** Writes what the stream holds now and returns how many entries it acknowledged (tests, tools). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      // Claimed entries join our own pending ones: read them once.
      const claimed = await this.claimed();
      const entries = claimed.length > 0 ? claimed : [...(await this.read('0')), ...(await this.read('>'))];
      if (entries.length === 0) return total;
      await this.persistAndAck(entries);
      total += entries.length;
    }
  }

  private async run(): Promise<void> {
    let backoff = 0;
    let lastClaim = 0;
    let lastTrim = 0;
    while (this.running) {
      try {
        if (Date.now() - lastTrim > TRIM_EVERY_MS) {
          lastTrim = Date.now();
          await this.trim();
        }
        // Our own pending entries first (a batch that failed), then entries a dead consumer left, then new ones.
        let entries = await this.read('0');
        if (entries.length === 0 && Date.now() - lastClaim > (this.config.gate.claimIdleSeconds * 1000) / 2) {
          lastClaim = Date.now();
          entries = await this.claimed();
        }
        if (entries.length === 0) entries = await this.read('>', READ_BLOCK_MS);
        if (entries.length > 0) await this.persistAndAck(entries);
        backoff = 0;
        // A short batch means the stream has caught up: let taps gather rather than commit a few at a time
        // (fewer transactions, less CPU taken from the gate path on the same machine).
        if (entries.length < this.config.gate.persistBatchSize) await delay(BATCH_GATHER_MS);
      } catch (error) {
        if (!this.running) return;
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2 || 100);
        this.logger.warn({ err: error }, `writing taps to Postgres failed; they wait in the stream, retrying in ${backoff} ms`);
        await delay(backoff);
      }
    }
  }

  /**
   * Drops the entries every consumer has acknowledged: those before the oldest pending one, or
   * before the last delivered one when nothing is pending. Unwritten taps are never trimmed.
   */
  private async trim(): Promise<void> {
    const { streamKey, consumerGroup } = this.config.gate;
    const [pending, groups] = await Promise.all([this.client!.xPending(streamKey, consumerGroup), this.client!.xInfoGroups(streamKey)]);
    const group = groups.find((candidate) => candidate.name === consumerGroup);
    const keepFrom = pending.pending > 0 ? pending.firstId : group?.['last-delivered-id'];
    if (keepFrom && keepFrom !== '0-0') await this.client!.xTrim(streamKey, 'MINID', keepFrom);
  }

  private async read(id: '0' | '>', block?: number): Promise<StreamEntry[]> {
    const reply = (await this.client!.xReadGroup(
      this.config.gate.consumerGroup,
      this.consumer,
      { key: this.config.gate.streamKey, id },
      { COUNT: this.config.gate.persistBatchSize, ...(block !== undefined && { BLOCK: block }) },
    )) as Array<{ messages: StreamEntry[] }> | null;
    return reply?.[0]?.messages ?? [];
  }

  private async claimed(): Promise<StreamEntry[]> {
    const reply = await this.client!.xAutoClaim(this.config.gate.streamKey, this.config.gate.consumerGroup, this.consumer, this.config.gate.claimIdleSeconds * 1000, '0-0', {
      COUNT: this.config.gate.persistBatchSize,
    });
    return reply.messages.filter((message) => message !== null);
  }

  private async persistAndAck(entries: StreamEntry[]): Promise<void> {
    await this.persist(entries.map((entry) => tapEventOf(entry.message)));
    await this.client!.xAck(
      this.config.gate.streamKey,
      this.config.gate.consumerGroup,
      entries.map((entry) => entry.id),
    );
  }

  /** One batch to Postgres (TapRecorder); tests and tools call it with events of their own. */
  persist(events: readonly TapEvent[]): Promise<void> {
    return this.recorder.persist(events);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
