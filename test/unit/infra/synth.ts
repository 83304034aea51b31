import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../infra/entries.js';
import { HeadstartStack, type HeadstartStackProps } from '../../../infra/stack.js';

/** Tiny stand-in handlers: these tests are about the template, and bundling them takes milliseconds. */
export const FIXTURE_ENTRIES = {
  extract: 'test/fixtures/infra/extract/index.ts',
  train: 'test/fixtures/infra/train/index.ts',
  trainFailed: 'test/fixtures/infra/train-failed/index.ts',
  api: 'test/fixtures/infra/api/index.ts',
  classify: 'test/fixtures/infra/classify/index.ts',
  predict: 'test/fixtures/infra/predict/index.ts',
} as const;

/** The feature flags the real app runs with (cdk.json "context"), so tests see the template `cdk synth` makes. */
function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(cdkJson.context ?? {}).filter(([key]) => key.startsWith('@aws-cdk/')));
}

/** Synthesizes a HeadstartStack on the fixtures into a temp dir (assets staged there, not in cdk.out). */
export function synthStack(props: HeadstartStackProps = {}): { stack: HeadstartStack; template: Template; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'headstart-synth-'));
  // CloudFormation schema validation (~9 s of wasm per synth) runs in the real `cdk synth` (test/integration/synth.test.ts).
  const app = new App({ outdir, context: projectContext(), builtinCloudFormationValidation: false });
  const stack = new HeadstartStack(app, 'Test', { entries: FIXTURE_ENTRIES, ...props });
  return { stack, template: Template.fromStack(stack), outdir };
}

export interface Statement {
  Action: string | string[];
  Effect: string;
  Resource: unknown;
  Condition?: unknown;
}

/** Logical id of a construct's CloudFormation resource (its default child). */
export function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** Every statement of every AWS::IAM::Policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } };
  }[];
  return policies
    .filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/**
 * The object keys an action is allowed on, as the suffix after the bucket ARN ('/images/*'), for statements
 * whose resources are `bucketArn + suffix`. A resource on the bucket ARN itself is reported as ''.
 */
export function bucketSuffixes(statements: Statement[], action: string, bucketLogicalId: string): string[] {
  const suffixes: string[] = [];
  for (const s of statements) {
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    if (!actions.includes(action)) continue;
    for (const resource of [s.Resource].flat()) {
      const text = JSON.stringify(resource);
      if (text === JSON.stringify({ 'Fn::GetAtt': [bucketLogicalId, 'Arn'] })) suffixes.push('');
      const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      if (join && JSON.stringify(join[1][0]) === JSON.stringify({ 'Fn::GetAtt': [bucketLogicalId, 'Arn'] })) {
        suffixes.push(join[1].slice(1).join(''));
      }
    }
  }
  return suffixes.sort();
}

/** All actions granted by these statements. */
export function actionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
}
