// `node --import ./test/support/deny-kube-client.mjs ...`: any import that resolves into
// @kubernetes/client-node fails, so a test can show a command runs without the client.
import { register } from 'node:module';

const hooks = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/@kubernetes/client-node/')) throw new Error('the Kubernetes client was loaded (' + specifier + ')');
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
