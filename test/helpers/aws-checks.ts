import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One finding: the rule (cdk-nag id, or the Control Tower id `CT.…` of a Guard rule) and where. */
export interface Finding {
  readonly rule: string;
  /** Construct path, e.g. 'Test/Api/RestApi/Resource'. */
  readonly path: string;
}

/**
 * cdk-nag's AwsSolutions and Serverless packs on the construct tree. v3 packs skip what is acknowledged with
 * `Validations.of(construct).acknowledge` (infra/acknowledgments.ts), so what comes back is unacknowledged.
 */
export function nagFindings(stack: Stack): Finding[] {
  return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack.validateScope(stack).violations.flatMap((v) =>
      v.violatingResources.map((r) => ({ rule: v.ruleName, path: (r as { constructPath?: string }).constructPath ?? r.resourceLogicalId ?? '?' })),
    ),
  );
}

/** The rule ids acknowledged on a construct or any of its ancestors. */
export function acknowledgedRules(construct: IConstruct): Set<string> {
  const rules = new Set<string>();
  for (const scope of construct.node.scopes) {
    for (const entry of scope.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) for (const id of Object.keys(entry.data as object)) rules.add(id);
    }
  }
  return rules;
}

/**
 * The Control Tower proactive controls as CloudFormation Guard rules (@cdklabs/cdk-validator-cfnguard, the
 * cfn-guard binary it ships) on synthesized templates, minus what infra/acknowledgments.ts acknowledges. One
 * cfn-guard run for all the stacks given (each run is seconds of startup), findings per stack.
 */
export function guardFindings(stacks: readonly { stack: Stack; templatePath: string }[]): Finding[][] {
  const validator = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  const report = validator.validate({ templatePaths: stacks.map((s) => s.templatePath), appConstruct: stacks[0].stack.node.root } as Parameters<CfnGuardValidator['validate']>[0]);
  return stacks.map(({ stack, templatePath }) => {
    const byLogicalId = new Map<string, CfnElement>();
    for (const c of stack.node.findAll()) if (CfnElement.isCfnElement(c)) byLogicalId.set(stack.getLogicalId(c), c);
    return report.violations.flatMap((v) => {
      // The description starts with the control's id: "[CT.S3.PR.10]: Require an Amazon S3 bucket …".
      const rule = /^\[([^\]]+)\]/.exec(v.description)?.[1] ?? v.ruleName;
      return v.violatingResources.flatMap((r) => {
        if (r.templatePath !== templatePath) return [];
        const element = byLogicalId.get(r.resourceLogicalId);
        // Validations.acknowledge stores an id without a plugin namespace as 'Annotation::<id>'.
        const acknowledged = element ? acknowledgedRules(element) : new Set<string>();
        if (acknowledged.has(rule) || acknowledged.has(`Annotation::${rule}`)) return [];
        return [{ rule, path: element?.node.path ?? r.resourceLogicalId }];
      });
    });
  });
}

/** cfn-lint on the templates (one run), when it is on PATH: its output lines (errors and warnings), or undefined when absent. */
export function cfnLint(templatePaths: readonly string[]): string[] | undefined {
  if (!cfnLint.available()) return undefined;
  try {
    execFileSync('cfn-lint', ['--format', 'parseable', ...templatePaths], { encoding: 'utf8', stdio: 'pipe' });
    return [];
  } catch (error) {
    const out = (error as { stdout?: string }).stdout ?? String(error);
    return out.split('\n').filter(Boolean);
  }
}

cfnLint.available = (): boolean => spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status === 0;

export const templateFile = (outdir: string, stackName: string): string => join(outdir, `${stackName}.template.json`);
