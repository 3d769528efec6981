import { Command, CommanderError } from 'commander';
import { registerInspect } from './commands/inspect.ts';
import { CliError } from './errors.ts';
import { registerCerts } from './commands/certs.ts';
import { registerAdmissionServeOptions } from './commands/serve-admission.ts';
import { registerForecast } from './commands/forecast.ts';
import { registerPlan } from './commands/plan.ts';
import { registerProbe } from './commands/probe.ts';
import { registerSchedule } from './commands/schedule.ts';
import { registerServe } from './commands/serve.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerScalingQuality } from './commands/scaling-quality.ts';

// Each command lives in its own module under cli/commands and registers itself here.
// registerAdmissionServeOptions adds the extender's and webhook's flags to serve: after registerServe.
const registrations: ((program: Command) => void)[] = [
  registerInspect, registerSchedule, registerSimulate, registerScalingQuality, registerForecast, registerPlan,
  registerServe, registerAdmissionServeOptions, registerMigrate, registerProbe, registerCerts,
];

export function buildProgram(): Command {
  const program = new Command('polyarch')
    .description('Run one Kubernetes cluster well on nodes of several CPU architectures, with resources sized to what comes next.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') });
  for (const register of registrations) register(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failed operation, 2 bad usage. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`polyarch: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`polyarch: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
