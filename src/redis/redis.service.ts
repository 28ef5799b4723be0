import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createClient, createCluster, type RedisClientOptions } from 'redis';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

export type RedisClient = ReturnType<typeof createClient>;
type RedisCluster = ReturnType<typeof createCluster>;
type ClusterOptions = Parameters<typeof createCluster>[0];

/** What a duplicate connection may change (both kinds of client take these). */
export type ConnectionOverrides = Pick<RedisClientOptions, 'disableOfflineQueue' | 'commandOptions'>;

const SOCKET = { connectTimeout: 5_000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) };

/**
 * The one Redis connection of the process; purpose-specific classes (gate state, tap stream) use it.
 * REDIS_URL names one Redis or a Redis Cluster (`redis+cluster://host:port,host:port`, node-redis's
 * createCluster). Either way `client` takes the same keyed commands: the cluster routes each to the
 * master of its key's slot, so a command or script must keep its keys in one slot (gate keys share
 * their shard's hash tag, gate-state.ts). What must reach every node goes through `forEachMaster`.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnModuleDestroy {
  /** Typed as a single Redis's client: the keyed commands the service uses have the same signatures on a cluster. */
  readonly client: RedisClient;
  readonly cluster: boolean;
  private readonly connection: RedisClient | RedisCluster;
  /** A cluster's options: a duplicate's `defaults` replace the original's whole, so they are given again (credentials, TLS). */
  private readonly clusterOptions: ClusterOptions | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const nodes = config.redis.clusterNodes;
    this.cluster = nodes !== null;
    this.clusterOptions = nodes === null ? null : clusterOptions(nodes);
    this.connection = this.clusterOptions === null ? createClient({ url: config.redis.url, socket: SOCKET }) : createCluster(this.clusterOptions);
    this.client = this.connection as RedisClient;
    // Errors also surface on the commands that fail; without a listener node-redis would crash the process.
    this.connection.on('error', () => undefined);
  }

  async onModuleInit(): Promise<void> {
    await this.connection.connect();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.connection.isOpen) await this.connection.close();
  }

  /** Another connection (not yet connected) to the same Redis or cluster, e.g. for subscriptions or a fail-fast gate path. */
  duplicate(overrides: ConnectionOverrides = {}): RedisClient {
    const copy = this.clusterOptions
      ? (this.connection as RedisCluster).duplicate({ defaults: { ...this.clusterOptions.defaults, ...overrides } })
      : (this.connection as RedisClient).duplicate(overrides);
    return copy as RedisClient;
  }

  /** Runs `work` on each master (the one Redis, or every master of the cluster): SCAN, FLUSHDB, PING. */
  async forEachMaster<T>(work: (node: RedisClient) => Promise<T>): Promise<T[]> {
    if (!this.cluster) return [await work(this.client)];
    const cluster = this.connection as RedisCluster;
    return Promise.all(cluster.masters.map(async (master) => work((await cluster.nodeClient(master)) as RedisClient)));
  }

  /** PING with a deadline, for readiness checks: every master of a cluster must answer. */
  async ping(timeoutMs: number): Promise<void> {
    await withTimeout(this.forEachMaster((node) => node.ping()), timeoutMs, 'Redis did not answer PING');
  }
}

/** A cluster from some of its nodes; every connection to a node it discovers gets the first node's credentials and TLS. */
function clusterOptions(nodes: readonly string[]): ClusterOptions {
  const first = new URL(nodes[0]);
  return {
    rootNodes: nodes.map((url) => ({ url, socket: SOCKET })),
    defaults: {
      socket: { ...SOCKET, ...(first.protocol === 'rediss:' && { tls: true as const }) },
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
