import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { yamlLibraryValues, yamlValues } from './yaml-documents.ts';

describe('yamlValues', () => {
  it('reads a JSON file as one document (the JSON fast path)', () => {
    expect(yamlValues(' {"kind": "List", "items": [{"kind": "Node"}]}\n')).toEqual({ ok: true, value: [{ kind: 'List', items: [{ kind: 'Node' }] }] });
  });
  it('reads a YAML flow mapping that is not JSON through the YAML parser', () => {
    expect(yamlValues('{kind: Node, metadata: {name: a}}')).toEqual({ ok: true, value: [{ kind: 'Node', metadata: { name: 'a' } }] });
  });
  it('names the error of broken JSON as the YAML parser sees it', () => {
    const r = yamlValues('{"kind": "Node",');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^document 1: YAML/);
  });
  it('reads a file of comments only as no document, and a file of `~` or `null` as one null document', () => {
    expect(yamlValues('# nothing here\n')).toEqual({ ok: true, value: [] });
    expect(yamlValues('~\n')).toEqual({ ok: true, value: [null] });
    expect(yamlValues('null')).toEqual({ ok: true, value: [null] });
    expect(yamlValues('---\n# empty\n')).toEqual({ ok: true, value: [null] });
  });
  it('reads several YAML documents', () => {
    expect(yamlValues('kind: A\n---\nkind: B\n')).toEqual({ ok: true, value: [{ kind: 'A' }, { kind: 'B' }] });
  });
});

describe('yamlValues: js-yaml and the yaml library read the same', () => {
  // Plain scalars where YAML 1.1 and 1.2, or the two libraries, could part ways.
  const SCALARS = [
    '0b101', '-0x1F', '+0o17', '-.5', '.5', '1e3', '1_000', '0x1F', '0o17', '012', '0777', 'yes', 'No', 'on', 'OFF', '~', 'null', 'Null', 'NULL', '', 'true',
    'True', 'TRUE', 'false', '.inf', '-.Inf', '+.INF', '.NaN', '1.', '+12', '-0', '0.0', '1e-3', '+1e+3', '128Gi', '100m', '"32"', "'110'", '2024-01-01',
    '2024-01-01T00:00:00Z', '12:30', '1:20:30', 'a b', '"a\\tb"', '"\\u00e9"', "'it''s'", 'x # comment', '[1, a, "b"]', '{a: 1, b: [2]}', 'sha256:0b1f', '<<',
  ];
  const scalar = fc.constantFrom(...SCALARS);
  const key = fc.constantFrom('name', 'cpu', 'memory', 'kubernetes.io/arch', 'a', 'b', '"quoted key"', '1', 'true');
  const mapping = (indent: string): fc.Arbitrary<string> =>
    fc.uniqueArray(fc.tuple(key, fc.oneof(scalar.map((v) => ` ${v}`), fc.array(scalar, { minLength: 1, maxLength: 3 }).map((vs) => vs.map((v) => `\n${indent}- ${v}`).join('')))), {
      minLength: 1, maxLength: 5, selector: ([k]) => k,
    }).map((entries) => entries.map(([k, v]) => `${indent}${k}:${v}`).join('\n'));
  const document = fc.oneof(
    mapping(''),
    fc.tuple(mapping(''), key, mapping('  ')).map(([top, k, nested]) => `${top}\nnested_${k.replace(/"/g, '')}:\n${nested}`),
    fc.constantFrom('', '# only a comment', 'plain', '- a\n- b', '~', 'null', '~ # a comment'),
  );

  it('gives the values of the yaml library (or its error) on generated multi-document files', () => {
    fc.assert(
      fc.property(fc.array(document, { minLength: 1, maxLength: 4 }), fc.constantFrom('---\n', '\n---\n'), fc.boolean(), (docs, sep, lead) => {
        const text = `${lead ? '---\n' : ''}${docs.join(sep)}\n`;
        const fast = yamlValues(text);
        const slow = yamlLibraryValues(text);
        expect(fast.ok).toBe(slow.ok);
        if (fast.ok && slow.ok) expect(fast.value).toEqual(slow.value);
      }),
      { numRuns: 1000 },
    );
  });
});
