import busboy from 'busboy';
import { MalformedBodyError } from './errors.js';

/** One file part of a multipart/form-data body. */
export interface FormFile {
  /** The part's filename, else its field name. */
  name: string;
  bytes: Buffer;
}

/**
 * The file parts of a multipart/form-data body, in order. Text fields are ignored: images come as files
 * (`curl -F image=@a.jpg -F image=@b.jpg`). The body is already in memory and bounded by the request limit.
 * @throws MalformedBodyError (MalformedMultipart) for a missing boundary or a cut or garbled body.
 */
export function parseMultipart(body: Buffer, contentType: string): Promise<FormFile[]> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown): void =>
      reject(new MalformedBodyError('MalformedMultipart', `The multipart/form-data body cannot be read: ${(error as Error).message}.`, { cause: error }));
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType } });
    } catch (error) {
      fail(error); // no boundary, or not a multipart type at all
      return;
    }
    const files: Array<FormFile | undefined> = [];
    parser.on('file', (field, stream, info) => {
      const slot = files.push(undefined) - 1;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        files[slot] = { name: info.filename || field, bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('error', fail);
    parser.on('close', () => resolve(files.filter((f): f is FormFile => f !== undefined)));
    parser.end(body);
  });
}
