/**
 * A YAML stream (one or more `---` documents) as plain values, for every reader of user
 * files (manifests, scenarios, image catalogs). A syntax error and an alias bomb (the
 * `yaml` library refuses to expand more than 100 aliases: a "billion laughs" file) are
 * both error values naming the document, so the caller can put the file name in front.
 */
import { parseAllDocuments } from 'yaml';

export type YamlDocument = { ok: true; value: unknown } | { ok: false; error: string };

/** One result per document, in order (an empty document's value is null). */
export function parseYamlDocuments(text: string): YamlDocument[] {
  const docs = parseAllDocuments(text, { prettyErrors: false });
  return (Array.isArray(docs) ? docs : [docs]).map((doc, i): YamlDocument => {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      return { ok: false, error: `document ${i + 1}: YAML${line ? ` line ${line}` : ''}: ${err.message.split('\n')[0]}` };
    }
    try {
      return { ok: true, value: doc.toJS() };
    } catch (e) {
      // ReferenceError "Excessive alias count indicates a resource exhaustion attack".
      return { ok: false, error: `document ${i + 1}: YAML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
    }
  });
}

/**
 * Every document's value, or the first document's error. A file that is one JSON value
 * (JSON is YAML) takes JSON.parse, several times faster than the YAML parser on a large
 * `kubectl get -o json` list; if it does not parse as JSON, the YAML parser reads it and
 * names the error.
 */
export function yamlValues(text: string): { ok: true; value: unknown[] } | { ok: false; error: string } {
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return { ok: true, value: [JSON.parse(text) as unknown] };
    } catch {
      // not JSON after all (a YAML flow mapping, or broken): the YAML parser says why
    }
  }
  const values: unknown[] = [];
  for (const d of parseYamlDocuments(text)) {
    if (!d.ok) return d;
    values.push(d.value);
  }
  return { ok: true, value: values };
}
