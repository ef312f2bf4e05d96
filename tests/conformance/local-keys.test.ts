/** The local lake's HeadObject resolves event keys as S3 would: by the object that exists. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEventKey } from '../../domain/intake/object-keys';
import { LocalLake } from '../../adapters/local/lake';
import { LocalObjects } from '../../adapters/local/objects';
import { testConfig } from '../support/fakes';

const config = testConfig();
let root: string;
let lake: LocalLake;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-keys-'));
  lake = new LocalLake(root, config.lake.rawBucket, config.lake.curatedBucket);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

test.each([
  'orders/year=2024/month=01/day=05/report 100%.csv',
  'orders/year=2024/month=01/day=05/file+v2%20final.csv',
  'orders/year=2024/month=01/day=05/late export (fixed).csv',
])('%s: the landed object is found from its encoded event and from its literal key', async (key) => {
  const event = lake.land(key, 'id,amount\n1,2\n');
  const objects = new LocalObjects(lake);
  for (const delivered of [event.detail.object.key, key])
    expect(await resolveEventKey(config, config.lake.rawBucket, delivered, objects)).toMatchObject({
      ok: true,
      key,
    });
  expect(objects.heads.length).toBeLessThanOrEqual(2);
});

test('a folder literally named year%3D2024 stays outside the layout', async () => {
  const key = 'orders/year%3D2024/month=01/day=05/a.csv';
  lake.land(key, 'id,amount\n1,2\n');
  const resolved = await resolveEventKey(config, config.lake.rawBucket, key, new LocalObjects(lake));
  expect(resolved).toMatchObject({ ok: false, key, reason: expect.stringMatching(/does not follow the layout/) });
});
