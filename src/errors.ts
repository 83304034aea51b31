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

/** Formats a list of valid values for an error message: "'a', 'b' or 'c'". */
export function listValues(values: readonly unknown[]): string {
  const quoted = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}
