import { settleDay } from '../../src/cli/settle-day';

/** `npm run settle` on the test database: progress in place on a terminal, plain lines in a pipe. */
describe('the settle-day command', () => {
  const run = async (argv: string[], isTTY: boolean) => {
    const written: string[] = [];
    const statement = await settleDay(argv, { isTTY, write: (text: string) => written.push(text) });
    return { statement, text: written.join('') };
  };

  it('prints one plain line per step and the balance check when piped', async () => {
    const { statement, text } = await run(['2026-06-01'], false);
    expect(statement).toMatchObject({ date: '2026-06-01', status: 'open', check: { balanced: true } });
    expect(text).not.toContain('\r');
    expect(text).toContain('settling 2026-06-01: sales (1 of 12)\n');
    expect(text).toContain('settling 2026-06-01: revenue at risk (12 of 12)\n');
    expect(text).toMatch(/check: revenue .* VND: balanced\n$/);
  });

  it('rewrites one progress line on a terminal, and prints the statement as JSON on request', async () => {
    const { text } = await run(['2026-06-02', '--json'], true);
    expect(text).toContain('\r\x1b[2Ksettling 2026-06-02: sales (0 of 12)');
    const json = text.slice(text.indexOf('{'));
    expect(JSON.parse(json)).toMatchObject({ date: '2026-06-02', timeZone: 'Asia/Ho_Chi_Minh', check: { balanced: true } });
  });
});
