/**
 * The HTTP timeout and duration settings, in process: the defaults and
 * clamps the README documents for CLAWAUTH_HTTP_TIMEOUT, the lock wait and
 * duration environment variables.
 *
 * @module
 */

import assert from "node:assert/strict";
import { durationSettingMs, MAX_TIMER_MS } from "../../lib/duration.ts";
import {
  HTTP_TIMEOUT_DEFAULT_MS,
  HTTP_TIMEOUT_MAX_MS,
  httpTimeoutBelowLock,
} from "../../lib/oauth/http.ts";

Deno.test("timeout settings: defaults and clamps as documented", () => {
  assert.equal(HTTP_TIMEOUT_DEFAULT_MS, 20_000);
  assert.ok(HTTP_TIMEOUT_DEFAULT_MS < 30_000, "below the default lock wait");
  assert.equal(HTTP_TIMEOUT_MAX_MS, 600_000);
  assert.equal(httpTimeoutBelowLock(60_000, 30_000), 20_000);
  assert.equal(httpTimeoutBelowLock(5_000, 30_000), 5_000);
  assert.equal(httpTimeoutBelowLock(60_000, 300), 1_000);
  const bounds = { defaultMs: 7_000, maxMs: 50_000 };
  assert.equal(durationSettingMs("X", undefined, bounds), 7_000);
  assert.equal(durationSettingMs("X", "", bounds), 7_000);
  assert.equal(durationSettingMs("X", "2", bounds), 2_000);
  assert.equal(durationSettingMs("X", "1.5", bounds), 1_500);
  assert.equal(durationSettingMs("X", "250ms", bounds), 250);
  assert.equal(durationSettingMs("X", "9999w", bounds), 50_000);
  assert.equal(
    durationSettingMs("X", "9999w", { defaultMs: 1, maxMs: Number.MAX_SAFE_INTEGER }),
    MAX_TIMER_MS,
  );
  assert.equal(durationSettingMs("X", "0", { ...bounds, minMs: 0 }), 0);
  for (const junk of ["x", "0", "-1", "1e3", "NaN"]) {
    assert.throws(() => durationSettingMs("X", junk, bounds), /X=/);
  }
});
