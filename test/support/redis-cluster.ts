import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from 'redis';
import { startRedis, type RedisOptions, type RunningServer } from '../../src/local-services/servers';
import { findExecutable, freePort, LocalServiceError, waitFor } from '../../src/local-services/system';

const READY_TIMEOUT_MS = 60_000;

interface ClusterNode {
  options: RedisOptions;
  server?: RunningServer;
}

/**
 * A Redis Cluster of masters only (no replicas) on loopback free ports, each node with its own folder,
 * append-only file (fsync every second, as the service expects) and `nodes.conf`: the tests' cluster
 * (REDIS_MODE=cluster) and the one a test stops a node of. `url` names it as the service reads it
 * (`redis+cluster://…`, README "Redis Cluster").
 */
export class RedisClusterServers {
  private constructor(
    private readonly nodes: ClusterNode[],
    private readonly password: string | undefined,
  ) {}

  /** Starts `masters` nodes under `dir`, joins them with `redis-cli --cluster create` and waits until every node says cluster_state:ok. */
  static async start(dir: string, { masters = 3, password }: { masters?: number; password?: string } = {}): Promise<RedisClusterServers> {
    const cluster = new RedisClusterServers([], password);
    try {
      for (let i = 0; i < masters; i++) await cluster.addNode(join(dir, `node-${i}`));
      cluster.create();
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get url(): string {
    const credentials = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return `redis+cluster://${credentials}${this.nodes.map((node) => `127.0.0.1:${node.options.port}`).join(',')}`;
  }

  get size(): number {
    return this.nodes.length;
  }

  /** One node by itself, as a plain Redis URL (to look at it or send it CLUSTER commands). */
  nodeUrl(index: number): string {
    const credentials = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return `redis://${credentials}127.0.0.1:${this.nodes[index].options.port}`;
  }

  /** Stops one node cleanly (SIGTERM: it writes its append-only file); the cluster fails its slots until it returns. */
  async stopNode(index: number): Promise<void> {
    await this.nodes[index].server?.stop();
    this.nodes[index].server = undefined;
  }

  /** Starts a stopped node again on its port and data; by default waits until the cluster is whole again. */
  async startNode(index: number, { waitForCluster = true } = {}): Promise<void> {
    this.nodes[index].server = await startRedis(this.nodes[index].options);
    if (waitForCluster) await this.waitUntilOk();
  }

  /** A new node on free ports; on a shared machine another process may take a port between our pick and the start: then other ports. */
  private async addNode(dataDir: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const taken = new Set(this.nodes.flatMap((node) => [node.options.port, node.options.cluster!.busPort]));
      const [port, busPort] = await freePorts(2, taken);
      const options: RedisOptions = { dataDir, port, cluster: { busPort }, ...(this.password !== undefined && { password: this.password }) };
      try {
        this.nodes.push({ options, server: await startRedis(options) });
        return;
      } catch (error) {
        if (attempt >= 5 || !(error instanceof LocalServiceError && /cannot listen|already in use/i.test(error.message))) throw error;
      }
    }
  }

  async waitUntilOk(): Promise<void> {
    for (const [index] of this.nodes.entries()) {
      await waitFor(`Redis Cluster node ${this.nodes[index].options.port}`, READY_TIMEOUT_MS, async () => (await this.clusterInfo(index)).includes('cluster_state:ok'));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((_, index) => this.stopNode(index)));
  }

  private create(): void {
    const cli = findExecutable('redis-cli', ['/usr/bin', '/usr/local/bin']);
    if (!cli) throw new LocalServiceError('redis-cli is not installed (Debian package redis-tools); it joins the test cluster');
    const result = spawnSync(
      cli,
      ['--cluster', 'create', ...this.nodes.map((node) => `127.0.0.1:${node.options.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      // The password on the environment, not the command line every local user can read.
      { encoding: 'utf8', env: { ...process.env, ...(this.password !== undefined && { REDISCLI_AUTH: this.password }) } },
    );
    if (result.status !== 0) throw new LocalServiceError(`redis-cli --cluster create failed:\n${result.stdout}${result.stderr}`);
  }

  private async clusterInfo(index: number): Promise<string> {
    const client = createClient({ url: this.nodeUrl(index), socket: { connectTimeout: 1_000, reconnectStrategy: false } });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.sendCommand<string>(['CLUSTER', 'INFO']);
    } catch {
      return '';
    } finally {
      if (client.isOpen) await client.close();
    }
  }
}

/** Free ports, no two alike and none of `taken` (the nodes' own and their cluster bus ports). */
async function freePorts(count: number, taken: Set<number>): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (!taken.has(port)) ports.add(port);
  }
  return [...ports];
}
