import { connect } from 'node:net';

/** Writes `request` (HTTP text, written by hand so its target can be anything) and resolves with the whole answer. */
export function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(request));
    let answer = '';
    sock.on('data', (d) => (answer += d));
    sock.on('close', () => resolve(answer));
    sock.on('error', reject);
  });
}
