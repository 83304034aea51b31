import { readFileSync } from 'node:fs';

/**
 * What a `RUN` may call in a stage built on a Lambda base image. Those images are Amazon Linux 2023-minimal:
 * the runtime (node, npm, npx), the package manager (dnf is microdnf there) and coreutils-single, and no
 * findutils, tar, gzip or xargs. Sources: the package list of a Lambda base image (`rpm -qa` in
 * amazonlinux/amazon-linux-2023#585) and aws/aws-lambda-base-images#173 ("find: command not found").
 * Shell builtins (cd, test, export, …) are allowed: RUN executes /bin/sh, which the image has.
 */
export const LAMBDA_BASE_COMMANDS: ReadonlySet<string> = new Set([
  'node', 'npm', 'npx', 'dnf', 'microdnf',
  // coreutils-single (the commands a build step plausibly needs)
  'basename', 'cat', 'chmod', 'chown', 'cp', 'cut', 'date', 'dirname', 'du', 'echo', 'env', 'false', 'head', 'ln',
  'ls', 'mkdir', 'mktemp', 'mv', 'printf', 'pwd', 'readlink', 'realpath', 'rm', 'rmdir', 'sha256sum', 'sort',
  'stat', 'tail', 'tee', 'test', 'touch', 'tr', 'true', 'uname', 'wc', '[',
  // shell builtins
  'cd', 'export', 'set', 'exit', ':',
]);

/** Where Lambda base images come from (ECR Public, `public.ecr.aws/lambda/<runtime>`). */
export const LAMBDA_BASE_IMAGE = /^public\.ecr\.aws\/lambda\//;
/** An image reference pinned by content: `name[:tag]@sha256:<64 hex>`. */
export const PINNED_IMAGE = /@sha256:[0-9a-f]{64}$/;

export interface DockerStage {
  readonly name?: string;
  /** What FROM names, with ARG defaults substituted: an image reference or an earlier stage's name. */
  readonly from: string;
  /** The image the stage is finally built on (through earlier stages). */
  readonly baseImage: string;
  readonly instructions: readonly { readonly keyword: string; readonly args: string; readonly line: number }[];
}

/** Stages of a Dockerfile: continuation lines joined, comments dropped, ARG defaults (before the first FROM) substituted. */
export function parseDockerfile(text: string): DockerStage[] {
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    if (!pending && /^\s*(#|$)/.test(raw)) return;
    const body = raw.replace(/\\\s*$/, '');
    pending = pending ? { ...pending, text: `${pending.text} ${body.trim()}` } : { text: body.trim(), line: i + 1 };
    if (!/\\\s*$/.test(raw)) {
      logical.push(pending);
      pending = undefined;
    }
  });
  const args = new Map<string, string>();
  const stages: { name?: string; from: string; baseImage: string; instructions: DockerStage['instructions'][number][] }[] = [];
  for (const { text: instruction, line } of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/s.exec(instruction) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split(/=(.*)/s, 2);
      args.set(name.trim(), value.trim());
    } else if (upper === 'FROM') {
      const [, ref, name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest) ?? [];
      const from = ref.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args.get(a ?? b) ?? '');
      const parent = stages.find((s) => s.name === from);
      stages.push({ name, from, baseImage: parent ? parent.baseImage : from, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ keyword: upper, args: rest, line });
    }
  }
  return stages;
}

/**
 * The commands a RUN's shell line calls: quoted strings blanked (a `node -e "…"` script is not a command), then
 * split on && || ; | and $( , leading VAR=value assignments skipped.
 */
export function runCommands(shell: string): string[] {
  return shell
    .replace(/^\[.*\]$/s, (exec) => (JSON.parse(exec) as string[]).join(' '))
    .replace(/'[^']*'/g, "''")
    .replace(/"(?:[^"\\$]|\\.)*"/g, '""')
    .replace(/\$\(/g, ';')
    .split(/&&|\|\||;|\|/)
    .map((part) => part.trim().split(/\s+/).filter((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word))[0])
    .filter((command): command is string => Boolean(command))
    .map((command) => command.replace(/^\(+/, ''));
}

export interface DockerfileViolation {
  readonly line: number;
  readonly message: string;
}

/** Every RUN on a Lambda base that calls something the image lacks, and every external base not pinned by digest. */
export function checkDockerfile(text: string): DockerfileViolation[] {
  const violations: DockerfileViolation[] = [];
  const stages = parseDockerfile(text);
  for (const stage of stages) {
    const isStage = stages.some((s) => s.name === stage.from);
    if (!isStage && !PINNED_IMAGE.test(stage.from)) {
      violations.push({ line: stage.instructions[0]?.line ?? 0, message: `stage ${stage.name ?? '(final)'}: base image '${stage.from}' is not pinned by digest` });
    }
    if (!LAMBDA_BASE_IMAGE.test(stage.baseImage)) continue;
    for (const { keyword, args, line } of stage.instructions) {
      if (keyword !== 'RUN') continue;
      for (const command of runCommands(args)) {
        if (!LAMBDA_BASE_COMMANDS.has(command)) {
          violations.push({ line, message: `stage ${stage.name ?? '(final)'} (Lambda base, AL2023-minimal) runs '${command}', which the image does not ship` });
        }
      }
    }
  }
  return violations;
}

export function checkDockerfileAt(path: string): DockerfileViolation[] {
  return checkDockerfile(readFileSync(path, 'utf8'));
}
