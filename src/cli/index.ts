/** The command table and the dispatcher: argv -> one command, errors -> a message and an exit code. */
import { UsageError, UserError } from '../util/errors.js';
import { auditCommand } from './audit.js';
import { certsCommand } from './certs.js';
import { type Command, helpText, parseFlags } from './command.js';
import { onboardCommand } from './onboard.js';
import { policyCommand } from './policy.js';
import { poolsCommand } from './pools.js';
import { diagnoseCommand } from './diagnose.js';
import { serveCommand } from './serve.js';
import { version } from './version.js';

export const COMMANDS: readonly Command[] = [serveCommand, auditCommand, onboardCommand, policyCommand, certsCommand, poolsCommand, diagnoseCommand];

export const MAIN_HELP = `gpu-admission — Kubernetes admission webhook for GPU and accelerator workloads

Usage: gpu-admission <command> [flags]

Commands:
  serve              run the HTTPS admission webhook (POST /mutate, POST /validate)
  audit              dry-run the policies over manifests (files, directories, stdin) or a cluster
  onboard            give a namespace GPUs: NamespacePolicy, Namespace, ResourceQuota, PriorityClass
  policy validate    check a policy directory and print what it defines
  policy explain     which policy governs a namespace, and what that means, in plain words
  policy test        run PolicyTest cases against the policies
  policy schema      print (or write) the JSON Schema of the policy files
  certs              generate a CA and a serving certificate for the webhook Service
  pools discover     print GpuPool documents for the accelerator node groups of a cluster
  diagnose           why a GPU Pod is Pending or restarting: the scheduler's reasons, nodes, taints, quota, probes

Run 'gpu-admission <command> --help' for the flags of a command.
Global flags: --help, --version`;

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    console.log(version());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  const { values, positionals, help } = parseFlags(command, rest);
  if (help) {
    console.log(helpText(command));
    return 0;
  }
  return command.run(values, positionals);
}

/** Runs one command line; returns the exit code (0 ok, 1 failed, 2 bad input). Never throws. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      console.error(`gpu-admission: ${message}\nRun 'gpu-admission ${err.command ? `${err.command} ` : ''}--help' for usage.`);
      return err.exitCode;
    }
    console.error(`gpu-admission: ${message}`);
    return err instanceof UserError ? err.exitCode : 1;
  }
}
