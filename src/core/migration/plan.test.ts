import { describe, expect, it } from 'vitest';
import type { Pod } from '../k8s/types.ts';
import { replacementPod } from './plan.ts';
import { SOURCE_IMAGES_ANNOTATION } from '../k8s/annotations.ts';

const pod = (name: string): Pod => ({
  metadata: { name, namespace: 'ns' },
  spec: { nodeName: 'n', containers: [{ name: 'c', image: 'r/a@sha256:1' }] },
});

describe('migration plan', () => {
  it('builds the replacement from the recorded source images, unbound, with where it came from', () => {
    const p = pod('a');
    const withSource: Pod = { ...p, metadata: { ...p.metadata, annotations: { [SOURCE_IMAGES_ANNOTATION]: '{"c":"r/a:1"}', 'polyarch.io/platform': 'linux/arm64/v8' } } };
    const r = replacementPod(withSource, 'n');
    if (!r.ok) throw new Error(r.error);
    expect(r.value.spec.containers[0]?.image).toBe('r/a:1');
    expect(r.value.spec.nodeName).toBeUndefined();
    expect(r.value.metadata.annotations).toEqual({ [SOURCE_IMAGES_ANNOTATION]: '{"c":"r/a:1"}', 'polyarch.io/migrated-from': 'n' });
    const bad: Pod = { ...p, metadata: { ...p.metadata, annotations: { [SOURCE_IMAGES_ANNOTATION]: '[1' } } };
    expect(replacementPod(bad, 'n')).toEqual({ ok: false, error: `pod ns/a: annotation ${SOURCE_IMAGES_ANNOTATION} is not JSON` });
  });
});
