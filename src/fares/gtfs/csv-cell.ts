/**
 * A CSV cell made safe against formula injection (CWE-1236): a value a spreadsheet would read as a
 * formula (starting with =, +, -, @, tab or carriage return) gets a leading apostrophe. Numbers are
 * left alone (a negative amount stays a number). Issue 17 adds a shared helper in src/common; this
 * one is local to the GTFS export until the two are merged.
 */
export function safeCsvCell(value: string): string {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
