import { REDUCED_SIZE, runFaultDrill } from '../drills/fault-drill';

/**
 * The fault drill's copies mode, reduced (`npm run drill -- --copies` runs it full size): two copies of
 * the built service share the load, the one leading the singleton jobs is SIGKILLed while its persister
 * holds taps; the other takes the lease, claims those taps and sweeps overdue journeys; then an
 * offline batch is uploaded twice. Every check from Postgres after each step.
 */
describe('the fault drill with two copies, reduced', () => {
  it('loses no accepted tap, stores none twice, and the singleton jobs move to the surviving copy', async () => {
    const commentary: string[] = [];
    const report = await runFaultDrill({ ...REDUCED_SIZE, copies: true, log: (line) => commentary.push(line) });

    expect(report.failed).toEqual([]);
    const passed = report.checks.map((check) => check.name);
    expect(passed).toEqual(
      expect.arrayContaining([
        "the surviving copy took the singleton jobs' lease",
        "the surviving copy claimed the dead copy's pending taps",
        'the singleton jobs still ran after the kill: the sweeper closed journeys past their limit',
        'every tap the gates accepted is stored exactly once',
      ]),
    );
    expect(report.totals['taps.online.accept']).toBeGreaterThan(0);
  }, 420_000);
});
