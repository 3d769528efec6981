/**
 * `polyarch certs --service NAME --namespace NS --out DIR`: a CA and a serving
 * certificate for the webhook and the extender, for clusters without cert-manager.
 * Writes ca.crt, ca.key, tls.crt, tls.key (the kubernetes.io/tls Secret's key names);
 * a CA already in DIR is reused, so rotating the serving certificate keeps the caBundle.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { makeCertificates } from '../../adapters/tls/certificates.ts';
import { CliError, usageError } from '../errors.ts';
import { formatTable, outputOption, printJson, type OutputFormat } from '../output.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface CertsFlags {
  service: string;
  namespace: string;
  out: string;
  days: string;
  dns: string[];
  ip: string[];
  newCa?: boolean;
  output: OutputFormat;
}

/** Written to a temporary name and renamed, so a server watching DIR never reads half a file. */
async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .requiredOption('--service <name>', 'the Service in front of polyarch')
    .requiredOption('--namespace <ns>', "the Service's namespace")
    .requiredOption('--out <dir>', 'directory for ca.crt, ca.key, tls.crt, tls.key')
    .option('--days <n>', 'validity of the serving certificate, days', '365')
    .addOption(new Option('--dns <name>', 'an extra DNS name (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]).default([]))
    .addOption(new Option('--ip <addr>', 'an IP address SAN (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]).default([]))
    .option('--new-ca', 'make a new CA even if DIR has one (the caBundle changes)')
    .addOption(outputOption())
    .action(async (flags: CertsFlags) => {
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw usageError(`--days: want a whole number of days from 1 to 3650, got "${flags.days}"`);
      if (!DNS_LABEL.test(flags.service) || flags.service.length > 63) throw usageError(`--service: "${flags.service}" is not a DNS-1035 label`);
      if (!DNS_LABEL.test(flags.namespace) || flags.namespace.length > 63) throw usageError(`--namespace: "${flags.namespace}" is not a DNS-1123 label`);
      for (const ip of flags.ip) if (!isIP(ip)) throw usageError(`--ip: "${ip}" is not an IP address`);
      const caCert = join(flags.out, 'ca.crt');
      const caKey = join(flags.out, 'ca.key');
      let ca: { certPem: string; keyPem: string } | undefined;
      try {
        await mkdir(flags.out, { recursive: true });
        if (!flags.newCa && existsSync(caCert) && existsSync(caKey)) ca = { certPem: await readFile(caCert, 'utf8'), keyPem: await readFile(caKey, 'utf8') };
      } catch (err) {
        throw new CliError(`--out ${flags.out}: ${err instanceof Error ? err.message : String(err)}`);
      }
      let set;
      try {
        set = makeCertificates({ service: flags.service, namespace: flags.namespace, validityDays: days, extraDnsNames: flags.dns, ipAddresses: flags.ip, now: new Date(), ...(ca ? { ca } : {}) });
      } catch (err) {
        throw new CliError(`certs: ${err instanceof Error ? err.message : String(err)}${ca ? ` (the CA in ${flags.out}; --new-ca replaces it)` : ''}`);
      }
      try {
        if (!set.caReused) {
          await writeAtomically(caKey, set.caKeyPem, 0o600);
          await writeAtomically(caCert, set.caCertPem, 0o644);
        }
        // Key before certificate: a reloading server that sees the new certificate finds its key already there.
        await writeAtomically(join(flags.out, 'tls.key'), set.keyPem, 0o600);
        await writeAtomically(join(flags.out, 'tls.crt'), set.certPem, 0o644);
      } catch (err) {
        throw new CliError(`writing to ${flags.out}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const result = {
        dir: flags.out,
        files: { caCert, caKey, cert: join(flags.out, 'tls.crt'), key: join(flags.out, 'tls.key') },
        dnsNames: set.dnsNames,
        notAfter: set.notAfter.toISOString(),
        caReused: set.caReused,
        caBundle: Buffer.from(set.caCertPem).toString('base64'),
      };
      if (flags.output === 'json') return printJson(result);
      process.stdout.write(`${formatTable(['file', 'path'], Object.entries(result.files))}\n`);
      process.stdout.write(`serving certificate for ${set.dnsNames.join(', ')} until ${result.notAfter}${set.caReused ? ' (existing CA)' : ''}\n`);
      process.stdout.write(`caBundle for the MutatingWebhookConfiguration: base64 -w0 ${caCert}\n`);
    });
}
