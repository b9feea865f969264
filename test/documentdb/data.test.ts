import { describe, expect, it } from 'vitest';
import { connectDocumentDb } from '../../functions/documentdb/data';
import { freePort } from '../support/engines';

describe('connectDocumentDb', () => {
  it('fails with the driver server-selection error, not a crash, when nothing listens', async () => {
    const port = await freePort();
    await expect(
      connectDocumentDb({
        host: '127.0.0.1',
        port,
        username: 'u',
        password: 'p',
        tls: true,
        connectTimeoutMs: 500,
      }),
    ).rejects.toMatchObject({ name: 'MongoServerSelectionError' });
  });
});
