/**
 * The root of every error headstart throws on purpose. `code` is stable and machine-readable
 * (the HTTP boundary and the CLI map it); `cause` is always kept.
 */
export class HeadstartError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input from a caller (4xx at the HTTP boundary, exit code 2 on the CLI). */
export class InvalidArgumentError extends HeadstartError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('InvalidArgument', message, options);
  }
}

/** How many characters of a caller's value (or field name) an error message quotes before cutting it with '…'. */
export const MESSAGE_VALUE_CHARS = 120;

/** How many unknown fields an error message names before it counts the rest ("and 399,995 more"). */
export const MESSAGE_FIELDS = 5;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A caller's value as an error message quotes it: JSON, cut at `max` characters, so a 4 MB string or a
 * 400,000-element array makes a one-line message (and a value JSON cannot print does not throw).
 */
export function describeValue(value: unknown, max: number = MESSAGE_VALUE_CHARS): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return clip(text, max);
}

/** The keys of `fields` that are not in `valid`, in the caller's order. */
export function unknownKeys(fields: object, valid: readonly string[]): string[] {
  return Object.keys(fields).filter((key) => !valid.includes(key));
}

/**
 * "Unknown field 'x': expected …", or for many "Unknown fields 'a', 'b', 'c', 'd', 'e' and 399,995 more: expected …":
 * the first MESSAGE_FIELDS named (each cut like a value), the rest counted, so the message stays small.
 * `noun` names what they are ('HeadSpec field'), `where` follows the names (' of an auto head').
 */
export function unknownFieldsMessage(unknown: readonly string[], valid: readonly string[], noun = 'field', where = ''): string {
  const named = unknown.slice(0, MESSAGE_FIELDS).map((key) => `'${clip(key, MESSAGE_VALUE_CHARS)}'`);
  const rest = unknown.length - named.length;
  const tail = rest > 0 ? `${rest.toLocaleString('en-US')} more` : named.pop();
  const list = named.length ? `${named.join(', ')} and ${tail}` : tail;
  return `Unknown ${noun}${unknown.length > 1 ? 's' : ''} ${list}${where}: expected ${listValues(valid)}.`;
}

/** Formats a list of valid values for an error message: "'a', 'b' or 'c'". */
export function listValues(values: readonly unknown[]): string {
  const quoted = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}
