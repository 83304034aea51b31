import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeadstartStackProps } from '../../../infra/stack.js';
import { cfnLint, guardFindings, nagFindings, templateFile, type Finding } from '../../helpers/aws-checks.js';
import { synthStack } from './synth.js';

/**
 * AWS's own checks on the template: cdk-nag (AwsSolutions, Serverless), the Control Tower Guard rules
 * (@cdklabs/cdk-validator-cfnguard) and cfn-lint where installed, on the default stack and the variants the
 * knobs make. Every finding is fixed or acknowledged in infra/acknowledgments.ts with its reason; a new one fails.
 */
const VARIANTS: Record<string, HeadstartStackProps> = {
  default: {},
  "extraction 'both' + fine-tuning + alarm email + provisioned concurrency": {
    extractionMode: 'both', finetune: true, alarmEmail: 'ops@example.com', provisionedConcurrency: 2,
  },
  "extraction 'batch' only": { extractionMode: 'batch' },
};

const show = (findings: Finding[]) => findings.map((f) => `${f.rule} at ${f.path}`);
const lintAvailable = cfnLint.available();
if (!lintAvailable) console.warn('cfn-lint is not on PATH: the cfn-lint check is skipped (pip install cfn-lint to run it)');

// One synth per variant, shared by all three checks; Guard and cfn-lint each run once over all templates.
const synths = new Map<string, ReturnType<typeof synthStack> & { templatePath: string }>();
let guard: Map<string, Finding[]>;
beforeAll(() => {
  for (const [name, props] of Object.entries(VARIANTS)) {
    const synth = synthStack(props);
    synths.set(name, { ...synth, templatePath: templateFile(synth.outdir, synth.stack.stackName) });
  }
  const all = [...synths.values()];
  const findings = guardFindings(all);
  guard = new Map([...synths.keys()].map((name, i) => [name, findings[i]]));
});

describe.each(Object.keys(VARIANTS))('%s', (name) => {
  it('has no unacknowledged cdk-nag finding (AwsSolutions, Serverless)', () => {
    expect(show(nagFindings(synths.get(name)!.stack))).toEqual([]);
  });

  it('has no unacknowledged Control Tower Guard finding', () => {
    expect(show(guard.get(name)!)).toEqual([]);
  });
});

describe.skipIf(!lintAvailable)(`cfn-lint${lintAvailable ? '' : ' (skipped: not on PATH)'}`, () => {
  it('finds no error or warning in any variant', () => {
    const findings = cfnLint([...synths.values()].map((s) => s.templatePath)) ?? [];
    // W3005: CDK itself writes DependsOn on a function's role that a GetAtt already implies; harmless.
    expect(findings.filter((line) => !/:W3005:/.test(line))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('report an unacknowledged finding, so a new one fails', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'headstart-nag-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bare');
    new s3.Bucket(stack, 'Plain');
    app.synth();

    expect(nagFindings(stack).map((f) => f.rule)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    expect(guardFindings([{ stack, templatePath: templateFile(outdir, 'Bare') }])[0].map((f) => f.rule)).toEqual(expect.arrayContaining(['CT.S3.PR.2']));
  });
});
