import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors';

export interface UploadedFile {
  filename: string;
  mimetype: string;
  data: Buffer;
}

/**
 * The one file of a multipart upload (the operators' and the widget's), read whole, with every
 * way a client can get it wrong answered as a 4xx naming `file`: not multipart (415), no file
 * (400), too large (413), a body that breaks off or is not valid multipart (400) — the last used
 * to surface as a 500 "Premature close".
 */
export async function readUploadedFile(
  request: FastifyRequest,
  limitBytes: number,
  tooLarge: string,
): Promise<UploadedFile> {
  if (!request.isMultipart()) {
    throw new AppError('unsupported_media_type', 'Send the file as multipart/form-data', [
      { field: 'file', message: 'is required' },
    ]);
  }
  let part: MultipartFile | undefined;
  try {
    part = await request.file({ limits: { fileSize: limitBytes, files: 1 } });
  } catch (error) {
    throw brokenUpload(error);
  }
  if (!part) {
    throw new AppError('validation_failed', 'No file was sent', [{ field: 'file', message: 'is required' }]);
  }
  try {
    return { filename: part.filename, mimetype: part.mimetype, data: await part.toBuffer() };
  } catch (error) {
    if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new AppError('payload_too_large', tooLarge, [
        { field: 'file', message: `is larger than ${limitBytes} bytes` },
      ]);
    }
    throw brokenUpload(error);
  }
}

function brokenUpload(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const status = (error as { statusCode?: number }).statusCode;
  // Fastify's own 4xx (a body over the limit, too many parts) keep their answer.
  if (status !== undefined && status >= 400 && status < 500) return error;
  return new AppError('validation_failed', 'The upload is not complete or not valid multipart/form-data', [
    { field: 'file', message: 'did not arrive whole' },
  ]);
}
