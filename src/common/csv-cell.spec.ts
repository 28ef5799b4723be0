import { stringify } from 'csv-stringify/sync';
import { csvTextCell } from './csv-cell';

describe('csvTextCell', () => {
  it.each(['=1+2', '+HYPERLINK("http://evil.example","click")', '-2+3', '@SUM(A1)', '\t=1', '\r=1'])('neutralises %j', (value) => {
    expect(csvTextCell(value)).toBe(`'${value}`);
  });

  it.each(['Vé tháng Metro', 'a=b', '', '2026-11-21'])('leaves %j alone', (value) => {
    expect(csvTextCell(value)).toBe(value);
  });

  it('escapes text cells, not numbers, through csv-stringify', () => {
    const csv = stringify([{ name: '=cmd', amount: -5000 }], { header: true, columns: ['name', 'amount'], cast: { string: csvTextCell } });
    expect(csv).toBe("name,amount\n'=cmd,-5000\n");
  });
});
