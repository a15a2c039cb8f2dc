import { connect } from 'node:net';

/** Writes `request` (HTTP text, written by hand so its target can be anything) and resolves with the whole answer. */
export function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(request));
    // A server that never answers or never closes would otherwise hang the test until the runner's timeout.
    sock.setTimeout(10_000, () =>
      sock.destroy(new Error(`no complete answer within 10 s to ${JSON.stringify(request.split('\r\n')[0])}`)),
    );
    let answer = '';
    sock.on('data', (d) => (answer += d));
    sock.on('close', () => resolve(answer));
    sock.on('error', reject);
  });
}
