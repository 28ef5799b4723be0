/**
 * `npm run bench [-- gate|purchase|settlement …]`: the benchmark sections, by default all three, one
 * after the other, each in a process of its own (gate-bench.ts, purchase-bench.ts,
 * settlement-bench.ts; what they share is in harness.ts). Each prints its figure table as it ends;
 * after more than one section the tables are printed again together. Exit 1 when a section failed.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { SectionTable } from './harness';

const SECTIONS = ['gate', 'purchase', 'settlement'] as const;
type Section = (typeof SECTIONS)[number];

function isSection(name: string): name is Section {
  return (SECTIONS as readonly string[]).includes(name);
}

async function main(): Promise<number> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !isSection(name));
  if (unknown.length) {
    process.stderr.write(`unknown bench section ${unknown.join(', ')}: choose from ${SECTIONS.join(', ')} (none: all)\n`);
    return 2;
  }
  const sections = asked.length ? asked.filter(isSection) : [...SECTIONS];
  const tables: SectionTable[] = [];
  const failed: string[] = [];
  let interrupted = false;
  for (const section of sections) {
    if (interrupted) break;
    process.stdout.write(`\n== ${section} ==\n`);
    const child = fork(join(__dirname, `${section}-bench.js`), [], { stdio: 'inherit' });
    child.on('message', (message: SectionTable) => tables.push(message));
    // Ctrl-C reaches the section too; a SIGTERM sent to this process alone is passed on. The section stops what it started.
    const forward = (signal: NodeJS.Signals) => {
      interrupted = true;
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    if (code !== 0) failed.push(`${section} (exit ${code ?? 'by signal'})`);
  }
  if (tables.length > 1) {
    process.stdout.write('\n== figures ==\n');
    for (const { section, table } of tables) process.stdout.write(`\n${section}:${table}`);
  }
  if (failed.length) process.stderr.write(`\nbench sections that failed: ${failed.join(', ')}\n`);
  return interrupted ? 130 : failed.length ? 1 : 0;
}

void main().then((code) => process.exit(code));
