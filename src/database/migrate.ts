import { DataSource } from 'typeorm';
import { withAdvisoryLock } from './singleton-lease';

/** Any constant shared by every copy of the service: only one of them migrates at a time. */
const MIGRATION_LOCK_KEY = 727_001;

/** Applies pending migrations under a Postgres advisory lock, so copies starting together do not race. */
export async function migrateWithLock(dataSource: DataSource): Promise<string[]> {
  return withAdvisoryLock(dataSource, MIGRATION_LOCK_KEY, async () => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  });
}
