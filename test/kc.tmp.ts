import { FakeApiServer } from './support/apiserver/index.ts';
const s = await FakeApiServer.start();
const kc = await s.writeKubeconfig();
console.log(kc);
await new Promise((r) => setTimeout(r, 60000));
