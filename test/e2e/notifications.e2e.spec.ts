import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { NotificationDto, NotificationPageDto } from '../../src/notifications/notifications.dto';
import { testAccount } from '../support/auth';
import { expectError } from '../support/http';
import { accountQr, journeysWritten, metroGates, ride } from '../support/journeys';
import { topUp } from '../support/money';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

describe('notifications: taps, charges and concessions ending (e2e)', () => {
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const page = async (bearer: string, after?: string): Promise<NotificationPageDto> =>
    (await http().get('/v1/me/notifications').query(after ? { after } : {}).set('Authorization', bearer).expect(200)).body as NotificationPageDto;

  it('tells the rider of each tap and each wallet movement with the balance after it, once per cursor', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 60_000);
    const gates = await metroGates(app, ['2a-cat-linh', '2a-lang']);
    await ride(app, gates, await accountQr(app, rider.bearer), '2a-cat-linh', '2a-lang', Date.now() - 30 * 60_000);
    await journeysWritten(app, rider.id, 1);
    const first = await waitFor(
      () => page(rider.bearer),
      (found) => found.events.filter((event) => event.type === 'wallet').length === 2 && found.events.filter((event) => event.type === 'tap').length === 2,
    );
    const wallet = first.events.filter((event) => event.type === 'wallet').map((event) => event.data as { kind: string; amount: number; balanceAfter: number });
    expect(wallet[0]).toMatchObject({ kind: 'top_up', amount: 60_000, balanceAfter: 60_000 });
    expect(wallet[1].kind).toBe('fare');
    expect(wallet[1].balanceAfter).toBe(60_000 + wallet[1].amount);
    expect(first.events.filter((event) => event.type === 'tap').map((event) => (event.data as { direction: string; stationId: string }).stationId)).toEqual(['2a-cat-linh', '2a-lang']);
    // After the cursor: nothing new; from an event's id: what came after it.
    expect((await page(rider.bearer, first.cursor)).events).toEqual([]);
    const afterTopUp = await page(rider.bearer, first.events.find((event) => event.type === 'wallet')!.id);
    expect(afterTopUp.events.filter((event) => event.type === 'wallet')).toHaveLength(1);
    expectError(await http().get('/v1/me/notifications').query({ after: 'bm90LWEtY3Vyc29y' }).set('Authorization', rider.bearer), 400, 'VALIDATION_FAILED');
    // Another rider hears nothing of it.
    const other = await testAccount(app, 'passenger');
    expect((await page(other.bearer)).events).toEqual([]);
  });

  it('streams the same events as Server-Sent Events', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const response = await http().get('/v1/me/notifications/stream').query({ maxSeconds: 1 }).set('Authorization', rider.bearer).buffer(true).parse((res, done) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => done(null, text));
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = (response.body as string).split('\n\n').filter((block) => block.includes('data: '));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^id: [A-Za-z0-9_-]+\nevent: wallet\ndata: /);
    const event = JSON.parse(events[0].split('data: ')[1]) as NotificationDto;
    expect(event.data).toMatchObject({ kind: 'top_up', amount: 30_000, balanceAfter: 30_000 });
  });

  it('tells the rider a concession is ending, and that an ended one prices as adult', async () => {
    const rider = await testAccount(app, 'passenger');
    const admin = await testAccount(app, 'admin');
    const claim = await http().post('/v1/me/concessions').set('Authorization', rider.bearer).send({ category: 'priority', evidence: 'Thẻ sinh viên số 2026-123' }).expect(201);
    const id = (claim.body as { id: string }).id;
    const validUntil = new Date(Date.now() + 3 * 24 * 3600_000).toISOString();
    await http().post(`/v1/admin/concessions/${id}/decision`).set('Authorization', admin.bearer).send({ approve: true, validUntil }).expect(200);
    expect(((await http().get('/v1/me').set('Authorization', rider.bearer).expect(200)).body as { riderCategory: string }).riderCategory).toBe('priority');
    expect((await page(rider.bearer)).events).toEqual([
      { id: `concession-${id}`, type: 'concession_expiring', at: new Date(validUntil).toISOString(), data: { category: 'priority', validUntil: new Date(validUntil).toISOString() } },
    ]);

    // Time passes: the concession has ended.
    await app.get(DataSource).query(`UPDATE concession_claims SET valid_until = now() - interval '1 hour' WHERE id = $1`, [id]);
    expect(((await http().get('/v1/me').set('Authorization', rider.bearer).expect(200)).body as { riderCategory: string }).riderCategory).toBe('adult');
    const [notice] = (await page(rider.bearer)).events;
    expect(notice).toMatchObject({ type: 'concession_expired', data: { category: 'priority', nowPricedAs: 'adult' } });
    const quote = await http().get('/v1/fares/quote').query({ lineId: 'metro-2a', from: '2a-cat-linh', to: '2a-lang' }).set('Authorization', rider.bearer).expect(200);
    expect((quote.body as { riderCategory: string }).riderCategory).toBe('adult');
  });
});
