import { describe, expect, it } from 'vitest';
import { HEAD_LIMITS, InvalidTrainRequestError, newJobId, parseTrainRequest, presentJob, queuedJob, STALE_RUNNING_MS, validateJobId } from '../../../src/jobs/index.js';
import { DEFAULT_HEAD_SPEC } from '../../../src/heads/index.js';

describe('parseTrainRequest', () => {
  it('keeps exactly the given fields', () => {
    expect(parseTrainRequest({ dataset: 'pets' })).toEqual({ dataset: 'pets' });
    const full = {
      dataset: 'pets',
      validationDataset: 'pets-val',
      model: 'densenet121',
      namespace: 'densenet121@0123456789abcdef/avg_pool',
      head: { hidden: [100], activation: 'tanh', dropout: 0.5, learningRate: 1e-4, epochs: 40, batchSize: 32, patience: 3, classWeights: 'balanced' },
    };
    expect(parseTrainRequest(full)).toEqual(full);
  });

  it.each([
    [[], 'The request body must be a JSON object'],
    [{ dataset: '' }, "'dataset' must be a non-empty string, got \"\"."],
    [{ dataset: 7 }, "'dataset' must be a non-empty string, got 7."],
    [{ dataset: 'pets', head: [] }, `'head' must be "auto" or an object of head settings, got [].`],
    [{ dataset: 'pets', head: { hidden: new Array(9).fill(8) } }, `head.hidden has 9 layers; at most ${HEAD_LIMITS.hiddenLayers} are allowed.`],
    [{ dataset: 'pets', head: { batchSize: 100000 } }, 'head.batchSize must be at most 65536, got 100000.'],
    [{ dataset: 'pets', head: { engine: 'gpu' } }, "head: Unknown engine 'gpu': expected 'auto', 'tfjs', 'js' or 'fit'."],
    [{ dataset: 'pets', head: { hidden: [0] } }, 'head: HeadSpec.hidden must be an array of positive integers, got [0].'],
  ])('rejects %j', (body, message) => {
    expect(() => parseTrainRequest(body)).toThrow(InvalidTrainRequestError);
    expect(() => parseTrainRequest(body)).toThrow(message);
  });
});

describe('job ids and records', () => {
  it('makes sortable, unique ids that validate', () => {
    const id = newJobId(new Date('2025-03-04T05:06:07Z'));
    expect(id).toMatch(/^job-20250304-050607-[0-9a-f]{8}$/);
    expect(validateJobId(id)).toBe(id);
    expect(newJobId()).not.toBe(newJobId());
    expect(() => validateJobId('jobs/../x')).toThrow("Invalid job id \"jobs/../x\": job ids look like 'job-20250101-120000-0123abcd'.");
  });

  it("starts an auto head's job queued with 0 epochs (the folds choose them)", () => {
    expect(queuedJob({ dataset: 'pets' }).progress.epochs).toBe(0);
    expect(queuedJob({ dataset: 'pets', head: 'auto' }).progress.epochs).toBe(0);
  });

  it('starts a job queued, with the epochs it will run', () => {
    const job = queuedJob({ dataset: 'pets', head: {} }, new Date('2025-01-01T00:00:00Z'));
    expect(job).toMatchObject({
      kind: 'train',
      status: 'queued',
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      history: [],
      progress: { epoch: 0, epochs: DEFAULT_HEAD_SPEC.epochs, loss: null, accuracy: null, valLoss: null, valAccuracy: null, etaMs: null },
    });
  });

  it('shows a running job that stopped reporting as failed, and leaves every other job as it is', () => {
    const start = new Date('2025-01-01T00:00:00Z');
    const queued = queuedJob({ dataset: 'pets', head: {} }, start);
    const running = { ...queued, status: 'running' as const, startedAt: start.toISOString(), progress: { ...queued.progress, epoch: 4 } };
    const later = (ms: number) => new Date(start.getTime() + ms);
    expect(presentJob(running, later(STALE_RUNNING_MS - 1))).toBe(running);
    expect(presentJob(queued, later(10 * STALE_RUNNING_MS))).toBe(queued);
    expect(presentJob(running, later(STALE_RUNNING_MS + 60_000))).toEqual({
      ...running,
      status: 'failed',
      error: {
        code: 'TrainerLost',
        message: expect.stringMatching(/^The trainer stopped after epoch 4 of 30 and has not reported for 21 minutes: it was killed, most likely out of memory/),
      },
    });
  });
});
