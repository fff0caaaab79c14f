// Tests of the admin HTTP API over a fake ClusterService, with real HTTP on 127.0.0.1: the
// bearer token, every route, the refusals (400, 404, 405, 413, 500) and the bounds on request
// time and connections.

import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { ADMIN_BODY_BYTES_MAX } from './admin-server.js';
import { startFakeAdmin, TEST_TOKEN, type FakeAdmin } from './admin-server-fixture.js';
import { GIVEBACK_EVENT, sampleStatus, TAKEOVER_EVENT } from './cluster-service-fixture.js';

const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

async function withAdmin(work: (admin: FakeAdmin) => Promise<void>, options: Parameters<typeof startFakeAdmin>[0] = {}): Promise<void> {
  const admin = await startFakeAdmin(options);
  try {
    await work(admin);
  } finally {
    await admin.server.stop();
  }
}

/** A request with the token; the answer's status, content type and parsed body. */
async function call(admin: FakeAdmin, method: string, path: string, body?: string, headers: Record<string, string> = AUTH) {
  const response = await fetch(`${admin.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, type: response.headers.get('content-type'), headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

test('admin server: refuses a request without a token or with a wrong one, logging the remote address but never the token', async () => {
  // Goal: nothing is served or run without the cluster's token, and the log shows who tried.
  await withAdmin(async (admin) => {
    const wrong = 'f'.repeat(64);
    for (const headers of [{}, { authorization: `Bearer ${wrong}` }, { authorization: `Basic ${TEST_TOKEN}` }]) {
      const answer = await call(admin, 'GET', '/v1/status', undefined, headers);
      assert.equal(answer.status, 401);
      assert.equal(answer.type, 'application/json');
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer');
      assert.match(String(answer.body['error']), /unauthorized/);
    }
    const refused = await call(admin, 'POST', '/v1/takeover', '{"filer":"a"}', { authorization: `Bearer ${wrong}` });
    assert.equal(refused.status, 401);
    assert.deepEqual(admin.service.calls, [], 'the service was never asked');
    const warnings = admin.logs.filter((line) => line['level'] === 40);
    assert.equal(warnings.length, 4);
    assert.ok(warnings.every((line) => line['remote'] === '127.0.0.1'), JSON.stringify(warnings));
    const logged = JSON.stringify(admin.logs);
    assert.ok(!logged.includes(wrong) && !logged.includes(TEST_TOKEN), 'no token in the log');
  });
});

test('admin server: GET /v1/status answers the service\'s StatusReport as JSON', async () => {
  // Goal: the status route is the service's report, unchanged.
  await withAdmin(async (admin) => {
    const answer = await call(admin, 'GET', '/v1/status');
    assert.equal(answer.status, 200);
    assert.equal(answer.type, 'application/json');
    assert.deepEqual(answer.body, sampleStatus());
  });
});

test('admin server: GET /v1/events answers the event history as { events }', async () => {
  // Goal: the events route wraps the service's list in an object, oldest first.
  await withAdmin(async (admin) => {
    const answer = await call(admin, 'GET', '/v1/events');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { events: [TAKEOVER_EVENT, GIVEBACK_EVENT] });
  });
});

test('admin server: POST takeover and giveback run the command, 200 when done and 409 with the reason when refused', async () => {
  // Goal: the status code tells success from refusal, and the body is the CommandReport.
  await withAdmin(async (admin) => {
    admin.service.answer = (kind, filer) => (kind === 'takeover' ? { ok: true, event: { ...TAKEOVER_EVENT, filer } } : { ok: false, reason: 'filer a is not taken over' });
    const done = await call(admin, 'POST', '/v1/takeover', '{"filer":"a"}');
    assert.equal(done.status, 200);
    assert.deepEqual(done.body, { ok: true, event: TAKEOVER_EVENT });
    const refused = await call(admin, 'POST', '/v1/giveback', '{"filer":"a"}');
    assert.equal(refused.status, 409);
    assert.deepEqual(refused.body, { ok: false, reason: 'filer a is not taken over' });
    assert.deepEqual(admin.service.calls, ['takeover a', 'giveback a']);
  });
});

test('admin server: an unknown route is 404 and a known route with the wrong method is 405 naming the method', async () => {
  // Goal: mistakes in the URL or method are told apart, and nothing runs.
  await withAdmin(async (admin) => {
    const unknown = await call(admin, 'GET', '/v1/nothing');
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body['error']), /no route \/v1\/nothing/);
    const wrong = await call(admin, 'GET', '/v1/takeover');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    assert.match(String(wrong.body['error']), /takes POST, not GET/);
    assert.equal((await call(admin, 'POST', '/v1/status', '{}')).status, 405);
    assert.deepEqual(admin.service.calls, []);
  });
});

test('admin server: a malformed command body is 400 naming the problem', async () => {
  // Goal: every way of getting the body wrong is refused before the service sees it, with a message that says what to fix.
  await withAdmin(async (admin) => {
    const cases: [string, RegExp][] = [
      ['', /not JSON/],
      ['{"filer":', /not JSON/],
      ['["a"]', /expected a JSON object .* found a list/],
      ['"a"', /expected a JSON object .* found "a"/],
      ['{}', /body\.filer: missing/],
      ['{"filer":7}', /body\.filer: expected a filer name, found number 7/],
      ['{"filer":""}', /body\.filer: expected a filer name, found an empty string/],
      ['{"filer":"a","force":"yes"}', /body\.force: expected true or false, found "yes"/],
      ['{"filer":"a","hurry":true}', /body\.hurry: unknown key \(known: filer, force\)/],
    ];
    for (const [body, problem] of cases) {
      const answer = await call(admin, 'POST', '/v1/takeover', body);
      assert.equal(answer.status, 400, body);
      assert.match(String(answer.body['error']), problem, body);
    }
    assert.deepEqual(admin.service.calls, []);
  });
});

test('admin server: a body larger than ADMIN_BODY_BYTES_MAX is 413, whether declared or streamed', async () => {
  // Goal: the server never buffers more than the limit, with or without a content-length.
  await withAdmin(async (admin) => {
    const big = JSON.stringify({ filer: 'a'.repeat(ADMIN_BODY_BYTES_MAX) });
    const declared = await call(admin, 'POST', '/v1/takeover', big);
    assert.equal(declared.status, 413);
    assert.match(String(declared.body['error']), new RegExp(`larger than ${ADMIN_BODY_BYTES_MAX} bytes`));
    const streamed = await new Promise<{ status: number | undefined; body: string }>((resolve, reject) => {
      const request = http.request(`${admin.url}/v1/takeover`, { method: 'POST', headers: { ...AUTH, 'transfer-encoding': 'chunked' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
      });
      request.on('error', reject);
      for (let i = 0; i < 8; i += 1) request.write(Buffer.alloc(1024, 0x20));
      request.end();
    });
    assert.equal(streamed.status, 413);
    assert.match(streamed.body, /larger than/);
    assert.deepEqual(admin.service.calls, []);
  });
});

test('admin server: a service that throws gives 500 with its message, and the server keeps answering', async () => {
  // Goal: a failure inside the cluster service is reported, not fatal to the admin API.
  await withAdmin(async (admin) => {
    admin.service.failure = new Error('mailbox unreadable: EIO');
    for (const [method, path, body] of [['GET', '/v1/status'], ['GET', '/v1/events'], ['POST', '/v1/takeover', '{"filer":"a"}']] as const) {
      const answer = await call(admin, method, path, body);
      assert.equal(answer.status, 500, path);
      assert.deepEqual(answer.body, { error: 'mailbox unreadable: EIO' });
    }
    admin.service.failure = undefined;
    assert.equal((await call(admin, 'GET', '/v1/status')).status, 200);
    assert.ok(admin.logs.some((line) => line['level'] === 50), 'the failure is logged as an error');
  });
});

test('admin server: a request not received in full within the request timeout is answered 408 and closed', async () => {
  // Goal: a client that stalls mid-request cannot hold a connection for ever.
  await withAdmin(async (admin) => {
    const socket = net.connect(admin.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(`GET /v1/status HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_TOKEN}\r\n`); // headers never finished
    const started = Date.now();
    await new Promise((resolve) => socket.on('close', resolve));
    assert.ok(Date.now() - started < 3_000, `closed after ${Date.now() - started} ms`);
    assert.match(Buffer.concat(received).toString(), /^HTTP\/1\.1 408/);
  }, { requestTimeoutMs: 200 });
});

test('admin server: connections beyond the maximum are closed, and the admitted ones still work', async () => {
  // Goal: the number of open connections is bounded.
  await withAdmin(async (admin) => {
    const open = async () => {
      const socket = net.connect(admin.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const admitted = [await open(), await open()];
    const extra = await open();
    const closed = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true));
      extra.write('GET /v1/status HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    assert.equal(closed, true);
    const first = admitted[0]!;
    const answer = new Promise<string>((resolve) => first.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    first.write(`GET /v1/status HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    assert.match(await answer, /^HTTP\/1\.1 200/);
    for (const socket of admitted) socket.destroy();
  }, { connectionsMax: 2 });
});
