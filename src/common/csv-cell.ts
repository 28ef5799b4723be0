/** Characters that make a spreadsheet read a cell as a formula (=, +, -, @) or that some treat alike (tab, CR). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell as every CSV the service writes must hold it: one that a spreadsheet would run as a
 * formula (`=HYPERLINK(...)`, `+1`, `@SUM`) gets a leading apostrophe, so it is shown as text
 * (OWASP's advice against CSV injection). Use it for text cells only: numbers (a refund's -5000)
 * are written as they are. Use with csv-stringify as `cast: { string: csvTextCell }`.
 */
export function csvTextCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}
