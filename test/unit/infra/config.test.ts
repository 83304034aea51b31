import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { configFromContext, DEFAULTS, resolveConfig } from '../../../infra/config.js';
import { DEFAULT_ENTRIES, REPO_ROOT, resolveEntries } from '../../../infra/entries.js';
import { HeadstartStack } from '../../../infra/stack.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { FIXTURE_ENTRIES } from './synth.js';

describe('resolveConfig', () => {
  it('fills the documented defaults', () => {
    const config = resolveConfig({});

    expect(config).toEqual(DEFAULTS);
    expect(config.extractionMode).toBe('lambda');
    expect(config.baseModel).toBe('mobilenet_v2');
    expect(config.gpuInstanceTypes).toEqual(['g5.xlarge', 'g4dn.xlarge']);
    expect(config.provisionedConcurrency).toBe(0);
    expect(config.finetune).toBe(false);
    expect(config.finetuneTimeoutHours).toBe(24);
  });

  it('keeps given values and ignores stack props that are not config', () => {
    const config = resolveConfig({ extractionMode: 'both', spot: true, baseModel: 'resnet50', description: 'x' } as never);

    expect(config.extractionMode).toBe('both');
    expect(config.spot).toBe(true);
    expect(config.baseModel).toBe('resnet50');
    expect(config).not.toHaveProperty('description');
  });

  it.each([
    [{ extractionMode: 'gpu' }, "extractionMode must be 'lambda', 'batch' or 'both', got 'gpu'"],
    [
      { baseModel: 'resnet' },
      "baseModel must be 'vgg16', 'vgg19', 'resnet50', 'inception_v3', 'mobilenet_v2' or 'densenet121', got 'resnet'",
    ],
    [{ extractMemoryMb: 64 }, 'extractMemoryMb must be an integer from 128 to 10240 (MB), got 64'],
    [{ trainMemoryMb: 2048.5 }, 'trainMemoryMb must be an integer from 128 to 10240 (MB), got 2048.5'],
    [{ provisionedConcurrency: -1 }, 'provisionedConcurrency must be an integer from 0 to 1000, got -1'],
    [{ maxGpuVcpus: 2 }, 'maxGpuVcpus must be an integer from 4 to 4096, got 2'],
    [{ spot: 'yes' }, "spot must be true or false, got 'yes'"],
    [
      { gpuInstanceTypes: ['c5.xlarge'] },
      "gpuInstanceTypes: 'c5.xlarge' is not a supported GPU instance type; valid families are 'g4dn', 'g5', 'g6', 'g6e', 'p4d' or 'p5' (e.g. 'g5.xlarge')",
    ],
    [{ gpuInstanceTypes: [] }, "gpuInstanceTypes must list at least one instance type, e.g. 'g5.xlarge' or 'g4dn.xlarge'"],
    [{ gpuInstanceTypes: ['g5.xlarge', 'g5.xlarge'] }, 'gpuInstanceTypes lists a type twice: ["g5.xlarge","g5.xlarge"]'],
    [{ corsOrigins: ['example.com'] }, "corsOrigins: 'example.com' must be '*' or an origin like 'https://example.com' (no path)"],
    [{ corsOrigins: ['*', 'https://a.example'] }, "corsOrigins: '*' cannot be combined with other origins"],
    [{ alarmEmail: 'ops' }, "alarmEmail must be an email address, got 'ops'"],
    [{ finetune: 'off' }, "finetune must be true or false, got 'off'"],
    [{ finetuneTimeoutHours: 0 }, 'finetuneTimeoutHours must be an integer from 1 to 168 (hours), got 0'],
    [{ finetuneTimeoutHours: 1.5 }, 'finetuneTimeoutHours must be an integer from 1 to 168 (hours), got 1.5'],
  ])('rejects %j with a message listing what is valid', (input, message) => {
    expect(() => resolveConfig(input as never)).toThrow(InvalidArgumentError);
    expect(() => resolveConfig(input as never)).toThrow(message);
  });
});

describe('configFromContext', () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];

  it('parses command-line strings into typed values', () => {
    const config = configFromContext(
      context({
        extractionMode: 'both',
        spot: 'true',
        provisionedConcurrency: '2',
        gpuInstanceTypes: 'g5.xlarge, g5.2xlarge',
        corsOrigins: '["https://app.example"]',
      }),
    );

    expect(config).toEqual({
      extractionMode: 'both',
      spot: true,
      provisionedConcurrency: 2,
      gpuInstanceTypes: ['g5.xlarge', 'g5.2xlarge'],
      corsOrigins: ['https://app.example'],
    });
  });

  it('reads -c finetune=false and -c finetuneTimeoutHours=6 like the other knobs', () => {
    const config = configFromContext(context({ finetune: 'false', finetuneTimeoutHours: '6' }));

    expect(config).toEqual({ finetune: false, finetuneTimeoutHours: 6 });
    expect(resolveConfig(config)).toMatchObject({ finetune: false, finetuneTimeoutHours: 6, extractionMode: 'lambda' });
  });

  it('passes JSON values from cdk.json through and leaves bad strings for resolveConfig to reject', () => {
    const config = configFromContext(context({ spot: false, extractMemoryMb: 'lots' }));

    expect(config).toEqual({ spot: false, extractMemoryMb: 'lots' });
    expect(() => resolveConfig(config)).toThrow("extractMemoryMb must be an integer from 128 to 10240 (MB), got 'lots'");
  });

  it('names the key when a JSON list does not parse', () => {
    expect(() => configFromContext(context({ gpuInstanceTypes: '[g5' }))).toThrow(
      "gpuInstanceTypes must be a comma-separated list or a JSON array, got '[g5'",
    );
  });
});

describe('resolveEntries', () => {
  it('returns project-relative entries when the files exist', () => {
    expect(resolveEntries(REPO_ROOT, FIXTURE_ENTRIES)).toEqual(FIXTURE_ENTRIES);
  });

  it('names the missing handler and its default path', () => {
    expect(() => resolveEntries(REPO_ROOT, { ...FIXTURE_ENTRIES, train: 'functions/nope/index.ts' })).toThrow(
      `entries.train: handler file 'functions/nope/index.ts' not found in ${REPO_ROOT}; create it or pass entries.train (default '${DEFAULT_ENTRIES.train}')`,
    );
  });

  it('refuses a handler outside the Docker build context', () => {
    expect(() => resolveEntries(REPO_ROOT, { ...FIXTURE_ENTRIES, api: '/etc/hosts' })).toThrow(
      `entries.api must be inside the project root ${REPO_ROOT}, got '/etc/hosts'`,
    );
  });
});

describe('HeadstartStack props validation', () => {
  it('fails at synth time, before creating resources, with the config message', () => {
    const app = new App();

    expect(() => new HeadstartStack(app, 'Bad', { entries: FIXTURE_ENTRIES, extractionMode: 'gpu' as never })).toThrow(
      "extractionMode must be 'lambda', 'batch' or 'both', got 'gpu'",
    );
    expect(app.node.findChild('Bad').node.children).toHaveLength(0);
  });
});
