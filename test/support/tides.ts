import Ajv from 'ajv';
import { parse } from 'csv-parse/sync';
import { unzipSync, strFromU8 } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Checks a TIDES data package against the TIDES v1.0 schemas vendored in test/fixtures/tides
 * (see SOURCE.md there): the descriptor against tides-datapackage-profile.json, and every resource
 * against its Table Schema as Frictionless reads one, in either column-matching mode:
 * - `position`: the n-th column is the n-th field (Frictionless' default), same count;
 * - `name`: every header names a field of the schema, and every required field is there.
 * Then the values: types (strict datetime: no fraction), missing values, required, unique, enum,
 * minimum, the primary key, and the foreign references to tables the package holds.
 */
export type ColumnMatching = 'position' | 'name';
type Field = { name: string; type: string; constraints?: { required?: boolean; unique?: boolean; enum?: string[]; minimum?: number } };
type TableSchema = { fields: Field[]; primaryKey?: string; missingValues?: string[]; foreignReferences?: Array<{ fields: string | string[]; reference: { resource: string; fields: string | string[] } }> };

const FIXTURES = join(__dirname, '..', 'fixtures', 'tides');
const vendored = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));

export function unzipPackage(zip: Buffer): Map<string, string> {
  return new Map(Object.entries(unzipSync(new Uint8Array(zip))).map(([name, bytes]) => [name, strFromU8(bytes)]));
}

const TYPE_CHECKS: Record<string, (value: string) => boolean> = {
  string: () => true,
  number: (value) => /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value),
  integer: (value) => /^-?\d+$/.test(value),
  boolean: (value) => ['true', 'false', 'True', 'False', 'TRUE', 'FALSE', '1', '0'].includes(value),
  date: (value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)),
  // Table Schema "default" datetime format: YYYY-MM-DDThh:mm:ssZ (RFC 3339 without fraction).
  datetime: (value) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)),
};

/** The problems of a package (files by name), none when it is valid. */
export function tidesPackageProblems(files: ReadonlyMap<string, string>, matching: ColumnMatching): string[] {
  const problems: string[] = [];
  const descriptorText = files.get('datapackage.json');
  if (!descriptorText) return ['no datapackage.json'];
  const descriptor = JSON.parse(descriptorText) as { resources: Array<{ name: string; path: string; schema: string }> };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(vendored('tides-datapackage-profile.json') as object);
  if (!validate(descriptor)) problems.push(...(validate.errors ?? []).map((error) => `datapackage.json${error.instancePath}: ${error.message ?? ''}`));

  const tables = new Map<string, { schema: TableSchema; rows: Array<Record<string, string>> }>();
  for (const resource of descriptor.resources) {
    const schemaName = resource.schema.split('/').pop() ?? '';
    const schemaText = files.get(schemaName);
    const schema = (schemaText ? JSON.parse(schemaText) : vendored(schemaName)) as TableSchema;
    const text = files.get(resource.path);
    if (text === undefined) {
      problems.push(`${resource.path} is missing`);
      continue;
    }
    const records: string[][] = parse(text, { relax_column_count: true });
    const [header = [], ...body] = records;
    body.forEach((record, line) => {
      if (record.length !== header.length) problems.push(`${resource.path} row ${line + 2}: ${record.length} cells under ${header.length} columns`);
    });
    const names = schema.fields.map((field) => field.name);
    if (matching === 'position') {
      if (header.length !== names.length || header.some((name, index) => name !== names[index])) {
        problems.push(`${resource.path}: columns [${header.join(',')}] are not the schema's fields in order [${names.join(',')}]`);
      }
    } else {
      for (const name of header) if (!names.includes(name)) problems.push(`${resource.path}: column ${name} is not a field of ${schemaName}`);
      for (const field of schema.fields) if (field.constraints?.required && !header.includes(field.name)) problems.push(`${resource.path}: required field ${field.name} is absent`);
    }
    // Values are read as the mode maps them: by position the n-th field, by name the header's.
    const fieldOf = (index: number): Field | undefined => (matching === 'position' ? schema.fields[index] : schema.fields.find((field) => field.name === header[index]));
    const missing = new Set(schema.missingValues ?? ['']);
    const rows: Array<Record<string, string>> = [];
    const seen = new Map<string, Set<string>>();
    body.forEach((record, line) => {
      const row: Record<string, string> = {};
      record.forEach((value, index) => {
        const field = fieldOf(index);
        if (!field) return;
        const where = `${resource.path} row ${line + 2} ${field.name}`;
        if (missing.has(value)) {
          if (field.constraints?.required) problems.push(`${where}: required, missing`);
          return;
        }
        row[field.name] = value;
        if (!(TYPE_CHECKS[field.type] ?? (() => false))(value)) problems.push(`${where}: ${JSON.stringify(value)} is not a ${field.type}`);
        if (field.constraints?.enum && !field.constraints.enum.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} is not one of the enum`);
        if (field.constraints?.minimum !== undefined && Number(value) < field.constraints.minimum) problems.push(`${where}: below ${field.constraints.minimum}`);
        if (field.constraints?.unique || schema.primaryKey === field.name) {
          const values = seen.get(field.name) ?? new Set<string>();
          if (values.has(value)) problems.push(`${where}: ${value} is not unique`);
          values.add(value);
          seen.set(field.name, values);
        }
      });
      rows.push(row);
    });
    tables.set(resource.name, { schema, rows });
  }
  for (const [name, { schema, rows }] of tables) {
    for (const reference of schema.foreignReferences ?? []) {
      const [field, target, targetField] = [reference.fields, reference.reference.resource, reference.reference.fields];
      if (typeof field !== 'string' || typeof targetField !== 'string') continue;
      const used = rows.filter((row) => row[field] !== undefined);
      if (used.length === 0) continue;
      const targetTable = tables.get(target);
      if (!targetTable) {
        problems.push(`${name}.${field} references ${target}, which the package does not hold`);
        continue;
      }
      const keys = new Set(targetTable.rows.map((row) => row[targetField]));
      for (const row of used) if (!keys.has(row[field])) problems.push(`${name}.${field} ${row[field]} is not in ${target}`);
    }
  }
  return problems;
}
