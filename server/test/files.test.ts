import type { Attachment } from '@openlines/contract';
import type { OpenlinesClient } from '@openlines/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, signIn, type TestServer } from './harness';

// Attachments: uploaded once, reached by an unguessable link, never rendered as a page.

let server: TestServer;
let admin: OpenlinesClient;
beforeAll(async () => {
  server = await createTestServer({ env: { MAX_UPLOAD_BYTES: '4096' } });
  admin = await signIn(server);
});
afterAll(async () => server?.stop());

async function upload(
  name: string,
  type: string,
  content: string | Uint8Array<ArrayBuffer>,
  client: OpenlinesClient | null = admin,
) {
  const form = new FormData();
  form.append('file', new Blob([content], { type }), name);
  return fetch(`${server.url}/api/v1/files`, {
    method: 'POST',
    headers: client ? client.transport.authHeaders('POST') : {},
    body: form,
  });
}

describe('files', () => {
  it('uploads and serves an image inline by its link', async () => {
    const response = await upload('photo.png', 'image/png', new Uint8Array([137, 80, 78, 71, 1, 2, 3]));
    expect(response.status).toBe(201);
    const attachment = (await response.json()) as Attachment;
    expect(attachment).toMatchObject({ name: 'photo.png', mimeType: 'image/png', size: 7 });
    const download = await fetch(attachment.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toMatch(/^inline/);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71, 1, 2, 3]));
  });

  it('serves an HTML file only as a download, never as a page', async () => {
    const response = await upload('evil.html', 'text/html', '<script>alert(1)</script>');
    const attachment = (await response.json()) as Attachment;
    const download = await fetch(attachment.url);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a link with another signature is a 404, like a missing file', async () => {
    const attachment = (await (await upload('a.txt', 'text/plain', 'hello')).json()) as Attachment;
    const forged = attachment.url.replace(
      /\/files\/([^/]+)\/([^/]+)\//,
      (_m, id) => `/files/${id}/${'A'.repeat(32)}/`,
    );
    expect((await fetch(forged)).status).toBe(404);
  });

  it('refuses files over the limit with 413 naming the field, and anonymous uploads with 401', async () => {
    const big = await upload('big.bin', 'application/octet-stream', new Uint8Array(5000));
    expect(big.status).toBe(413);
    expect((await big.json()).errors).toEqual([{ field: 'file', message: expect.any(String) }]);
    expect((await upload('x.txt', 'text/plain', 'x', null)).status).toBe(401);
  });

  it('serves a file whose name is as long as an upload allows, in any script', async () => {
    const name = `${'Отчёт за квартал — '.repeat(10)}`.slice(0, 195) + '.txt';
    const response = await upload(name, 'text/plain', 'long name');
    expect(response.status).toBe(201);
    const attachment = (await response.json()) as Attachment;
    expect(attachment.name).toBe(name);
    const download = await fetch(attachment.url);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('long name');
  });

  it('a multipart body that breaks off, or is not multipart at all, is a 400 naming the file', async () => {
    const boundary = 'cut-off-boundary';
    const bodies = [
      // The file's part starts and the body ends: no closing boundary (a dropped connection).
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhalf of a fi`,
      'this is not multipart',
    ];
    for (const body of bodies) {
      const response = await fetch(`${server.url}/api/v1/files`, {
        method: 'POST',
        headers: {
          ...admin.transport.authHeaders('POST'),
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
        body,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await response.json()) as { errors?: { field: string }[] };
      expect(problem.errors?.map((e) => e.field)).toEqual(['file']);
    }
  });

  it('cleans file names of paths and control characters', async () => {
    const attachment = (await (
      await upload('../../etc/pass\u0001wd', 'text/plain', 'x')
    ).json()) as Attachment;
    expect(attachment.name).toBe('passwd');
  });
});
