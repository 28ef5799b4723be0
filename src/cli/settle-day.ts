import { AuditLog } from '../audit/audit-log';
import 'reflect-metadata';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { loadConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { localDate, localDayNumber } from '../fares/domain/local-time';
import { dayBounds, SettlementService, type SettlementProgress } from '../settlement/settlement.service';
import type { DailyStatement } from '../settlement/statement';
import { runCommand } from './run-command';

const USAGE = `Usage: npm run settle -- [YYYY-MM-DD] [--close] [--json]
  Settles a local day (default: yesterday, Asia/Ho_Chi_Minh) from Postgres and prints each operator's figures.
  --close  freezes the day (its statement is stored with its SHA-256; later events adjust the next open day)
  --json   prints the whole scheme-wide statement as JSON instead of the summary`;

/** Where the command writes: stdout, or a test's stand-in. */
export interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** `npm run settle`: the day's statement from the command line, for operators' scripts. */
export async function settleDay(argv: readonly string[], out: Output): Promise<DailyStatement> {
  const { values, positionals } = parseArgs({ args: [...argv], options: { close: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true });
  if (values.help || positionals.length > 1) {
    out.write(`${USAGE}\n`);
    if (values.help) process.exit(0);
    process.exit(2);
  }
  const date = positionals[0] ?? localDate(localDayNumber(Date.now()) - 1);
  const day = dayBounds(date);
  const db = await new DataSource(dataSourceOptions({ database: { url: loadConfig().database.url, poolSize: 2, migrateOnStart: false } })).initialize();
  try {
    const settlement = new SettlementService(db, new AuditLog(db));
    const progress = progressPrinter(out, date);
    const statement = values.close ? await settlement.close({ id: `cli:${userInfo().username}`, role: 'admin' }, date, progress) : await settlement.schemeStatement(day, progress);
    out.write(values.json ? `${JSON.stringify(statement, null, 2)}\n` : summary(statement));
    return statement;
  } finally {
    await db.destroy();
  }
}

/** On a terminal one line rewritten in place; piped, one plain line per finished step. */
function progressPrinter(out: Output, date: string): SettlementProgress {
  return (step, done, total) => {
    const line = `settling ${date}: ${step} (${done} of ${total})`;
    if (out.isTTY) out.write(`\r\x1b[2K${line}${done === total ? '\n' : ''}`);
    else if (done > 0) out.write(`${line}\n`);
  };
}

const vnd = (amount: number) => `${amount.toLocaleString('en-US')} VND`;

function summary(statement: DailyStatement): string {
  const lines = [`${statement.date} (${statement.timeZone}) — ${statement.status}${statement.sha256 ? `, sha256 ${statement.sha256}` : ''}`];
  for (const row of statement.operators) {
    lines.push(
      `  ${row.operatorId.padEnd(14)} ${vnd(row.total).padStart(20)}  (singles ${vnd(row.singleTickets)}, passes ${vnd(row.passes)}, pay as you go ${vnd(row.payAsYouGo)}, pass allocation ${vnd(row.passAllocation)}, adjustments ${vnd(row.adjustments)})`,
    );
  }
  lines.push(`  ${'unallocated'.padEnd(14)} ${vnd(statement.check.unallocated).padStart(20)}`);
  for (const pool of statement.passAllocation) lines.push(`  key of ${pool.productId}: ${pool.appliedKey} (${pool.allocationKey.source})`);
  const { revenue, adjustments, allocated, unallocated, balanced } = statement.check;
  lines.push(`  check: revenue ${vnd(revenue)} + adjustments ${vnd(adjustments)} = allocated ${vnd(allocated)} + unallocated ${vnd(unallocated)}: ${balanced ? 'balanced' : 'NOT BALANCED'}`);
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  runCommand(async () => {
    try {
      const statement = await settleDay(process.argv.slice(2), process.stdout);
      if (!statement.check.balanced) process.exitCode = 1;
    } catch (error) {
      // A refusal (a bad date, a day already closed) is one line for the operator's script, not a stack.
      if (!(error instanceof DomainError)) throw error;
      process.stderr.write(`${error.code}: ${error.message}\n`);
      process.exitCode = 2;
    }
  });
}
