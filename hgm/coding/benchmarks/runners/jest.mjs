// A plain runner for jest-style test files (describe/test/expect), for sandboxes where npm's registry is out of
// reach. It prints `ok - NAME` or `not ok - NAME` with the message indented below, then `N passed, N failed`, and
// exits 1 unless every test passed. Usage: node --experimental-loader ./resolve.mjs ./jest.mjs FILE...
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';

const TIMEOUT_MS = 5000;
// A value only this runner knows once the file is gone: it marks the closing line as the runner's own.
const tagFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tag');
let tag = '';
try {
  tag = readFileSync(tagFile, 'utf8').trim();
  unlinkSync(tagFile);
} catch {
  // run by hand, without hgm
}
const root = { name: '', beforeEach: [], afterEach: [], beforeAll: [], afterAll: [], started: false };
const suites = [root];
const tests = [];

function show(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return inspect(value, { depth: 6, breakLength: 100, maxArrayLength: 50, maxStringLength: 500 });
}

function describe(name, body) {
  const suite = { name: String(name), beforeEach: [], afterEach: [], beforeAll: [], afterAll: [], started: false };
  suites.push(suite);
  try {
    body();
  } finally {
    suites.pop();
  }
}

function test(name, fn, timeout) {
  const chain = [...suites];
  const title = [...chain.slice(1).map((s) => s.name), String(name)].join(' > ');
  tests.push({ name: title, fn, chain, timeout: typeof timeout === 'number' ? timeout : TIMEOUT_MS });
}

function format(title, row, index) {
  const values = Array.isArray(row) ? [...row] : [row];
  let text = String(title).replace(/%[sdifjop#%]/g, (m) => {
    if (m === '%%') return '%';
    if (m === '%#') return String(index);
    return values.length ? (m === '%s' ? String(values.shift()) : show(values.shift())) : m;
  });
  if (row && typeof row === 'object' && !Array.isArray(row)) {
    text = text.replace(/\$([A-Za-z_][\w.]*)/g, (m, key) => (key in row ? show(row[key]) : m));
  }
  return text;
}

function each(register) {
  return (table) => (title, fn, timeout) =>
    table.forEach((row, i) => register(format(title, row, i), () => (Array.isArray(row) ? fn(...row) : fn(row)), timeout));
}

// The published benchmark runs every test, skipped or focused ones included.
for (const fn of [describe, test]) {
  fn.skip = fn;
  fn.only = fn;
  fn.each = each(fn);
}
test.todo = () => {};
const hook = (kind) => (fn) => suites[suites.length - 1][kind].push(fn);
Object.assign(globalThis, {
  describe,
  xdescribe: describe,
  fdescribe: describe,
  test,
  it: test,
  xtest: test,
  xit: test,
  fit: test,
  beforeEach: hook('beforeEach'),
  afterEach: hook('afterEach'),
  beforeAll: hook('beforeAll'),
  afterAll: hook('afterAll'),
});

// -- expect -------------------------------------------------------------------------------------------------------

class Asymmetric {
  constructor(label, match) {
    this.label = label;
    this.asymmetricMatch = match;
  }
  [inspect.custom]() {
    return this.label;
  }
}

function equals(a, b, strict = false) {
  if (b instanceof Asymmetric) return b.asymmetricMatch(a);
  if (a instanceof Asymmetric) return a.asymmetricMatch(b);
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && +a === +b;
  if (a instanceof RegExp || b instanceof RegExp) return String(a) === String(b);
  if (a instanceof Error && b instanceof Error) return a.message === b.message;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    return [...a].every(([k, v]) => b.has(k) && equals(v, b.get(k), strict));
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    return [...a].every((v) => b.has(v) || [...b].some((w) => equals(v, w, strict)));
  }
  if (Array.isArray(a) && a.length !== b.length) return false;
  const keys = (o) => Object.keys(o).filter((k) => strict || o[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equals(a[k], b[k], strict));
}

function matchesObject(actual, expected) {
  if (typeof expected !== 'object' || expected === null || expected instanceof Asymmetric) return equals(actual, expected);
  if (typeof actual !== 'object' || actual === null) return false;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => matchesObject(actual[i], v));
  }
  return Object.keys(expected).every((k) => k in Object(actual) && matchesObject(actual[k], expected[k]));
}

function property(object, keyPath) {
  const keys = Array.isArray(keyPath) ? keyPath : String(keyPath).split('.');
  let value = object;
  for (const key of keys) {
    if (value === null || value === undefined || !(key in Object(value))) return { found: false };
    value = value[key];
  }
  return { found: true, value };
}

function thrown(fn) {
  if (typeof fn !== 'function') return { threw: false, notFunction: true };
  try {
    fn();
  } catch (error) {
    return { threw: true, error };
  }
  return { threw: false };
}

function errorMatches(error, expected) {
  if (expected === undefined) return true;
  const message = error && error.message !== undefined ? String(error.message) : String(error);
  if (typeof expected === 'string') return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === 'function') return error instanceof expected;
  if (expected instanceof Error) return message === expected.message;
  if (expected instanceof Asymmetric) return expected.asymmetricMatch(error);
  return false;
}

function calls(mock) {
  if (!mock || !mock.mock) throw new Error(`expected a jest.fn() mock, received ${show(mock)}`);
  return mock.mock.calls;
}

const MATCHERS = {
  toBe: (a, e) => [Object.is(a, e), `Expected: ${show(e)}\nReceived: ${show(a)}`],
  toEqual: (a, e) => [equals(a, e), `Expected: ${show(e)}\nReceived: ${show(a)}`],
  toStrictEqual: (a, e) => [equals(a, e, true), `Expected: ${show(e)}\nReceived: ${show(a)}`],
  toBeCloseTo: (a, e, digits = 2) => [
    Math.abs(a - e) < 10 ** -digits / 2 || a === e,
    `Expected: ${show(e)} (to ${digits} digits)\nReceived: ${show(a)}`,
  ],
  toBeTruthy: (a) => [Boolean(a), `Received: ${show(a)}`],
  toBeFalsy: (a) => [!a, `Received: ${show(a)}`],
  toBeNull: (a) => [a === null, `Received: ${show(a)}`],
  toBeUndefined: (a) => [a === undefined, `Received: ${show(a)}`],
  toBeDefined: (a) => [a !== undefined, `Received: ${show(a)}`],
  toBeNaN: (a) => [Number.isNaN(a), `Received: ${show(a)}`],
  toBeGreaterThan: (a, e) => [a > e, `Expected: > ${show(e)}\nReceived: ${show(a)}`],
  toBeGreaterThanOrEqual: (a, e) => [a >= e, `Expected: >= ${show(e)}\nReceived: ${show(a)}`],
  toBeLessThan: (a, e) => [a < e, `Expected: < ${show(e)}\nReceived: ${show(a)}`],
  toBeLessThanOrEqual: (a, e) => [a <= e, `Expected: <= ${show(e)}\nReceived: ${show(a)}`],
  toBeInstanceOf: (a, e) => [a instanceof e, `Expected an instance of ${e && e.name}\nReceived: ${show(a)}`],
  toContain: (a, e) => [
    a !== null && a !== undefined && typeof a.includes === 'function' && a.includes(e),
    `Expected to contain: ${show(e)}\nReceived: ${show(a)}`,
  ],
  toContainEqual: (a, e) => [
    Array.from(a || []).some((v) => equals(v, e)),
    `Expected to contain an item equal to: ${show(e)}\nReceived: ${show(a)}`,
  ],
  toHaveLength: (a, e) => [
    a !== null && a !== undefined && a.length === e,
    `Expected length: ${e}\nReceived length: ${a && a.length}\nReceived: ${show(a)}`,
  ],
  toMatch: (a, e) => [
    typeof a === 'string' && (e instanceof RegExp ? e.test(a) : a.includes(e)),
    `Expected pattern: ${show(e)}\nReceived: ${show(a)}`,
  ],
  toMatchObject: (a, e) => [matchesObject(a, e), `Expected to match: ${show(e)}\nReceived: ${show(a)}`],
  toHaveProperty: (a, keyPath, ...value) => {
    const got = property(a, keyPath);
    const pass = got.found && (value.length === 0 || equals(got.value, value[0]));
    const want = value.length ? ` = ${show(value[0])}` : '';
    return [pass, `Expected property: ${show(keyPath)}${want}\nReceived: ${show(a)}`];
  },
  toThrow: (fn, expected) => {
    const result = thrown(fn);
    if (result.notFunction) return [false, `Received value must be a function, got ${show(fn)}`];
    if (!result.threw) return [false, `Expected the function to throw${expected === undefined ? '' : ` ${show(expected)}`}; it did not throw`];
    return [errorMatches(result.error, expected), `Expected to throw: ${show(expected)}\nThrown: ${show(result.error)}`];
  },
  toHaveBeenCalled: (m) => [calls(m).length > 0, `Number of calls: ${calls(m).length}`],
  toHaveBeenCalledTimes: (m, n) => [calls(m).length === n, `Expected calls: ${n}\nReceived calls: ${calls(m).length}`],
  toHaveBeenCalledWith: (m, ...args) => [
    calls(m).some((c) => equals(c, args)),
    `Expected a call with: ${show(args)}\nCalls: ${show(calls(m))}`,
  ],
  toHaveBeenLastCalledWith: (m, ...args) => [
    calls(m).length > 0 && equals(calls(m)[calls(m).length - 1], args),
    `Expected the last call with: ${show(args)}\nCalls: ${show(calls(m))}`,
  ],
};
MATCHERS.toThrowError = MATCHERS.toThrow;
MATCHERS.toBeCalled = MATCHERS.toHaveBeenCalled;
MATCHERS.toBeCalledWith = MATCHERS.toHaveBeenCalledWith;

class ExpectationError extends Error {}

function matchers(actual, negated, wrap) {
  const out = {};
  for (const [name, check] of Object.entries(MATCHERS)) {
    out[name] = (...args) =>
      wrap(actual, (value) => {
        const [pass, detail] = check(value, ...args);
        if (pass === negated) {
          throw new ExpectationError(`expect(received).${negated ? 'not.' : ''}${name}(${args.map(show).join(', ')})\n\n${detail}`);
        }
      });
  }
  return out;
}

function expect(actual) {
  const direct = (value, check) => check(value);
  const resolved = (value, check) =>
    Promise.resolve(value).then(check, (e) => {
      throw new ExpectationError(`Expected the promise to resolve; it rejected with ${show(e)}`);
    });
  const rejected = (value, check) =>
    Promise.resolve(value).then(
      (v) => {
        throw new ExpectationError(`Expected the promise to reject; it resolved to ${show(v)}`);
      },
      (e) => check(e),
    );
  const base = matchers(actual, false, direct);
  base.not = matchers(actual, true, direct);
  base.resolves = matchers(actual, false, resolved);
  base.resolves.not = matchers(actual, true, resolved);
  base.rejects = matchers(actual, false, rejected);
  base.rejects.not = matchers(actual, true, rejected);
  // On a rejected promise, toThrow checks the rejection reason itself.
  for (const [target, negated] of [
    [base.rejects, false],
    [base.rejects.not, true],
  ]) {
    target.toThrow = (expected) =>
      rejected(actual, (e) => {
        if (errorMatches(e, expected) === negated) {
          throw new ExpectationError(`Expected the rejection ${negated ? 'not ' : ''}to match ${show(expected)}\nRejected with: ${show(e)}`);
        }
      });
    target.toThrowError = target.toThrow;
  }
  return base;
}

expect.any = (type) =>
  new Asymmetric(`Any<${type && type.name}>`, (v) =>
    v !== null && v !== undefined && (v instanceof type || Object(v) instanceof type || typeof v === type.name.toLowerCase()),
  );
expect.anything = () => new Asymmetric('Anything', (v) => v !== null && v !== undefined);
expect.arrayContaining = (items) =>
  new Asymmetric(`ArrayContaining ${show(items)}`, (v) => Array.isArray(v) && items.every((i) => v.some((x) => equals(x, i))));
expect.objectContaining = (shape) => new Asymmetric(`ObjectContaining ${show(shape)}`, (v) => matchesObject(v, shape));
expect.stringContaining = (text) => new Asymmetric(`StringContaining ${show(text)}`, (v) => typeof v === 'string' && v.includes(text));
expect.stringMatching = (re) =>
  new Asymmetric(`StringMatching ${show(re)}`, (v) => typeof v === 'string' && new RegExp(re).test(v));
expect.assertions = () => {};
expect.hasAssertions = () => {};

function fn(implementation = () => undefined) {
  let impl = implementation;
  const once = [];
  const mock = function (...args) {
    mock.mock.calls.push(args);
    const result = (once.length ? once.shift() : impl).apply(this, args);
    mock.mock.results.push({ type: 'return', value: result });
    return result;
  };
  mock.mock = { calls: [], results: [] };
  mock.mockImplementation = (f) => ((impl = f), mock);
  mock.mockImplementationOnce = (f) => (once.push(f), mock);
  mock.mockReturnValue = (v) => ((impl = () => v), mock);
  mock.mockReturnValueOnce = (v) => (once.push(() => v), mock);
  mock.mockClear = () => ((mock.mock.calls = []), (mock.mock.results = []), mock);
  mock.mockReset = () => (mock.mockClear(), (impl = () => undefined), mock);
  return mock;
}

const jest = {
  fn,
  spyOn(object, method) {
    const original = object[method];
    const spy = fn(function (...args) {
      return original.apply(this, args);
    });
    spy.mockRestore = () => {
      object[method] = original;
    };
    object[method] = spy;
    return spy;
  },
  setTimeout() {},
};
Object.assign(globalThis, { expect, jest });

// -- running ------------------------------------------------------------------------------------------------------

function call(fn, timeout) {
  if (typeof fn !== 'function') return Promise.resolve();
  const run =
    fn.length > 0
      ? new Promise((resolve, reject) => fn((error) => (error ? reject(error) : resolve())))
      : Promise.resolve().then(() => fn());
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
  });
  return Promise.race([run, limit]).finally(() => clearTimeout(timer));
}

function describeError(error) {
  if (error instanceof ExpectationError) return error.message;
  if (error instanceof Error) {
    const lines = (error.stack || `${error.name}: ${error.message}`).split('\n');
    return lines.filter((line) => !line.includes('/.hgm-test/')).slice(0, 6).join('\n');
  }
  return `thrown: ${show(error)}`;
}

function report(ok, name, error) {
  const lines = [`${ok ? 'ok' : 'not ok'} - ${name}`];
  if (error !== undefined) lines.push(...describeError(error).split('\n').map((line) => `    ${line}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(files) {
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const before = tests.length;
    try {
      await import(pathToFileURL(path.resolve(file)).href);
    } catch (error) {
      failed += 1;
      report(false, `loading ${file}`, error);
      continue;
    }
    for (const t of tests.slice(before)) {
      try {
        for (const suite of t.chain) {
          if (!suite.started) {
            suite.started = true;
            for (const h of suite.beforeAll) await call(h, t.timeout);
          }
        }
        for (const h of t.chain.flatMap((s) => s.beforeEach)) await call(h, t.timeout);
        try {
          await call(t.fn, t.timeout);
        } finally {
          for (const h of t.chain.flatMap((s) => s.afterEach).reverse()) await call(h, t.timeout);
        }
        passed += 1;
        report(true, t.name);
      } catch (error) {
        failed += 1;
        report(false, t.name, error);
      }
    }
  }
  for (const suite of [root, ...new Set(tests.flatMap((t) => t.chain))]) {
    if (suite.started) for (const h of suite.afterAll) await call(h, TIMEOUT_MS).catch(() => {});
  }
  if (passed + failed === 0) process.stdout.write('no tests found\n');
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  if (tag) process.stdout.write(`${tag} ${passed} passed, ${failed} failed\n`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

process.on('unhandledRejection', () => {});
main(process.argv.slice(2));
