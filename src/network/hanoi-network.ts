/**
 * Hà Nội's operators, lines and stations, as seeded. Positions are metres from the first station.
 *
 * Metro positions reproduce the published electronic fares (8,000 VND + 850 VND per km):
 * Line 2A Cát Linh → La Thành 8,595 (0.7 km) and Cát Linh → Yên Nghĩa 18,625 (12.5 km);
 * Line 3 Nhổn → Minh Khai 8,935 (1.1 km) and Nhổn → Cầu Giấy 14,290 (7.4 km).
 * Every other position is an estimate, and says so (`estimated: true`). Bus stop lists are a
 * representative subset along each corridor, all estimated: replace them with the operator's GTFS.
 */

export type TransportMode = 'metro' | 'brt' | 'bus';
export const TRANSPORT_MODES: readonly TransportMode[] = ['metro', 'brt', 'bus'];

export interface OperatorSeed {
  id: string;
  name: string;
  shortName: string;
}

export interface StationSeed {
  id: string;
  name: string;
  positionM: number;
  estimated: boolean;
}

export interface LineSeed {
  id: string;
  code: string;
  name: string;
  mode: TransportMode;
  operatorId: string;
  stations: StationSeed[];
}

export const HANOI_OPERATORS: OperatorSeed[] = [
  { id: 'hmc', name: 'Công ty TNHH MTV Đường sắt Hà Nội (Hanoi Metro)', shortName: 'Hanoi Metro' },
  { id: 'transerco', name: 'Tổng công ty Vận tải Hà Nội (Transerco)', shortName: 'Transerco' },
  { id: 'vinbus', name: 'Công ty TNHH Dịch vụ Vận tải VinBus', shortName: 'VinBus' },
];

/** Builds a station list; `published` names the stations whose position a published fare fixes. */
function stations(prefix: string, list: Array<[string, number]>, published: readonly string[] = []): StationSeed[] {
  return list.map(([name, km]) => ({
    id: `${prefix}-${slug(name)}`,
    name,
    positionM: Math.round(km * 1000),
    estimated: !published.includes(name),
  }));
}

function slug(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export const HANOI_LINES: LineSeed[] = [
  {
    id: 'metro-2a',
    code: '2A',
    name: 'Metro 2A Cát Linh – Hà Đông',
    mode: 'metro',
    operatorId: 'hmc',
    stations: stations(
      '2a',
      [
        ['Cát Linh', 0],
        ['La Thành', 0.7],
        ['Thái Hà', 1.7],
        ['Láng', 2.8],
        ['Thượng Đình', 3.9],
        ['Vành Đai 3', 4.9],
        ['Phùng Khoang', 6.1],
        ['Văn Quán', 7.3],
        ['Hà Đông', 8.5],
        ['La Khê', 9.7],
        ['Văn Khê', 11.0],
        ['Yên Nghĩa', 12.5],
      ],
      ['Cát Linh', 'La Thành', 'Yên Nghĩa'],
    ),
  },
  {
    id: 'metro-3',
    code: '3',
    name: 'Metro 3 Nhổn – Cầu Giấy (elevated section)',
    mode: 'metro',
    operatorId: 'hmc',
    stations: stations(
      '3',
      [
        ['Nhổn', 0],
        ['Minh Khai', 1.1],
        ['Phú Diễn', 2.2],
        ['Cầu Diễn', 3.2],
        ['Lê Đức Thọ', 4.3],
        ['Đại học Quốc gia', 5.3],
        ['Chùa Hà', 6.3],
        ['Cầu Giấy', 7.4],
      ],
      ['Nhổn', 'Minh Khai', 'Cầu Giấy'],
    ),
  },
  {
    id: 'brt01',
    code: 'BRT01',
    name: 'BRT01 Kim Mã – Yên Nghĩa',
    mode: 'brt',
    operatorId: 'transerco',
    stations: stations(
      'brt01',
      [
        ['Kim Mã', 0],
        ['Giảng Võ', 0.7],
        ['Hào Nam', 1.4],
        ['Láng Hạ', 2.2],
        ['Thái Thịnh', 2.9],
        ['Huỳnh Thúc Kháng', 3.6],
        ['Láng', 4.3],
        ['Hoàng Đạo Thúy', 5.0],
        ['Nhân Chính', 5.7],
        ['Khuất Duy Tiến', 6.4],
        ['Tố Hữu', 7.1],
        ['Trung Văn', 7.8],
        ['Vạn Phúc', 8.6],
        ['Làng Việt Kiều Châu Âu', 9.3],
        ['Văn Phú', 10.0],
        ['Lê Trọng Tấn', 10.8],
        ['Quang Trung', 11.6],
        ['Văn Khê', 12.4],
        ['Ba La', 13.2],
        ['Phú Lãm', 13.9],
        ['Yên Nghĩa', 14.7],
      ],
      // The route length (14.7 km) is published; the stop positions are not.
      [],
    ),
  },
  {
    id: 'bus-32',
    code: '32',
    name: 'Bus 32 Giáp Bát – Nhổn',
    mode: 'bus',
    operatorId: 'transerco',
    stations: stations('32', [
      ['Bến xe Giáp Bát', 0],
      ['Giải Phóng', 1.6],
      ['Đại học Bách khoa', 3.4],
      ['Xã Đàn', 5.1],
      ['Tây Sơn', 6.9],
      ['Chùa Bộc', 8.2],
      ['Thái Hà', 9.6],
      ['Cầu Giấy', 12.0],
      ['Xuân Thủy', 13.5],
      ['Hồ Tùng Mậu', 15.2],
      ['Cầu Diễn', 18.4],
      ['Nhổn', 22.3],
    ]),
  },
  {
    id: 'bus-e01',
    code: 'E01',
    name: 'Electric bus E01 Bến xe Mỹ Đình – Ocean Park',
    mode: 'bus',
    operatorId: 'vinbus',
    stations: stations('e01', [
      ['Bến xe Mỹ Đình', 0],
      ['Phạm Hùng', 2.1],
      ['Trần Duy Hưng', 4.6],
      ['Ngã Tư Sở', 7.3],
      ['Trường Chinh', 9.0],
      ['Minh Khai', 12.8],
      ['Cầu Vĩnh Tuy', 15.9],
      ['Cổ Linh', 18.7],
      ['Trâu Quỳ', 24.6],
      ['Ocean Park', 27.5],
    ]),
  },
];
