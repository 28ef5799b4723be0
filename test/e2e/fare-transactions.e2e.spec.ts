import { localDateAt } from '../../src/fares/domain/local-time';
import { FaresService } from '../../src/fares/fares.service';
import type { TidesFareTransaction } from '../../src/settlement/settlement.queries';
import { bearerFor, testAccount } from '../support/auth';
import { gateAt, tap } from '../support/gate';
import { useTestApp } from '../support/http';
import { topUp } from '../support/money';
import { waitFor } from '../support/wait';

/** Pay as you go in TIDES: the top-up is an `Add`, and every row of the wallet carries the balance after it. */
describe('TIDES fare transactions of a pay-as-you-go rider', () => {
  const { app, http } = useTestApp();

  it('exports the top-up as Add and each tap with the wallet balance after it', async () => {
    const rider = await testAccount(app(), 'passenger');
    const admin = await bearerFor(app(), 'admin');
    await topUp(app(), rider.bearer, 100_000);
    const qr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
    const [entry, exit] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-yen-nghia')]);
    expect(await tap(app(), entry, { qr, direction: 'entry' })).toMatchObject({ verdict: 'accept' });
    expect(await tap(app(), exit, { qr, direction: 'exit' })).toMatchObject({ verdict: 'accept' });
    const fare = app().get(FaresService).calculator().quote('metro-2a', '2a-cat-linh', '2a-yen-nghia', 'adult', Date.now()).amount;

    const date = localDateAt(Date.now());
    const rows = await waitFor(
      async () =>
        ((await http().get('/v1/fare-transactions').set('Authorization', admin).query({ date, format: 'json' }).expect(200)).body as TidesFareTransaction[]).filter(
          (row) => row.token_id === rider.id,
        ),
      (found) => found.some((row) => row.fare_action === 'Exit' && row.balance !== 100_000),
    );
    expect(rows.map((row) => [row.fare_action, row.amount, row.balance])).toEqual([
      ['Add', 100_000, 100_000],
      ['Enter', 0, 100_000],
      ['Exit', fare, 100_000 - fare],
    ]);
    expect(rows.every((row) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(row.event_timestamp))).toBe(true);
  });
});
