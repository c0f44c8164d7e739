/**
 * A loopback TCP relay in front of a server, which a test can cut and restore: a network partition
 * between one client and a server that keeps running. While cut, open connections are dropped and
 * new ones are closed at once, so the client keeps retrying and the server, which is alive and
 * ticking, expires the client's session on its own clock — unlike pausing the server, after which
 * the server may renew the session on waking.
 */
import net from 'node:net';

export class TcpGate {
  private readonly sockets = new Set<net.Socket>();
  private open = true;

  private constructor(private readonly server: net.Server, readonly port: number) {}

  /** Starts relaying 127.0.0.1:<free port> to `targetPort` on 127.0.0.1. */
  static start(targetPort: number): Promise<TcpGate> {
    let gate: TcpGate | undefined;
    const server = net.createServer((inbound) => gate!.accept(inbound, targetPort));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        gate = new TcpGate(server, (server.address() as net.AddressInfo).port);
        resolve(gate);
      });
    });
  }

  private accept(inbound: net.Socket, targetPort: number): void {
    if (!this.open) {
      inbound.destroy();
      return;
    }
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
      this.sockets.add(a);
      a.on('data', (d) => b.write(d));
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }

  /** Drops every relayed connection and refuses new ones until `restore`. */
  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
