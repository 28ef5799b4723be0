import { resolve } from 'node:path';
import { parseArguments } from './gtfs-export';

describe('gtfs:export arguments', () => {
  it('reads the file, the instant, the days and the base feed with its id map', () => {
    expect(parseArguments(['feed.zip', '--at', '2026-07-01T00:00:00+07:00', '--days', '30', '--base-feed', 'base.zip', '--id-map', 'map.csv'])).toEqual({
      file: resolve('feed.zip'),
      at: Date.parse('2026-07-01T00:00:00+07:00'),
      days: 30,
      base: { feed: resolve('base.zip'), idMap: resolve('map.csv') },
    });
  });

  it.each([[[]], [['feed.zip', '--at']], [['feed.zip', '--at', 'soon']], [['feed.zip', '--days', '0']], [['feed.zip', '--base-feed', 'base.zip']], [['a.zip', 'b.zip']], [['feed.zip', '--nope', '1']]])(
    'refuses %j',
    (args) => {
      expect(parseArguments(args)).toBeUndefined();
    },
  );
});
