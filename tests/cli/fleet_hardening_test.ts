/**
 * Fleet-store hardening against a real PostgreSQL (tests/postgres_env.ts):
 * a key file that is not a regular file, one damaged row among healthy
 * ones, a database that stops answering, and a row rolled back to an older
 * ciphertext.
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";

Deno.test({
  name: "fleet: a store key file that is a FIFO is refused (65), never read into a hang",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using state = await tempState();
    const fifo = `${state.home}/fleet.key`;
    const made = await new Deno.Command("mkfifo", { args: ["-m", "600", fifo] }).output();
    assert.ok(made.success, "mkfifo");
    const env = {
      CLAWAUTH_STORE: "postgres://fleet@127.0.0.1:9/db?sslmode=disable",
      CLAWAUTH_STORE_KEY_FILE: fifo,
    };
    const init = await state.run(["store", "init"], { env });
    assert.equal(init.code, 65, init.stderr);
    assert.match(init.stderr, /key file .*fleet\.key is not a regular file/);
    const rotate = await state.run(["store", "rotate-key", "--new-key-file", fifo], { env });
    assert.equal(rotate.code, 65, rotate.stderr);
  },
});
