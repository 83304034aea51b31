import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR, parseBenchArgs, reproduceCommand, SECTIONS } from '../../../bench/args.js';
import { InvalidArgumentError } from '../../../src/errors.js';

describe('parseBenchArgs', () => {
  it('runs every section, full, into bench/results by default', () => {
    expect(parseBenchArgs([], {})).toEqual({ only: [...SECTIONS], quick: false, out: DEFAULT_OUT_DIR, help: false });
  });

  it('takes --only as a comma list in either form and keeps the run order', () => {
    expect(parseBenchArgs(['--only', 'classify,zoo'], {}).only).toEqual(['zoo', 'classify']);
    expect(parseBenchArgs(['--only=ingest'], {}).only).toEqual(['ingest']);
    expect(parseBenchArgs(['--only', 'heads, heads ,pipeline'], {}).only).toEqual(['pipeline', 'heads']);
  });

  it('reads --quick, --models, --help and --out', () => {
    const args = parseBenchArgs(['--quick', '--models', 'vgg16,densenet121', '--out', '/tmp/r.json', '--help'], {});
    expect(args).toMatchObject({ quick: true, models: ['vgg16', 'densenet121'], out: '/tmp/r.json', help: true });
  });

  it('takes the output folder from OUT_DIR, and --out over it', () => {
    expect(parseBenchArgs([], { OUT_DIR: '/data/out' }).out).toBe('/data/out');
    expect(parseBenchArgs(['--out=here'], { OUT_DIR: '/data/out' }).out).toBe('here');
  });

  it('refuses an unknown section, listing the valid ones', () => {
    expect(() => parseBenchArgs(['--only', 'zoo,gpu'], {})).toThrow(InvalidArgumentError);
    expect(() => parseBenchArgs(['--only', 'zoo,gpu'], {})).toThrow(
      "Unknown section 'gpu': expected 'zoo', 'pipeline', 'ingest', 'heads', 'classify', 'finetune', 'data' or 'predict'.",
    );
  });

  it('refuses an unknown model, listing the zoo', () => {
    expect(() => parseBenchArgs(['--models', 'resnet101'], {})).toThrow(/Unknown model 'resnet101': expected 'vgg16', 'vgg19', 'resnet50', .*'densenet121'\./);
  });

  it('refuses unknown flags, missing values and values on switches', () => {
    expect(() => parseBenchArgs(['--fast'], {})).toThrow("Unknown argument '--fast': expected '--only', '--quick', '--models', '--out' or '--help'.");
    expect(() => parseBenchArgs(['zoo'], {})).toThrow(/Unknown argument 'zoo'/);
    expect(() => parseBenchArgs(['--only'], {})).toThrow('--only needs a value.');
    expect(() => parseBenchArgs(['--out', '--quick'], {})).toThrow('--out needs a value.');
    expect(() => parseBenchArgs(['--only='], {})).toThrow(/section needs at least one value/);
    expect(() => parseBenchArgs(['--quick=yes'], {})).toThrow('--quick takes no value.');
  });
});

describe('reproduceCommand', () => {
  it('names the section, --quick, and --models where the section uses them', () => {
    expect(reproduceCommand('zoo', { quick: false })).toBe('npm run bench -- --only zoo');
    expect(reproduceCommand('zoo', { quick: true, models: ['vgg16'] })).toBe('npm run bench -- --only zoo --quick --models vgg16');
    expect(reproduceCommand('ingest', { quick: false, models: ['vgg16', 'vgg19'] })).toBe('npm run bench -- --only ingest --models vgg16,vgg19');
    expect(reproduceCommand('classify', { quick: true, models: ['vgg16'] })).toBe('npm run bench -- --only classify --quick');
  });
});
