// Tests of session sealing: a sealed frame opens once, in order, in its own session and
// direction only; a change to any single byte is refused before the body is read.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SessionSeal } from './sealing.js';

const key = randomBytes(32);

test('sealing: frames open in order and carry their bodies', () => {
  // Goal: the listener opens the dialer's frames 1, 2, 3 and gets each body back.
  const dialer = new SessionSeal(key, 'dialer');
  const listener = new SessionSeal(key, 'listener');
  for (const text of ['one', 'two', 'three']) {
    const opened = listener.open(dialer.seal(Buffer.from(text)));
    assert.ok(opened.ok);
    assert.equal(String(opened.body), text);
  }
});

test('sealing: a frame with any single byte flipped is refused', () => {
  // Goal: the tag covers tag, seq and body: every one of their bytes matters.
  const dialer = new SessionSeal(key, 'dialer');
  const frame = dialer.seal(Buffer.from('{"kind":"heartbeat","sentAtMs":1}'));
  for (let offset = 0; offset < frame.length; offset++) {
    const altered = Buffer.from(frame);
    altered[offset]! ^= 0x20;
    const opened = new SessionSeal(key, 'listener').open(altered);
    assert.ok(!opened.ok && opened.reason.startsWith('bad tag'), `byte ${offset}`);
  }
  assert.ok(new SessionSeal(key, 'listener').open(frame).ok, 'the unaltered frame opens');
});

test('sealing: replayed, skipped, reflected and foreign frames are refused', () => {
  // Goal: a frame opens only once, only next in line, only in its direction, only in its session.
  const dialer = new SessionSeal(key, 'dialer');
  const listener = new SessionSeal(key, 'listener');
  const first = dialer.seal(Buffer.from('1'));
  const second = dialer.seal(Buffer.from('2'));
  const third = dialer.seal(Buffer.from('3'));
  assert.ok(listener.open(first).ok);
  const replay = listener.open(first);
  assert.ok(!replay.ok && /seq 1 where 2 was due: replayed/.test(replay.reason), JSON.stringify(replay));
  const skip = listener.open(third);
  assert.ok(!skip.ok && /seq 3 where 2 was due: skipped/.test(skip.reason), JSON.stringify(skip));
  assert.ok(listener.open(second).ok, 'a refused frame does not advance the count');
  const reflected = new SessionSeal(key, 'dialer').open(first);
  assert.ok(!reflected.ok && reflected.reason.startsWith('bad tag'), 'the sender cannot be fed its own frame');
  const foreign = new SessionSeal(randomBytes(32), 'listener').open(first);
  assert.ok(!foreign.ok && foreign.reason.startsWith('bad tag'), 'another session cannot open it');
  const short = listener.open(Buffer.alloc(39));
  assert.ok(!short.ok && /shorter than its tag and seq/.test(short.reason));
});
