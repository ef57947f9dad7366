/**
 * The shape of a CLI command: its flags are declared once, with their help text, so the parser
 * and `--help` can never disagree about which flags a command takes.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../util/errors.js';

export interface Flag {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** Placeholder of the value in the help (`<dir>`). */
  arg?: string;
  help: string;
}

export type Flags = Record<string, Flag>;
export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  /** Usage lines and description, printed before the flags. */
  usage: string;
  flags: Flags;
  /** Printed after the flags (exit codes, notes). */
  footer?: string;
  run(values: Values, positionals: string[]): Promise<number>;
}

function flagLine(name: string, f: Flag): [string, string] {
  const left = `${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ` ${f.arg ?? '<value>'}` : ''}`;
  const def = f.default !== undefined && f.default !== false ? ` (default: ${String(f.default)})` : '';
  return [left, `${f.help}${def}`];
}

/** The command's help: usage, every flag it accepts (generated from the declaration), footer. */
export function helpText(c: Command): string {
  const rows = [...Object.entries(c.flags).map(([n, f]) => flagLine(n, f)), ['-h, --help', 'show this help']] as [string, string][];
  const width = Math.min(32, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines = rows.map(([l, r]) => {
    const [first, ...rest] = r.split('\n');
    const pad = l.length + 2 > width ? `\n${' '.repeat(2 + width)}` : ' '.repeat(width - l.length);
    return [`  ${l}${pad}${first}`, ...rest.map((x) => `${' '.repeat(2 + width)}${x}`)].join('\n');
  });
  return [c.usage.trimEnd(), '', 'Flags:', ...lines, ...(c.footer ? ['', c.footer.trimEnd()] : [])].join('\n');
}

/** Parses argv against the declaration; an unknown flag is a UsageError pointing at this command's help. */
export function parseFlags(c: Command, args: string[]): { values: Values; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [n, f] of Object.entries(c.flags)) options[n] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) };
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Values, positionals, help: values['help'] === true };
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? String(err), c.name);
  }
}

/** A string flag's value (the declaration gives a default where one is needed). */
export function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

export function list(v: string | undefined): string[] {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export function wholeNumber(command: string, name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${v}"`, command);
  return n;
}

/** `k=v,k2=v2` -> labels. */
export function labelList(command: string, v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of list(v)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--labels: "${pair}" is not key=value`, command);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
