/**
 * A field path as error messages name it: `spec.containers[0].image` (kubectl's and the
 * API server's style). Empty for the document itself; callers say what that is.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** What a schema library reports about one field (zod's issues have this shape). */
export interface SchemaIssue {
  readonly code?: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** A union's branches, each a list of issues. */
  readonly errors?: readonly (readonly SchemaIssue[])[];
}

/** The deepest, most useful issue: a union is reported as one issue with its branches' errors; the branch that got furthest (longest path) is the likeliest intent. */
export function flattenIssue(issue: SchemaIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'invalid_union' && Array.isArray(issue.errors) && issue.errors.length > 0) {
    let best: { path: PropertyKey[]; message: string } | undefined;
    for (const branch of issue.errors) {
      for (const sub of branch) {
        const f = flattenIssue(sub);
        const cand = { path: [...issue.path, ...f.path], message: f.message };
        if (!best || cand.path.length > best.path.length) best = cand;
      }
    }
    if (best) return best;
  }
  return { path: [...issue.path], message: issue.message };
}

/** The one error format for a bad field of an outside input: `spec.containers[0].image: image is required` (`object` for the whole). */
export function describeIssue(issue: SchemaIssue, whole = 'object'): string {
  const f = flattenIssue(issue);
  return `${formatPath(f.path) || whole}: ${f.message}`;
}
