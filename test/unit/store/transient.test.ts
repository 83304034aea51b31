import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { ObjectNotFoundError, StoreUnavailableError } from '../../../src/store/errors.js';
import { isTransientError } from '../../../src/store/transient.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });
const sdk = (name: string, httpStatusCode?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });

describe('isTransientError', () => {
  it.each([
    ['SlowDown', sdk('SlowDown', 503)],
    ['ThrottlingException', sdk('ThrottlingException', 400)],
    ['RequestTimeout', sdk('RequestTimeout', 400)],
    ['HTTP 500', sdk('InternalError', 500)],
    ['HTTP 502 without a code', sdk('UnknownError', 502)],
    ['HTTP 429', sdk('TooManyRequests', 429)],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['SDK TimeoutError', Object.assign(new Error('t'), { name: 'TimeoutError' })],
    ['$retryable', Object.assign(new Error('r'), { $retryable: { throttling: false } })],
    ['StoreUnavailableError', new StoreUnavailableError('later')],
    ['a transient cause', new Error('wrapped', { cause: withCode('ECONNREFUSED') })],
  ])('is true for %s', (_, err) => {
    expect(isTransientError(err)).toBe(true);
  });

  it.each([
    ['NoSuchKey', sdk('NoSuchKey', 404)],
    ['AccessDenied', sdk('AccessDenied', 403)],
    ['ObjectNotFoundError', new ObjectNotFoundError('b', 'k')],
    ['InvalidArgumentError', new InvalidArgumentError('bad')],
    ['a plain Error', new Error('boom')],
    ['a string', 'ECONNRESET'],
    ['undefined', undefined],
  ])('is false for %s', (_, err) => {
    expect(isTransientError(err)).toBe(false);
  });

  it('stops at a cycle in the cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(isTransientError(a)).toBe(false);
  });
});
