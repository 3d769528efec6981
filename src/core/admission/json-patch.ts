/** RFC 6902 JSON Patch operations, as admission responses and pod patches carry them. */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** One reference token of an RFC 6901 JSON Pointer: `~` -> `~0`, `/` -> `~1`. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${escapePointer(String(t))}`).join('');
}
