import { DataSource } from 'typeorm';
import jwt from 'jsonwebtoken';
import { DEMO_ACCOUNTS, DEMO_GATES, DEMO_HANDSETS, seedDemoCredentials } from '../../src/accounts/demo-seed';
import { HANOI_LINES, HANOI_OPERATORS } from '../../src/network/hanoi-network';
import { useTestApp } from '../support/http';

describe('development seed', () => {
  const { app, http } = useTestApp();

  it('seeds an admin, one staff account per operator, a passenger and a gate per metro station, again and again', async () => {
    const first = await seedDemoCredentials(app().get(DataSource));
    const second = await seedDemoCredentials(app().get(DataSource));
    expect(second).toEqual(first);
    const metroStations = HANOI_LINES.filter((line) => line.mode === 'metro').flatMap((line) => line.stations);
    expect(DEMO_GATES.map((gate) => gate.stationId)).toEqual(metroStations.map((station) => station.id));
    expect(DEMO_ACCOUNTS.map((account) => account.role).sort()).toEqual(['admin', 'operator', 'operator', 'operator', 'passenger']);
    for (const account of DEMO_ACCOUNTS) expect(first.join('\n')).toContain(`${account.email} / ${account.password}`);
    for (const gate of DEMO_GATES) expect(first.join('\n')).toContain(`${gate.deviceId} / ${gate.secret}`);
    for (const handset of DEMO_HANDSETS) expect(first.join('\n')).toContain(`${handset.deviceId} / ${handset.secret}`);
  });

  it('prints credentials that work', async () => {
    await seedDemoCredentials(app().get(DataSource));
    for (const account of DEMO_ACCOUNTS) {
      const login = await http().post('/v1/auth/login').send({ email: account.email, password: account.password }).expect(200);
      const me = await http().get('/v1/me').set('Authorization', `Bearer ${login.body.accessToken}`).expect(200);
      expect(me.body).toMatchObject({ role: account.role, ...(account.operatorId ? { operatorId: account.operatorId } : {}) });
    }
    const gate = DEMO_GATES[0];
    await http().post('/v1/devices/token').send({ deviceId: gate.deviceId, secret: gate.secret }).expect(200);
    expect(DEMO_HANDSETS.map((handset) => handset.operatorId)).toEqual(HANOI_OPERATORS.map((operator) => operator.id));
    for (const handset of DEMO_HANDSETS) {
      const token = await http().post('/v1/devices/token').send({ deviceId: handset.deviceId, secret: handset.secret }).expect(200);
      expect(jwt.decode(token.body.accessToken)).toMatchObject({ role: 'inspector', op: handset.operatorId });
    }
  });
});
