/**
 * A YAML stream (one or more `---` documents) as plain values, for every reader of user
 * files (manifests, scenarios, image catalogs). A syntax error and an alias bomb (the
 * `yaml` library refuses to expand more than 100 aliases: a "billion laughs" file) are
 * both error values naming the document, so the caller can put the file name in front.
 */
import { CORE_SCHEMA, loadAll } from 'js-yaml';
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
 * Where js-yaml's YAML 1.2 core schema and the `yaml` library's could read a file
 * differently, or where only the `yaml` library guards the reader: anchors and aliases
 * (`&`, `*`: the alias-bomb limit), tags (`!`), directives (`%YAML 1.1` switches the
 * `yaml` library's schema), and the plain scalars js-yaml reads as numbers and the core
 * schema as strings or the other way round (`0b101`, signed hex and octal, `-.5`), and
 * `-0` (js-yaml reads 0). A
 * file with any of these, anywhere (even inside a string), is read by the `yaml` library.
 */
const MAY_DIFFER = /[&*!]|^%|(?:^|[\s[{,])(?:0b[01]|[-+]0|[-+]\.[0-9])/m;

/**
 * Every document's value, or the first document's error. A file that is one JSON value
 * (JSON is YAML) takes JSON.parse, several times faster than the YAML parser on a large
 * `kubectl get -o json` list; if it does not parse as JSON, the YAML parser reads it and
 * names the error. Other files take js-yaml with its YAML 1.2 core schema (some ten
 * times faster than the `yaml` library on a 5,000-node file, `npm run bench parse`),
 * which gives the same values as the `yaml` library's core schema except where
 * MAY_DIFFER says; such a file, and any file js-yaml refuses, is read by the `yaml`
 * library, whose errors name the document and line
 * (src/adapters/yaml-documents.test.ts compares the two on generated files).
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
  if (!MAY_DIFFER.test(text)) {
    try {
      const values = loadAll(text, undefined, { schema: CORE_SCHEMA }).map((v) => v ?? null);
      // One null document: a file of comments only (no document to the yaml library, one
      // empty document to js-yaml) or a file that is only `~` or `null` (one null document
      // to both). Rare and cheap: the yaml library tells them apart.
      if (values.length === 1 && values[0] === null) return yamlLibraryValues(text);
      return { ok: true, value: values };
    } catch {
      // js-yaml refused it: the yaml library reads it and names the error
    }
  }
  return yamlLibraryValues(text);
}

/** yamlValues through the `yaml` library only. */
export function yamlLibraryValues(text: string): { ok: true; value: unknown[] } | { ok: false; error: string } {
  const values: unknown[] = [];
  for (const d of parseYamlDocuments(text)) {
    if (!d.ok) return d;
    values.push(d.value);
  }
  return { ok: true, value: values };
}
