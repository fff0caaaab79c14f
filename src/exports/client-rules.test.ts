// Unit tests of export client rules: parsing `client(options)` text, matching client addresses
// (IPv4, IPv4-mapped IPv6, IPv6 CIDR; first match wins), and errors that name the bad rule.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANONYMOUS_ID_DEFAULT, ExportRuleError, matchClient, parseClientRules } from './client-rules.js';

const RULES_TEXT = '127.0.0.0/8(rw,no_root_squash) 10.1.2.3(ro,all_squash,anonuid=1000,anongid=1000) *(ro)';

test('client rules: the three-rule example parses into match, access, squash and anonymous ids', () => {
  // Goal: every option lands in its field; omitted ones take the defaults.
  assert.deepEqual(parseClientRules(RULES_TEXT), [
    {
      spec: '127.0.0.0/8(rw,no_root_squash)',
      match: { kind: 'network', family: 4, network: 0x7f00_0000n, prefixBits: 8 },
      access: 'rw',
      squash: 'none',
      anonUid: ANONYMOUS_ID_DEFAULT,
      anonGid: ANONYMOUS_ID_DEFAULT,
    },
    {
      spec: '10.1.2.3(ro,all_squash,anonuid=1000,anongid=1000)',
      match: { kind: 'network', family: 4, network: 0x0a01_0203n, prefixBits: 32 },
      access: 'ro',
      squash: 'all',
      anonUid: 1000,
      anonGid: 1000,
    },
    { spec: '*(ro)', match: { kind: 'any' }, access: 'ro', squash: 'root', anonUid: 65534, anonGid: 65534 },
  ]);
});

test('client rules: a network written with host bits set is masked to its prefix', () => {
  // Goal: 10.1.2.3/16 means 10.1.0.0/16.
  const [rule] = parseClientRules('  10.1.2.3/16  ');
  assert.deepEqual(rule?.match, { kind: 'network', family: 4, network: 0x0a01_0000n, prefixBits: 16 });
  assert.equal(rule?.squash, 'root');
});

test('client rules: addresses inside and outside the networks match the first rule that admits them', () => {
  // Goal: first match wins, and '*' catches the rest.
  const rules = parseClientRules(RULES_TEXT);
  assert.equal(matchClient(rules, '127.0.0.1')?.spec, rules[0]!.spec);
  assert.equal(matchClient(rules, '127.255.255.254')?.spec, rules[0]!.spec);
  assert.equal(matchClient(rules, '10.1.2.3')?.spec, rules[1]!.spec);
  assert.equal(matchClient(rules, '10.1.2.4')?.spec, rules[2]!.spec);
  assert.equal(matchClient(rules, '128.0.0.1')?.spec, rules[2]!.spec);
  const noWildcard = parseClientRules('127.0.0.0/8 10.1.2.3');
  assert.equal(matchClient(noWildcard, '126.255.255.255'), undefined);
  assert.equal(matchClient(noWildcard, '128.0.0.0'), undefined);
  assert.equal(matchClient(noWildcard, '10.1.2.2'), undefined);
  assert.equal(matchClient(noWildcard, 'not-an-address'), undefined);
  assert.equal(matchClient(noWildcard, ''), undefined);
});

test('client rules: an IPv4-mapped IPv6 address matches IPv4 rules', () => {
  // Goal: a dual-stack socket reports ::ffff:127.0.0.1 for an IPv4 client.
  const rules = parseClientRules('127.0.0.0/8(rw) 10.1.2.3(ro)');
  assert.equal(matchClient(rules, '::ffff:127.0.0.1')?.spec, '127.0.0.0/8(rw)');
  assert.equal(matchClient(rules, '::ffff:10.1.2.3')?.spec, '10.1.2.3(ro)');
  assert.equal(matchClient(rules, '::ffff:10.1.2.4'), undefined);
  // ::1 is IPv6 loopback, not 127.0.0.1.
  assert.equal(matchClient(rules, '::1'), undefined);
});

test('client rules: IPv6 networks match by prefix, including an embedded IPv4 tail', () => {
  // Goal: fd00::/8 admits unique-local addresses and nothing else; /128 and /0 at the edges.
  const rules = parseClientRules('fd00::/8(rw)');
  assert.equal(matchClient(rules, 'fd12:3456:789a::1')?.access, 'rw');
  assert.equal(matchClient(rules, 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')?.access, 'rw');
  assert.equal(matchClient(rules, 'fe80::1'), undefined);
  assert.equal(matchClient(rules, 'fc00::1'), undefined);
  assert.equal(matchClient(rules, '10.0.0.1'), undefined);
  assert.ok(matchClient(parseClientRules('2001:db8::1'), '2001:db8:0:0:0:0:0:1'));
  assert.equal(matchClient(parseClientRules('2001:db8::1'), '2001:db8::2'), undefined);
  assert.ok(matchClient(parseClientRules('::/0'), '2001:db8::2'));
  assert.equal(matchClient(parseClientRules('::/0'), '10.0.0.1'), undefined);
  assert.ok(matchClient(parseClientRules('64:ff9b::/96'), '64:ff9b::192.0.2.33'));
  assert.equal(matchClient(parseClientRules('0.0.0.0/0'), '::1'), undefined);
  assert.ok(matchClient(parseClientRules('0.0.0.0/0'), '203.0.113.7'));
});

test('client rules: errors name the bad rule', () => {
  // Goal: an operator can find the typo from the message alone.
  const cases: [string, RegExp][] = [
    ['127.0.0.0/8(rw) 10.0.0.1(rw,bogus)', /"10\.0\.0\.1\(rw,bogus\)".*unknown option "bogus"/],
    ['10.0.0.0/33(rw)', /"10\.0\.0\.0\/33\(rw\)".*prefix "\/33" must be 0 to 32/],
    ['fd00::/129', /"fd00::\/129".*must be 0 to 128/],
    ['10.0.0.0/(rw)', /"10\.0\.0\.0\/\(rw\)"/],
    ['10.0.0.0/8x', /"10\.0\.0\.0\/8x"/],
    ['example.com(rw)', /"example\.com\(rw\)".*"example\.com" is not \*, an IP address or a CIDR network/],
    ['10.0.0.256', /"10\.0\.0\.256"/],
    ['10.0.0.1(anonuid=abc)', /"10\.0\.0\.1\(anonuid=abc\)".*"anonuid=abc" needs a number/],
    ['10.0.0.1(anongid=4294967296)', /"anongid=4294967296" needs a number/],
    ['10.0.0.1(anonuid)', /"anonuid" needs a number/],
    ['10.0.0.1(rw', /"10\.0\.0\.1\(rw": expected CLIENT or CLIENT\(options\)/],
    ['   ', /no client rule given/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseClientRules(text), (error: unknown) => error instanceof ExportRuleError && message.test(error.message), text);
  }
});

test('client rules: a client or option with extra parts is refused, not truncated', () => {
  // Goal: "10.0.0.0/8/16" and "anonuid=1=2" are typos, not /8 and anonuid=1.
  for (const text of ['10.0.0.0/8/16', '10.0.0.1(anonuid=1=2)', '10.0.0.1(rw=1)']) {
    assert.throws(() => parseClientRules(text), ExportRuleError, text);
  }
});

test('client rules: more than 256 rules are refused', () => {
  // Goal: the named limit CLIENT_RULES_MAX bounds the table.
  const many = Array.from({ length: 257 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(' ');
  assert.throws(() => parseClientRules(many), /more than 256/);
  assert.equal(parseClientRules(Array.from({ length: 256 }, (_, i) => `10.0.0.${i}`).join(' ')).length, 256);
});
