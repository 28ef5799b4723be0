import type { DataSource } from 'typeorm';
import { HANOI_LINES, HANOI_OPERATORS, LineSeed, OperatorSeed } from './hanoi-network';

export interface SeedCounts {
  operators: number;
  lines: number;
  stations: number;
}

/** Writes the network seed; running it again changes nothing but what the seed data changed. */
export async function seedNetwork(
  dataSource: DataSource,
  operators: OperatorSeed[] = HANOI_OPERATORS,
  lines: LineSeed[] = HANOI_LINES,
): Promise<SeedCounts> {
  let stationCount = 0;
  await dataSource.transaction(async (db) => {
    // Reordered stations may swap sequences; check uniqueness at commit, not row by row.
    await db.query('SET CONSTRAINTS ALL DEFERRED');
    for (const operator of operators) {
      await db.query(
        `INSERT INTO operators (id, name, short_name) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, short_name = EXCLUDED.short_name`,
        [operator.id, operator.name, operator.shortName],
      );
    }
    for (const line of lines) {
      await db.query(
        `INSERT INTO lines (id, code, name, mode, operator_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name,
           mode = EXCLUDED.mode, operator_id = EXCLUDED.operator_id`,
        [line.id, line.code, line.name, line.mode, line.operatorId],
      );
      for (const [sequence, station] of line.stations.entries()) {
        await db.query(
          `INSERT INTO stations (id, line_id, sequence, name, position_m, position_estimated)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET line_id = EXCLUDED.line_id, sequence = EXCLUDED.sequence,
             name = EXCLUDED.name, position_m = EXCLUDED.position_m, position_estimated = EXCLUDED.position_estimated`,
          [station.id, line.id, sequence, station.name, station.positionM, station.estimated],
        );
        stationCount += 1;
      }
    }
  });
  return { operators: operators.length, lines: lines.length, stations: stationCount };
}
