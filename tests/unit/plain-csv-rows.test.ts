/**
 * The local job counts a plain CSV file's rows by its line breaks instead of a DuckDB scan (issue 14). The count
 * must equal DuckDB's reading, so any shape where lines and rows could differ is left to DuckDB (undefined).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectCsv } from '../../adapters/local/glue';

describe('the rows inspectCsv counts by line breaks', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'sluice-lines-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rowsOf = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return inspectCsv(join(dir, name)).rows;
  };

  test('one row per line after the header, with or without a last line break', async () => {
    expect(rowsOf('a.csv', 'id,v\n1,x\n2,y\n')).toBe(2);
    expect(rowsOf('b.csv', 'id,v\n1,x\n2,y')).toBe(2);
    expect(rowsOf('c.csv', '\uFEFFid,v\n1,x\n')).toBe(1);
    expect(rowsOf('d.csv', 'id,v\n')).toBe(0);
    expect(rowsOf('e.csv', 'id,v')).toBe(0);
  });

  test('left to DuckDB where lines and rows may differ: quotes, carriage returns, blank lines', async () => {
    expect(rowsOf('q.csv', 'id,v\n1,"a\nb"\n')).toBeUndefined();
    expect(rowsOf('r.csv', 'id,v\r\n1,x\r\n')).toBeUndefined();
    expect(rowsOf('s.csv', 'id,v\n1,x\n\n2,y\n')).toBeUndefined();
    expect(rowsOf('t.csv', '\nid,v\n1,x\n')).toBeUndefined();
  });
});
