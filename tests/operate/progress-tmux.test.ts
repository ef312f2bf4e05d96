/**
 * The backfill progress display in a real terminal: the CLI runs inside tmux (a private server socket), and the
 * pane is captured. Against an in-process fake stage (SLUICE_OPERATE_FAKE) for the bar, its in-place redraw and
 * Ctrl-C detaching, and against the local lake for a real run of the real state machine. Skipped, saying so,
 * only when tmux is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'cli', 'sluice.ts');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) process.stderr.write('progress-tmux.test.ts: tmux is not installed; the terminal checks are skipped\n');
const describeTmux = hasTmux ? describe : describe.skip;

const SOCKET = `sluice-e-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts `command` in a new 120x30 pane; the shell reports the exit code and then keeps the pane open. */
function start(session: string, env: Record<string, string>, args: string[]): void {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
  // node_modules/.bin first: the pinned Node 22 (the `node` devDependency), as `npm run sluice` would use.
  const path = `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
  const command = `cd ${quote(ROOT)} && env PATH=${quote(path)} ${vars.join(' ')} ${quote(TSX)} ${quote(CLI)} ${args.map(quote).join(' ')}; echo EXIT=$?; sleep 600`;
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', command);
}

const pane = (session: string) => tmux('capture-pane', '-p', '-t', session);

/** Polls the pane until `done` holds (bounded by jest's timeout, never asserted on time). */
async function waitForPane(session: string, done: (text: string) => boolean): Promise<string> {
  for (;;) {
    const text = pane(session);
    if (done(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const barLines = (text: string) => text.split('\n').filter((l) => /^\[[#x.]+\] /.test(l));

describeTmux('backfill progress in a real terminal (tmux)', () => {
  afterAll(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
  });

  test('a bar of the partition map, redrawn in place, then the outcome and the exit code', async () => {
    start('bar', { SLUICE_OPERATE_FAKE: JSON.stringify({ total: 40, perPoll: 4, failEvery: 10 }) }, [
      'backfill',
      '--stage',
      'fake',
      '--config',
      'config/dev.json',
      '--dataset',
      'orders',
      '--from',
      'year=2024/month=01/day=01',
      '--to',
      'year=2024/month=02/day=09',
      '--interval-ms',
      '20',
    ]);
    const text = await waitForPane('bar', (t) => t.includes('EXIT='));
    expect(text).toContain('backfill orders: 40 partitions, year=2024/month=01/day=01 .. year=2024/month=02/day=09');
    expect(text).toContain('note: sent as a range input');
    // Redrawn in place: one bar line on screen, the last state of the map.
    expect(barLines(text)).toEqual(['[###########################xxx] 40/40 items  36 finished  4 failed  0 running']);
    expect(text).toMatch(/FAILED: orders-backfill-fake, 36 partitions processed, 4 failed/);
    expect(text).toContain('EXIT=1');
  }, 60_000);

  test('Ctrl-C detaches: the CLI says the run goes on, names it, and exits 0', async () => {
    start('detach', { SLUICE_OPERATE_FAKE: JSON.stringify({ total: 100000, perPoll: 1 }) }, [
      'backfill',
      '--stage',
      'fake',
      '--config',
      'config/dev.json',
      '--dataset',
      'clicks',
      '--from',
      'dt=2024-01-01',
      '--to',
      'dt=2024-01-02',
      '--interval-ms',
      '50',
    ]);
    const running = await waitForPane('detach', (t) => / running$/m.test(t));
    expect(barLines(running)).toHaveLength(1);
    tmux('send-keys', '-t', 'detach', 'C-c');
    const text = await waitForPane('detach', (t) => t.includes('EXIT='));
    expect(text).toContain(
      'detached; the run goes on: arn:aws:states:eu-west-1:000000000000:execution:sluice-fake:clicks-backfill-fake',
    );
    expect(text).toContain('EXIT=0');
  }, 60_000);

  describe('on the local lake', () => {
    const lake = join(mkdtempSync(join(tmpdir(), 'sluice-e-tmux-')), 'lake');
    beforeAll(() => {
      const demo = spawnSync(TSX, [CLI, 'demo', '--lake', lake, '--json', '--quiet-ms', '200', '--poll-ms', '20'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (demo.status !== 0) throw new Error(`demo failed: ${demo.stdout}\n${demo.stderr}`);
    }, 130_000);
    afterAll(() => rmSync(join(lake, '..'), { recursive: true, force: true }));

    test('a real backfill through the real state machine ends with every item of the map done', async () => {
      start('local', {}, [
        'backfill',
        '--lake',
        lake,
        '--dataset',
        'orders',
        '--from',
        'year=2024/month=01/day=01',
        '--to',
        'year=2024/month=01/day=03',
        '--skip-crawler',
        '--poll-ms',
        '20',
        '--interval-ms',
        '20',
      ]);
      const text = await waitForPane('local', (t) => t.includes('EXIT='));
      expect(barLines(text)).toEqual(['[##############################] 3/3 items  3 finished  0 failed  0 running']);
      expect(text).toMatch(/SUCCEEDED: orders-backfill-\d{17}-[a-z0-9]+, 3 partitions processed, 0 failed/);
      expect(text).toContain('EXIT=0');
    }, 90_000);
  });
});
