// Composition root: the entry point of the `polyarch` command.
import { run } from './cli/index.ts';

const code = await run(process.argv.slice(2));
process.exitCode = code;
