/**
 * Store detection (docs/stores.md) over real directories: the
 * state dir is listed once instead of stat'ing files that are usually absent,
 * and every layout still picks the backend it picked before.
 */

import assert from "node:assert/strict";
import { chooseStore } from "../../lib/store/kind.ts";

function stateDir(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync({ prefix: "clawauth-kind-" });
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${dir}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${dir}/${path}`, text);
  }
  return dir;
}

function choose(dir: string, opts: { configPath?: string; env?: string; flag?: string } = {}) {
  return chooseStore({
    stateDir: dir,
    configPath: opts.configPath ?? `${dir}/clawauth.json`,
    env: opts.env,
    flag: opts.flag,
  });
}

Deno.test("detection: OpenClaw's state DB means openclaw; no state/, an empty state/ or no state dir mean json", () => {
  const openclaw = stateDir({ "state/openclaw.sqlite": "" });
  const plain = stateDir({ "openclaw.json": "{}" });
  const emptyState = stateDir({ "state/other.sqlite": "" });
  try {
    assert.deepEqual(choose(openclaw), { backend: "openclaw" });
    assert.deepEqual(choose(`${openclaw}/`), { backend: "openclaw" });
    assert.deepEqual(choose(plain), { backend: "json" });
    assert.deepEqual(choose(emptyState), { backend: "json" });
    assert.deepEqual(choose(`${plain}/missing`), { backend: "json" });
  } finally {
    for (const dir of [openclaw, plain, emptyState]) Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("detection: clawauth.json's store wins over the state DB, in the state dir or at CLAWAUTH_CONFIG", () => {
  const dir = stateDir({
    "state/openclaw.sqlite": "",
    "clawauth.json": '{"store": "json"}',
    "elsewhere/config.json": '{"store": "openclaw"}',
  });
  const bare = stateDir({});
  try {
    assert.deepEqual(choose(dir), { backend: "json" });
    assert.deepEqual(choose(bare, { configPath: `${dir}/elsewhere/config.json` }), {
      backend: "openclaw",
    });
    // A config elsewhere is read even though the state dir's listing does not show it.
    assert.deepEqual(choose(dir, { configPath: `${dir}/elsewhere/config.json` }), {
      backend: "openclaw",
    });
    // --store and CLAWAUTH_STORE still come first.
    assert.deepEqual(choose(dir, { env: "openclaw" }), { backend: "openclaw" });
    assert.deepEqual(choose(dir, { flag: "json", env: "openclaw" }), { backend: "json" });
  } finally {
    for (const d of [dir, bare]) Deno.removeSync(d, { recursive: true });
  }
});

Deno.test("detection stats no absent file on the everyday layouts (one listing answers for them)", () => {
  const plain = stateDir({ "openclaw.json": "{}", "agents/main/agent/auth-profiles.json": "{}" });
  const openclaw = stateDir({ "state/openclaw.sqlite": "" });
  const real = { stat: Deno.statSync, lstat: Deno.lstatSync };
  const missed: string[] = [];
  const watch = <T>(fn: (path: string | URL) => T) => (path: string | URL): T => {
    try {
      return fn(path);
    } catch (error) {
      missed.push(String(path));
      throw error;
    }
  };
  Deno.statSync = watch(real.stat);
  Deno.lstatSync = watch(real.lstat);
  try {
    assert.deepEqual(choose(plain), { backend: "json" });
    assert.deepEqual(choose(openclaw), { backend: "openclaw" });
    assert.deepEqual(missed, []);
  } finally {
    Deno.statSync = real.stat;
    Deno.lstatSync = real.lstat;
    for (const dir of [plain, openclaw]) Deno.removeSync(dir, { recursive: true });
  }
});
