import { describe, expect, it } from 'vitest';
import { createTrainFailedHandler, PREDICT_RUNNER, trainerFailure, type AsyncFailureRecord } from '../../../functions/train-failed/handler.js';
import { createJob, createPredictJob, readJob, writeJob } from '../../../src/jobs/index.js';
import { MemoryStore } from '../../../src/store/index.js';
import { lambdaContext } from '../../helpers/events.js';
import { FAST_HEAD } from './fixtures.js';

/** An on-failure destination record as Lambda sends it (invocation-async-retain-records). */
function failureRecord(jobId: unknown, overrides: Partial<AsyncFailureRecord> = {}): AsyncFailureRecord {
  return {
    requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:train:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 1 },
    requestPayload: { jobId },
    responseContext: { statusCode: 200, functionError: 'Unhandled' },
    responsePayload: { errorMessage: '2026-12-01T09:00:00.000Z 1a2b Task timed out after 900.00 seconds' },
    ...overrides,
  };
}

async function setup() {
  const store = new MemoryStore();
  const job = await createJob(store, { dataset: 'pets', head: FAST_HEAD });
  return { store, job, handler: createTrainFailedHandler(async () => ({ store })) };
}

describe('the train function on-failure handler', () => {
  it('marks a running job whose trainer hit its time limit failed, with the reason', async () => {
    const { store, job, handler } = await setup();
    await writeJob(store, { ...(await readJob(store, job.jobId)), status: 'running' });

    const result = await handler(failureRecord(job.jobId), lambdaContext());

    expect(result).toEqual({ jobId: job.jobId, status: 'failed' });
    expect((await readJob(store, job.jobId)).error).toEqual({
      code: 'TrainerTimedOut',
      message: expect.stringContaining('stopped at its time limit (Task timed out after 900.00 seconds)'),
    });
  });

  it.each([
    [{ responsePayload: { errorType: 'Runtime.OutOfMemory', errorMessage: 'RequestId: x Error: Runtime exited with error: signal: killed' } }, 'TrainerOutOfMemory', 'raise its memory (trainMemoryMb)'],
    [{ responsePayload: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 134' } }, 'TrainerCrashed', 'Runtime.ExitError: Runtime exited with error: exit status 134'],
    [{ requestContext: { requestId: 'r', functionArn: 'f', condition: 'EventAgeExceeded', approximateInvokeCount: 0 }, responsePayload: null }, 'TrainerNeverStarted', 'past its maximum age'],
  ])('names the cause: %#', (overrides, code, text) => {
    const error = trainerFailure(failureRecord('job-x', overrides as Partial<AsyncFailureRecord>));
    expect(error.code).toBe(code);
    expect(error.message).toContain(text);
  });

  it("words a model prediction job's failure for the predict function, which shares the destination", async () => {
    const store = new MemoryStore();
    const job = await createPredictJob(store, { dataset: 'shop', model: 'mobilenet_v2' });
    const handler = createTrainFailedHandler(async () => ({ store }));

    expect(await handler(failureRecord(job.jobId, { responsePayload: { errorType: 'Runtime.OutOfMemory', errorMessage: 'signal: killed' } }), lambdaContext())).toEqual({ jobId: job.jobId, status: 'failed' });
    expect((await readJob(store, job.jobId)).error).toEqual({ code: 'TrainerOutOfMemory', message: expect.stringMatching(/^The predict function ran out of memory: raise its memory \(classifyMemoryMb/) });
    expect(trainerFailure(failureRecord('job-x'), PREDICT_RUNNER).message).toContain('The predict function was stopped at its time limit (Task timed out after 900.00 seconds): POST /predict again on a smaller prefix.');
  });

  it('leaves a job whose trainer recorded its own end as it is', async () => {
    const { store, job, handler } = await setup();
    await writeJob(store, { ...(await readJob(store, job.jobId)), status: 'succeeded', headId: 'pets-1' } as never);

    const result = await handler(failureRecord(job.jobId), lambdaContext());

    expect(result).toEqual({ jobId: job.jobId, status: 'succeeded' });
    expect((await readJob(store, job.jobId)).error).toBeUndefined();
  });

  it('skips a record without a valid job id instead of failing (nothing to mark, nothing to retry)', async () => {
    const { handler } = await setup();
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (line: unknown) => errors.push(line);
    try {
      expect(await handler(failureRecord('../etc/passwd'), lambdaContext())).toEqual({ skipped: 'no jobId in the request payload' });
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
  });
});
