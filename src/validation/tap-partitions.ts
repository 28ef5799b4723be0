import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { compactLocalDate, localDayStartMs } from '../fares/domain/local-time';

/** The daily partitions of taps and journeys (by local day), created when a batch first needs them. */
@Injectable()
export class TapPartitions {
  private readonly knownPartitions = new Set<string>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Today's tap and journey partitions, created once per process and day (under a lock: copies race). */
  async ensure(day: number): Promise<void> {
    const suffix = compactLocalDate(day);
    if (this.knownPartitions.has(suffix)) return;
    const from = new Date(localDayStartMs(day)).toISOString();
    const to = new Date(localDayStartMs(day + 1)).toISOString();
    await this.db.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('gate-partitions'))`);
      for (const table of ['taps', 'journeys']) {
        await em.query(`CREATE TABLE IF NOT EXISTS ${table}_${suffix} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
      }
    });
    this.knownPartitions.add(suffix);
  }
}
