/**
 * The embedded S3 server's credentials, per installation (as MinIO takes its root user from the
 * environment): HEADSTART_S3_ACCESS_KEY_ID and HEADSTART_S3_SECRET_ACCESS_KEY when both are set, otherwise
 * a random pair generated once and kept in the data directory, readable by its owner only (0600).
 * The server checks every request's SigV4 signature against them (local/s3/auth.ts); every local client
 * finds them here (`createS3Client` for a local endpoint), so the CLI, the functions run locally and the
 * tests need no configuration beyond what `npm start` prints.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadstartError, InvalidArgumentError } from '../errors.js';

export interface LocalS3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where they are kept, in the data directory (a name no bucket can have: buckets never start with '.'). */
export const CREDENTIALS_FILE = '.s3-credentials.json';
export const ACCESS_KEY_ENV = 'HEADSTART_S3_ACCESS_KEY_ID';
export const SECRET_KEY_ENV = 'HEADSTART_S3_SECRET_ACCESS_KEY';

/** Where the credentials came from, for the `npm start` banner. */
export type CredentialsSource = 'environment' | 'file' | 'generated';

/** No credentials for a local endpoint: the client cannot sign, and the server refuses unsigned requests. */
export class LocalCredentialsMissingError extends HeadstartError {
  constructor(message: string) {
    super('LocalCredentialsMissing', message);
  }
}

/** Both variables, or neither; one without the other is a mistake worth saying. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): LocalS3Credentials | undefined {
  const accessKeyId = env[ACCESS_KEY_ENV];
  const secretAccessKey = env[SECRET_KEY_ENV];
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new InvalidArgumentError(`Set both ${ACCESS_KEY_ENV} and ${SECRET_KEY_ENV}, or neither (the server then keeps random ones in its data directory).`);
  }
  return { accessKeyId, secretAccessKey };
}

export const credentialsPath = (dataDir: string): string => path.join(path.resolve(dataDir), CREDENTIALS_FILE);

/** The pair kept in `dataDir`, or undefined when there is none. */
export async function readCredentialsFile(dataDir: string): Promise<LocalS3Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(credentialsPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<LocalS3Credentials>;
  if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string' || !parsed.accessKeyId || !parsed.secretAccessKey) {
    throw new InvalidArgumentError(`${credentialsPath(dataDir)} must hold {"accessKeyId": "…", "secretAccessKey": "…"}; delete it to have new ones generated.`);
  }
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new random pair shaped like AWS's: a 20-character key id and a 40-character secret. */
export function generateCredentials(): LocalS3Credentials {
  const id = [...randomBytes(16)].map((byte) => KEY_ID_ALPHABET[byte & 31]).join('');
  return { accessKeyId: `HSLK${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/**
 * The server's credentials for `dataDir`: the environment's, else the kept pair, else a new pair written
 * (0600, created exclusively: two servers starting on one directory agree on one pair). A kept file that
 * others can read is tightened to 0600.
 */
export async function installationCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ credentials: LocalS3Credentials; source: CredentialsSource }> {
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return { credentials: fromEnv, source: 'environment' };
  const file = credentialsPath(dataDir);
  const kept = await readCredentialsFile(dataDir);
  if (kept) {
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    return { credentials: kept, source: 'file' };
  }
  const fresh = generateCredentials();
  try {
    await writeFile(file, `${JSON.stringify(fresh, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { credentials: (await readCredentialsFile(dataDir))!, source: 'file' };
  }
  return { credentials: fresh, source: 'generated' };
}

/** Servers started in this process, by endpoint host (`127.0.0.1:4569`): their clients need no file or variable. */
const started = new Map<string, LocalS3Credentials>();
const hostOf = (endpoint: string): string => new URL(endpoint).host;

/** Called by the embedded server once it listens; `forget` when it closes. */
export function rememberLocalS3(endpoint: string, credentials: LocalS3Credentials): () => void {
  const host = hostOf(endpoint);
  started.set(host, credentials);
  return () => {
    if (started.get(host) === credentials) started.delete(host);
  };
}

/**
 * The credentials a client of the local endpoint signs with, looked up when it first signs: a server started
 * in this process on that endpoint, else the environment's, else the pair kept in $HEADSTART_DATA (default
 * ./.headstart, where `npm start` keeps it).
 */
export async function localCredentials(endpoint: string, env: NodeJS.ProcessEnv = process.env): Promise<LocalS3Credentials> {
  const inProcess = started.get(hostOf(endpoint));
  if (inProcess) return inProcess;
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv) return fromEnv;
  const dataDir = env.HEADSTART_DATA || '.headstart';
  const kept = await readCredentialsFile(dataDir);
  if (kept) return kept;
  throw new LocalCredentialsMissingError(
    `No credentials for the embedded S3 server at ${endpoint}: it refuses unsigned requests. Run this from the folder ` +
      `where \`npm start\` runs (it keeps them in .headstart/${CREDENTIALS_FILE}), set HEADSTART_DATA to its data directory ` +
      `(looked in ${credentialsPath(dataDir)}), or set ${ACCESS_KEY_ENV} and ${SECRET_KEY_ENV} as the server has them.`,
  );
}

/** The environment a child process (a worker, a function) needs to reach the local server with these credentials. */
export function credentialsEnv(credentials: LocalS3Credentials): Record<string, string> {
  return { [ACCESS_KEY_ENV]: credentials.accessKeyId, [SECRET_KEY_ENV]: credentials.secretAccessKey };
}
