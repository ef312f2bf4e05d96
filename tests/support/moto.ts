/**
 * moto's DynamoDB (moto[server], Apache-2.0, from the project's .venv) on a free loopback port, started and stopped
 * by the tests themselves. It implements TransactWriteItems with condition checks and TransactionCanceledException
 * with CancellationReasons, which dynalite does not; docs/protocol.md lists where it and DynamoDB's documentation
 * part ways (ClientRequestToken idempotency), and the in-memory store follows the documentation there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { venvBin } from './python-env';

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts `moto_server` on 127.0.0.1, port 0 (the OS picks a free one), and reads the port from its banner. */
export async function startMoto(): Promise<MotoServer> {
  const child: ChildProcess = spawn(venvBin('moto_server'), ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const look = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`moto_server exited (${code}) before listening: ${seen}`)));
    child.once('error', reject);
  });
  // Keep draining its output so the pipe never fills and blocks the server.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
