import { HANOI_LINES, HANOI_OPERATORS } from './hanoi-network';

const line = (id: string) => HANOI_LINES.find((l) => l.id === id)!;
const stationKm = (lineId: string, name: string) => line(lineId).stations.find((s) => s.name === name)!.positionM / 1000;
/** The published electronic metro fare: 8,000 VND + 850 VND per km. */
const metroFare = (km: number) => 8000 + Math.round(850 * km);

describe('Hà Nội network seed', () => {
  it('has Hanoi Metro, Transerco and a third bus operator, and every line belongs to one of them', () => {
    expect(HANOI_OPERATORS.map((o) => o.id)).toEqual(['hmc', 'transerco', 'vinbus']);
    for (const l of HANOI_LINES) expect(HANOI_OPERATORS.map((o) => o.id)).toContain(l.operatorId);
  });

  it('lists Metro 2A and Metro 3 with all their stations in order as built', () => {
    expect(line('metro-2a').stations.map((s) => s.name)).toEqual([
      'Cát Linh', 'La Thành', 'Thái Hà', 'Láng', 'Thượng Đình', 'Vành Đai 3',
      'Phùng Khoang', 'Văn Quán', 'Hà Đông', 'La Khê', 'Văn Khê', 'Yên Nghĩa',
    ]);
    expect(line('metro-3').stations.map((s) => s.name)).toEqual([
      'Nhổn', 'Minh Khai', 'Phú Diễn', 'Cầu Diễn', 'Lê Đức Thọ', 'Đại học Quốc gia', 'Chùa Hà', 'Cầu Giấy',
    ]);
    expect(line('brt01').stations).toHaveLength(21);
    expect(HANOI_LINES.filter((l) => l.mode === 'bus').length).toBeGreaterThanOrEqual(2);
  });

  it('places metro stations so that the published fares come out to the đồng', () => {
    expect(metroFare(stationKm('metro-2a', 'La Thành') - stationKm('metro-2a', 'Cát Linh'))).toBe(8595);
    expect(metroFare(stationKm('metro-2a', 'Yên Nghĩa') - stationKm('metro-2a', 'Cát Linh'))).toBe(18625);
    expect(metroFare(stationKm('metro-3', 'Minh Khai') - stationKm('metro-3', 'Nhổn'))).toBe(8935);
    expect(metroFare(stationKm('metro-3', 'Cầu Giấy') - stationKm('metro-3', 'Nhổn'))).toBe(14290);
    expect(stationKm('brt01', 'Yên Nghĩa')).toBe(14.7);
  });

  it('marks exactly the positions a published figure fixes as not estimated', () => {
    const published = HANOI_LINES.flatMap((l) => l.stations.filter((s) => !s.estimated).map((s) => `${l.id}:${s.name}`));
    expect(published.sort()).toEqual(
      ['metro-2a:Cát Linh', 'metro-2a:La Thành', 'metro-2a:Yên Nghĩa', 'metro-3:Cầu Giấy', 'metro-3:Minh Khai', 'metro-3:Nhổn'].sort(),
    );
  });

  it('starts every line at 0 km with strictly increasing positions and unique ids', () => {
    const ids = new Set<string>();
    for (const l of HANOI_LINES) {
      expect(l.stations[0].positionM).toBe(0);
      l.stations.forEach((s, i) => {
        if (i > 0) expect(s.positionM).toBeGreaterThan(l.stations[i - 1].positionM);
        expect(Number.isInteger(s.positionM)).toBe(true);
        expect(ids.has(s.id)).toBe(false);
        ids.add(s.id);
      });
    }
    expect(new Set(HANOI_LINES.map((l) => l.code)).size).toBe(HANOI_LINES.length);
  });
});
