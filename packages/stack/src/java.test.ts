import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findJavaRuntimes, parseJavaMajor, pickJava } from './java.js';
import { StackError } from './errors.js';

test('parses java -version output of old and new JDKs', () => {
  assert.equal(parseJavaMajor('openjdk version "17.0.15" 2025-04-15'), 17);
  assert.equal(parseJavaMajor('openjdk version "25.0.3" 2026-04-21 LTS'), 25);
  assert.equal(parseJavaMajor('java version "1.8.0_392"'), 8);
  assert.equal(parseJavaMajor('openjdk version "21" 2023-09-19'), 21);
  assert.equal(parseJavaMajor('no java here'), undefined);
});

test('no java on PATH and no JAVA_HOME: a java-missing error naming the fix', () => {
  const empty = mkdtempSync(join(tmpdir(), 'nojava-'));
  const runtimes = findJavaRuntimes({ PATH: empty });
  assert.deepEqual(runtimes, []);
  assert.throws(
    () => pickJava('Kafka 4.1.1', 17, undefined, runtimes),
    (err: unknown) => err instanceof StackError && err.code === 'java-missing' && /JAVA_HOME/.test(err.message) && /JDK 17\+/.test(err.message),
  );
});

test('a JDK that is too old is named in the error', () => {
  assert.throws(
    () => pickJava('QuestDB', 17, undefined, [{ path: '/x/bin/java', major: 11, origin: 'PATH' }]),
    (err: unknown) => err instanceof StackError && err.code === 'java-too-old' && /Java 11 \(PATH: \/x\/bin\/java\)/.test(err.message),
  );
  assert.equal(pickJava('QuestDB', 17, 24, [{ path: '/a', major: 25, origin: 'JAVA_HOME' }, { path: '/b', major: 17, origin: 'PATH' }]).path, '/b');
});

test('finds the java on PATH when there is one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'withjava-'));
  const real = findJavaRuntimes(process.env)[0];
  if (!real) return assert.fail('this machine has no java on PATH, but the project requires one');
  symlinkSync(real.path, join(dir, 'java'));
  const found = findJavaRuntimes({ PATH: dir });
  assert.equal(found[0]?.origin, 'PATH');
  assert.equal(found[0]?.major, real.major);
});
