// A real HTTP endpoint on loopback that records the webhook notifications it receives.
import { createServer, type Server } from 'node:http';

export interface WebhookReceiver {
  url: string;
  received: Array<{ text: string; gantry: { event: string; app: string; environment?: string } }>;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    received,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
