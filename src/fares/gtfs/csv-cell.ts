import { csvTextCell } from '../../common/csv-cell';

/**
 * A GTFS cell made safe against formula injection (CWE-1236) by the service's one rule for text
 * cells (common/csv-cell.ts). GTFS writes every value as text, so numbers (a negative amount, a
 * coordinate) are recognised here and left as they are.
 */
export function safeCsvCell(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : csvTextCell(value);
}
