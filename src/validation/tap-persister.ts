import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { GateKeys, TAP_EVENT_STREAM_FIELD, type TapEvent } from '../gate-state/gate-state';
import { RedisService, type RedisClient } from '../redis/redis.service';
import { TapRecorder } from './tap-recorder';

export type { TapEvent } from '../gate-state/gate-state';

interface StreamEntry {
  id: string;
  message: Record<string, string>;
}

/** Entries read from one shard's stream. */
interface ShardEntries {
  stream: string;
  entries: StreamEntry[];
}

/** The event a stream entry carries, as JSON in its one field. */
export function tapEventOf(message: Record<string, string>): TapEvent {
  const event = message[TAP_EVENT_STREAM_FIELD];
  if (event === undefined) throw new Error(`a stream entry without a tap event: ${JSON.stringify(message)}`);
  return JSON.parse(event) as TapEvent;
}

const TRIM_EVERY_MS = 10_000;
const BATCH_GATHER_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * The tap streams' consumer: moves taps from the shards' Redis streams (gate-state.ts GateKeys) to
 * Postgres through a consumer group on each, a batch at a time (written by TapRecorder in one
 * transaction, idempotent on (device, tap id) and on the journey's state), acknowledged only after the
 * commit. Each round reads every shard without blocking (a blocking read would hold a cluster node's
 * connection), then rests while the streams are short. While Postgres is down the entries stay pending and are retried; entries a dead
 * consumer left pending are claimed after `claimIdleSeconds`.
 */
@Injectable()
export class TapPersister implements OnModuleDestroy {
  private readonly logger = new Logger(TapPersister.name);
  /** Unique per instance: two copies must never share a consumer (one would ack what the other holds). */
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private client: RedisClient | undefined;
  private readonly streams: string[];
  /** Entries read from each shard per round: a batch is about GATE_PERSIST_BATCH_SIZE over all shards. */
  private readonly perShard: number;
  private running = false;
  private loop: Promise<void> | undefined;
  /** The round in flight: the loop and `drain` take turns, so a drain never returns while the loop still writes what it read. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly recorder: TapRecorder,
    private readonly redis: RedisService,
    keys: GateKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.streams = keys.allShards().map((shard) => keys.tapStream(shard));
    this.perShard = Math.max(1, Math.ceil(config.gate.persistBatchSize / this.streams.length));
  }

  /** Starts the loop (TapPersisterRunner decides where: see tap-persister.runner.ts). */
  async start(): Promise<void> {
    this.client = this.redis.duplicate();
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

  /** The consumer group on every shard's stream, created with the stream; again if Redis lost both. */
  private async ensureGroup(): Promise<void> {
    await Promise.all(
      this.streams.map((stream) =>
        this.client!.xGroupCreate(stream, this.config.gate.consumerGroup, '0', { MKSTREAM: true }).catch((error: unknown) => {
          if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
        }),
      ),
    );
  }

  /** Writes what the streams hold now and returns how many entries it acknowledged (tests, tools). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const written = await this.exclusive(async () => {
        // Claimed entries join our own pending ones: read them once.
        let batch = await this.claimed();
        if (count(batch) === 0) batch = await this.readAll('0');
        if (count(batch) === 0) batch = await this.readAll('>');
        if (count(batch) > 0) await this.persistAndAck(batch);
        return count(batch);
      });
      if (written === 0) return total;
      total += written;
    }
  }

  /** Runs one round after the one in flight (the loop's or a drain's) has finished. */
  private exclusive<T>(round: () => Promise<T>): Promise<T> {
    const result = this.turn.then(round);
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async run(): Promise<void> {
    let backoff = 0;
    let lastClaim = 0;
    let lastTrim = 0;
    // Our own pending entries exist only at start (a restarted consumer never has any: its name is new,
    // but drain() may have left some) and after a round that failed: read them only then.
    let mayHavePending = true;
    while (this.running) {
      try {
        if (Date.now() - lastTrim > TRIM_EVERY_MS) {
          lastTrim = Date.now();
          await this.trim();
        }
        const batch = await this.exclusive(async () => {
          // Our own pending entries first (a batch that failed), then entries a dead consumer left, then new ones.
          let read = mayHavePending ? await this.readAll('0') : [];
          mayHavePending = count(read) > 0;
          if (count(read) === 0 && Date.now() - lastClaim > (this.config.gate.claimIdleSeconds * 1000) / 2) {
            lastClaim = Date.now();
            read = await this.claimed();
          }
          if (count(read) === 0) read = await this.readAll('>');
          if (count(read) > 0) await this.persistAndAck(read);
          return read;
        });
        backoff = 0;
        // No shard had a full read: the streams have caught up. Let taps gather rather than commit a few
        // at a time (fewer transactions, less CPU taken from the gate path on the same machine).
        if (batch.every(({ entries }) => entries.length < this.perShard)) await delay(BATCH_GATHER_MS);
      } catch (error) {
        if (!this.running) return;
        mayHavePending = true;
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2 || 100);
        this.logger.warn({ err: error }, `writing taps to Postgres failed; they wait in the streams, retrying in ${backoff} ms`);
        await delay(backoff);
      }
    }
  }

  /**
   * Drops the entries every consumer has acknowledged, shard by shard: those before the oldest pending
   * one, or before the last delivered one when nothing is pending. Unwritten taps are never trimmed.
   */
  private async trim(): Promise<void> {
    const { consumerGroup } = this.config.gate;
    await Promise.all(
      this.streams.map(async (stream) => {
        const [pending, groups] = await Promise.all([this.client!.xPending(stream, consumerGroup), this.client!.xInfoGroups(stream)]);
        const group = groups.find((candidate) => candidate.name === consumerGroup);
        const keepFrom = pending.pending > 0 ? pending.firstId : group?.['last-delivered-id'];
        if (keepFrom && keepFrom !== '0-0') await this.client!.xTrim(stream, 'MINID', keepFrom);
      }),
    );
  }

  /**
   * One read of every shard: `0` our own pending entries, `>` new ones. A single Redis answers one
   * XREADGROUP naming every shard's stream; a cluster one per shard (the shards lie in different slots).
   */
  private async readAll(id: '0' | '>'): Promise<ShardEntries[]> {
    if (!this.redis.cluster) {
      const reply = await this.client!.xReadGroup(
        this.config.gate.consumerGroup,
        this.consumer,
        this.streams.map((key) => ({ key, id })),
        { COUNT: this.perShard },
      );
      const read = new Map<string, StreamEntry[]>();
      for (const shard of (reply ?? []) as Array<{ name: string; messages: StreamEntry[] }>) read.set(shard.name, shard.messages);
      return this.streams.map((stream) => ({ stream, entries: read.get(stream) ?? [] }));
    }
    return Promise.all(
      this.streams.map(async (stream) => {
        const reply = (await this.client!.xReadGroup(this.config.gate.consumerGroup, this.consumer, { key: stream, id }, { COUNT: this.perShard })) as Array<{
          messages: StreamEntry[];
        }> | null;
        return { stream, entries: reply?.[0]?.messages ?? [] };
      }),
    );
  }

  /** Entries a dead consumer left pending on any shard for longer than `claimIdleSeconds`. */
  private claimed(): Promise<ShardEntries[]> {
    const { consumerGroup, claimIdleSeconds } = this.config.gate;
    return Promise.all(
      this.streams.map(async (stream) => {
        const reply = await this.client!.xAutoClaim(stream, consumerGroup, this.consumer, claimIdleSeconds * 1000, '0-0', { COUNT: this.perShard });
        return { stream, entries: reply.messages.filter((message) => message !== null) };
      }),
    );
  }

  private async persistAndAck(batch: ShardEntries[]): Promise<void> {
    // The shards' entries in the order Redis took them (stream ids are times), so that of two taps with one
    // (device, tapId) on two shards the earlier is the one recorded.
    const inOrder = batch.flatMap(({ entries }) => entries).sort((a, b) => compareStreamIds(a.id, b.id));
    await this.persist(inOrder.map((entry) => tapEventOf(entry.message)));
    await Promise.all(
      batch
        .filter(({ entries }) => entries.length > 0)
        .map(({ stream, entries }) =>
          this.client!.xAck(
            stream,
            this.config.gate.consumerGroup,
            entries.map((entry) => entry.id),
          ),
        ),
    );
  }

  /** One batch to Postgres (TapRecorder); tests and tools call it with events of their own. */
  persist(events: readonly TapEvent[]): Promise<void> {
    return this.recorder.persist(events);
  }
}

function count(batch: readonly ShardEntries[]): number {
  return batch.reduce((total, { entries }) => total + entries.length, 0);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Orders two stream entry ids (`<ms>-<seq>`) by time, then sequence. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}
