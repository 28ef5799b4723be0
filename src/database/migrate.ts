import { DataSource } from 'typeorm';

/** Any constant shared by every copy of the service: only one of them migrates at a time. */
const MIGRATION_LOCK_KEY = 727_001;

/** Applies pending migrations under a Postgres advisory lock, so copies starting together do not race. */
export async function migrateWithLock(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
