import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis.service';

/**
 * A Lua script kept in its own .lua file, run by SHA. A node that does not hold it (never loaded, a
 * restart, another master of a cluster) answers NOSCRIPT: the script is then sent whole with EVAL,
 * which runs it on the node of its keys and leaves it cached there.
 */
export class LuaScript {
  readonly sha: string;

  private constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** The script in a file, after `prelude` (definitions generated from TypeScript, e.g. validation/gate-state.ts). */
  static fromFile(path: string, prelude = ''): LuaScript {
    return new LuaScript(path.replace(/^.*\//, ''), prelude + readFileSync(path, 'utf8'));
  }

  /** Loads it on one Redis (tests, tools); a cluster's nodes each load it on first use (`run`). */
  async load(client: RedisClient): Promise<void> {
    const sha = await client.scriptLoad(this.source);
    if (sha !== this.sha) throw new Error(`Redis gave SHA ${sha} for ${this.name}, expected ${this.sha}`);
  }

  async run(client: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}
