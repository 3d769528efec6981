/**
 * A field path as error messages name it: `spec.containers[0].image` (kubectl's and the
 * API server's style). Empty for the document itself; callers say what that is.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
