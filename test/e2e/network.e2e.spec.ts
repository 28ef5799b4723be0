import { DataSource } from 'typeorm';
import { HANOI_LINES } from '../../src/network/hanoi-network';
import { seedNetwork } from '../../src/network/network.seeder';
import { expectError, useTestApp } from '../support/http';

describe('network API', () => {
  const { app, http } = useTestApp();

  it('lists the operators', async () => {
    const response = await http().get('/v1/operators').expect(200);
    expect(response.body).toEqual([
      { id: 'hmc', name: expect.stringContaining('Hanoi Metro'), shortName: 'Hanoi Metro' },
      { id: 'transerco', name: expect.stringContaining('Transerco'), shortName: 'Transerco' },
      { id: 'vinbus', name: expect.stringContaining('VinBus'), shortName: 'VinBus' },
    ]);
  });

  it('lists the lines with their mode, operator and length', async () => {
    const response = await http().get('/v1/lines').expect(200);
    expect(response.body).toEqual(
      expect.arrayContaining([
        { id: 'metro-2a', code: '2A', name: expect.any(String), mode: 'metro', operatorId: 'hmc', lengthKm: 12.5 },
        { id: 'metro-3', code: '3', name: expect.any(String), mode: 'metro', operatorId: 'hmc', lengthKm: 7.4 },
        { id: 'brt01', code: 'BRT01', name: expect.any(String), mode: 'brt', operatorId: 'transerco', lengthKm: 14.7 },
      ]),
    );
    expect(response.body).toHaveLength(HANOI_LINES.length);
  });

  it('filters lines by mode and by operator', async () => {
    const metro = await http().get('/v1/lines?mode=metro').expect(200);
    expect(metro.body.map((l: { id: string }) => l.id).sort()).toEqual(['metro-2a', 'metro-3']);
    const vinbus = await http().get('/v1/lines?operatorId=vinbus').expect(200);
    expect(vinbus.body.map((l: { id: string }) => l.id)).toEqual(['bus-e01']);
    const none = await http().get('/v1/lines?operatorId=nobody').expect(200);
    expect(none.body).toEqual([]);
  });

  it('gives one line with its stations in order, kilometres and estimate flags', async () => {
    const response = await http().get('/v1/lines/metro-2a').expect(200);
    expect(response.body.stations).toHaveLength(12);
    expect(response.body.stations[0]).toEqual({ id: '2a-cat-linh', name: 'Cát Linh', km: 0, positionEstimated: false });
    expect(response.body.stations[1]).toEqual({ id: '2a-la-thanh', name: 'La Thành', km: 0.7, positionEstimated: false });
    expect(response.body.stations[2]).toMatchObject({ name: 'Thái Hà', positionEstimated: true });
    expect(response.body.stations[11]).toEqual({ id: '2a-yen-nghia', name: 'Yên Nghĩa', km: 12.5, positionEstimated: false });
    const kms = response.body.stations.map((s: { km: number }) => s.km);
    expect(kms).toEqual([...kms].sort((a, b) => a - b));
  });

  it('answers an unknown line with 404 in the contract shape', async () => {
    const response = await http().get('/v1/lines/metro-99');
    expectError(response, 404, 'NOT_FOUND');
    expect(response.body.error.message).toBe('Line "metro-99" does not exist');
  });

  it('seeds idempotently: a second run changes nothing', async () => {
    const dataSource = app().get(DataSource);
    const count = async () => (await dataSource.query('SELECT (SELECT count(*) FROM operators) o, (SELECT count(*) FROM lines) l, (SELECT count(*) FROM stations) s'))[0];
    const before = await count();
    await seedNetwork(dataSource);
    expect(await count()).toEqual(before);
    const stations = HANOI_LINES.reduce((n, l) => n + l.stations.length, 0);
    expect(before).toEqual({ o: '3', l: String(HANOI_LINES.length), s: String(stations) });
  });
});
