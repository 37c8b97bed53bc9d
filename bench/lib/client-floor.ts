// How long the bench's own client takes to read a reply of a listing's size from a server that
// does nothing (a prepared buffer written with back-pressure, in a process of its own as the API
// is): the part of a listing's measured latency that no server-side change can remove here.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { timedDrain } from './client';
import { summarize, type Summary } from './stats';

const SERVER = `
const http = require('node:http');
const body = Buffer.alloc(Number(process.argv[1]), 'a');
const server = http.createServer((_req, res) => {
  res.setHeader('Content-Type', 'application/json');
  let at = 0;
  const write = () => {
    while (at < body.length) {
      const piece = body.subarray(at, at + 262144);
      at += piece.length;
      if (!res.write(piece)) return void res.once('drain', write);
    }
    res.end();
  };
  write();
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

export async function clientReadingFloor(bytes: number, runs = 10): Promise<Summary> {
  const child = spawn(process.execPath, ['-e', SERVER, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${Number(line.toString().trim())}/`;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await timedDrain(url, null)).ms);
    return summarize(times);
  } finally {
    child.kill();
  }
}
