import { Command, CommanderError } from 'commander';
import { CliError } from './errors.ts';

type Registration = (program: Command) => void;

interface CommandEntry {
  readonly name: string;
  readonly description: string;
  /** The command's module(s), imported only when the command runs (or its help is asked for). */
  readonly load: () => Promise<readonly Registration[]>;
}

// Each command lives in its own module under cli/commands and registers itself. The modules
// are loaded lazily, one command per process: `polyarch --help` loads none of them, and the
// Kubernetes client is loaded only by the commands that talk to a cluster (serve, migrate,
// probe --kube). The one-line descriptions live here so that the command list needs no module.
const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'inspect',
    description: 'the platforms and per-platform digests of an image, including variants found by tag convention',
    load: async () => [(await import('./commands/inspect.ts')).registerInspect],
  },
  {
    name: 'schedule',
    description: 'place the pending pods of a set of manifests and explain each decision',
    load: async () => [(await import('./commands/schedule.ts')).registerSchedule],
  },
  {
    name: 'simulate',
    description: 'run the embedded cluster (the default scenario when none is given) with polyarch and the baselines, and write a report',
    load: async () => [(await import('./commands/simulate.ts')).registerSimulate],
  },
  {
    name: 'scaling-quality',
    description: 'slack, shortage and OOM kills of polyarch, static requests, the VPA recommender and the oracle, per scenario (docs/scaling-quality.md)',
    load: async () => [(await import('./commands/scaling-quality.ts')).registerScalingQuality],
  },
  {
    name: 'forecast',
    description: 'forecast a usage trace (CSV) with the double moving average and score it against baselines',
    load: async () => [(await import('./commands/forecast.ts')).registerForecast],
  },
  {
    name: 'plan',
    description: 'the scaling and reclaim plan for a snapshot of applications and capacity (JSON or YAML)',
    load: async () => [(await import('./commands/plan.ts')).registerPlan],
  },
  {
    name: 'serve',
    description: 'run in a cluster: the roles given, leader-elected, with /healthz, /readyz and /metrics',
    // registerAdmissionServeOptions adds the extender's and webhook's flags to serve: after registerServe.
    load: async () => {
      const [serve, admission] = await Promise.all([import('./commands/serve.ts'), import('./commands/serve-admission.ts')]);
      return [serve.registerServe, admission.registerAdmissionServeOptions];
    },
  },
  {
    name: 'migrate',
    description: 'move pods: drain a node (--node NODE), or move one pod to another platform (POD --to PLATFORM)',
    load: async () => [(await import('./commands/migrate.ts')).registerMigrate],
  },
  {
    name: 'exec-format',
    description: 'list or forget the image digests recorded as not running on a platform (exec format errors)',
    load: async () => [(await import('./commands/exec-format.ts')).registerExecFormat],
  },
  {
    name: 'probe',
    description: 'the node probe (DaemonSet): per-minute maxima of CPU, memory, network and disk from the cgroups of the pods on this node',
    load: async () => [(await import('./commands/probe.ts')).registerProbe],
  },
  {
    name: 'certs',
    description: 'write a CA and a serving certificate for the webhook and the extender (clusters without cert-manager)',
    load: async () => [(await import('./commands/certs.ts')).registerCerts],
  },
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/**
 * The program with every command fully registered (`names` omitted), or only the commands
 * named; the others are listed by name and description alone, for the help text.
 */
export async function buildProgram(names: readonly string[] = COMMAND_NAMES): Promise<Command> {
  const program = new Command('polyarch')
    .description('Run one Kubernetes cluster well on nodes of several CPU architectures, with resources sized to what comes next.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') });
  const loaded = await Promise.all(COMMANDS.map((c) => (names.includes(c.name) ? c.load() : undefined)));
  COMMANDS.forEach((entry, i) => {
    const registrations = loaded[i];
    if (registrations === undefined) {
      program.command(entry.name).description(entry.description);
      return;
    }
    for (const register of registrations) register(program);
    program.commands.find((c) => c.name() === entry.name)?.description(entry.description);
  });
  return program;
}

/** The command a command line runs (`polyarch help X` asks about X), if it names one. */
function commandOf(argv: readonly string[]): string | undefined {
  const word = argv[0] === 'help' ? argv[1] : argv[0];
  return word !== undefined && COMMAND_NAMES.includes(word) ? word : undefined;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failed operation, 2 bad usage. */
export async function run(argv: readonly string[]): Promise<number> {
  const command = commandOf(argv);
  try {
    const program = await buildProgram(command === undefined ? [] : [command]);
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
