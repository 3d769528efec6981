import { describe, expect, it } from 'vitest';
import { yamlValues } from './yaml-documents.ts';

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
  it('reads several YAML documents', () => {
    expect(yamlValues('kind: A\n---\nkind: B\n')).toEqual({ ok: true, value: [{ kind: 'A' }, { kind: 'B' }] });
  });
});
