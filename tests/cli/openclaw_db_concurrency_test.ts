/**
 * lib/store/openclaw/db.ts against the real OpenClaw (2026.9.6), under
 * concurrency: several processes updating through the module while OpenClaw
 * writes at the same time lose nothing; and the refresh lock path and fence
 * parsing of lib/store/openclaw/fence.ts agree with OpenClaw's own functions,
 * run in OpenClaw's Node. Ignored, saying why, when OpenClaw is not
 * installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readAuthDocuments, updateAuthDocuments } from "../../lib/store/openclaw/db.ts";
import { oauthRefreshLockTarget, parseRefreshFence } from "../../lib/store/openclaw/fence.ts";
import {} from "../helpers.ts";
import { addToken, opts } from "../openclaw_db_support.ts";
import { openclawCommand, openclawState, openclawTests } from "../openclaw_env.ts";
import { assertOpenclawOk, openclawPasteToken, setupToken } from "../openclaw_store_support.ts";

const { ignore, suffix: SUFFIX } = openclawTests;
// The workers import the very module this file imports (a path written by hand went stale once).
const DB_MODULE = import.meta.resolve("../../lib/store/openclaw/db.ts");

Deno.test({
  name:
    `openclaw db: concurrent updates from several processes, and OpenClaw writing at the same time, lose nothing${SUFFIX}`,
  ignore,
  async fn() {
    await using state = await openclawState();
    updateAuthDocuments(opts(state), addToken("anthropic:counter", "c"));
    const worker = `${state.dir}/../worker.ts`;
    Deno.writeTextFileSync(
      worker,
      `import { updateAuthDocuments } from ${JSON.stringify(DB_MODULE)};
const [stateDir, name, count] = Deno.args;
for (let i = 0; i < Number(count); i++) {
  updateAuthDocuments({ stateDir, agentDir: stateDir + "/agents/main/agent", agent: "main", timeoutMs: 30000 }, (docs) => {
    docs.store.profiles["anthropic:" + name + "-" + i] = { type: "token", provider: "anthropic", token: name + i };
    const stats = (docs.state.usageStats ??= {});
    const counter = (stats["anthropic:counter"] ??= { errorCount: 0 }) as { errorCount: number };
    counter.errorCount += 1;
  });
}
`,
    );
    const workers = 6;
    const each = 15;
    const children = Array.from({ length: workers }, (_, n) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-all", worker, state.dir, `w${n}`, String(each)],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const openclawToken = setupToken();
    const [openclaw, ...outs] = await Promise.all([
      openclawPasteToken(state, { id: "anthropic:oc", token: openclawToken }),
      ...children,
    ]);
    for (const out of outs) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    }
    assertOpenclawOk(openclaw, "openclaw models auth paste-token (concurrent)");
    const docs = readAuthDocuments(opts(state));
    for (let n = 0; n < workers; n++) {
      for (let i = 0; i < each; i++) assert.ok(docs.store.profiles[`anthropic:w${n}-${i}`]);
    }
    assert.equal((docs.store.profiles["anthropic:oc"] as { token: string }).token, openclawToken);
    assert.deepEqual(docs.state.usageStats?.["anthropic:counter"], { errorCount: workers * each });
  },
});

/** OpenClaw's own chunk exporting `name` (content-hashed file names differ by release). */
function openclawChunk(name: string): { file: string; alias: string } | undefined {
  const dist = `${openclawCommand().entry.replace(/\/[^/]*$/, "")}/dist`;
  for (const entry of Deno.readDirSync(dist)) {
    if (!entry.isFile || !entry.name.endsWith(".mjs")) continue;
    const text = Deno.readTextFileSync(`${dist}/${entry.name}`);
    if (!text.includes(`function ${name}(`)) continue;
    const alias = new RegExp(`\\b${name} as (\\w+)`).exec(text)?.[1];
    if (alias) return { file: `${dist}/${entry.name}`, alias };
  }
  return undefined;
}

Deno.test({
  name: `openclaw fence: lock path and fence parsing agree with OpenClaw's own functions${SUFFIX}`,
  ignore,
  async fn() {
    const lock = openclawChunk("resolveOAuthRefreshLockPath");
    const fence = openclawChunk("createOAuthRefreshFence");
    const failed = openclawChunk("createFailedOAuthRefreshFence");
    assert.ok(lock && fence && failed, "OpenClaw's chunks are found");
    const { node } = openclawCommand();
    const keys: [string, string][] = [
      ["anthropic", "anthropic:work"],
      ["openai", 'openai:ü\u0000"x'],
      ["openai-codex", "openai-codex:a@b.c"],
    ];
    const script = `
const lock = await import(${JSON.stringify(lock.file)});
const fence = await import(${JSON.stringify(fence.file)});
const failed = await import(${JSON.stringify(failed.file)});
const keys = ${JSON.stringify(keys)};
const credential = { type: "oauth", provider: "openai", access: "A", refresh: "R", expires: 5, accountId: "acc" };
const pending = fence.${fence.alias}({ profileId: "openai:x", credential });
console.log(JSON.stringify({
  paths: keys.map(([p, id]) => lock.${lock.alias}(p, id)),
  pending,
  failed: failed.${failed.alias}(pending),
}));`;
    const out = await new Deno.Command(node, {
      args: ["--input-type=module", "-e", script],
      env: { OPENCLAW_STATE_DIR: "/state" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const theirs = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.deepEqual(theirs.paths, keys.map(([p, id]) => oauthRefreshLockTarget("/state", p, id)));
    const pending = parseRefreshFence(theirs.pending);
    assert.equal(pending?.state, "pending");
    assert.deepEqual(parseRefreshFence(theirs.failed), { ...pending, state: "failed" });
    assert.equal(parseRefreshFence({ ...theirs.pending, expires: 2 }), undefined);
    assert.equal(parseRefreshFence({ ...theirs.failed, access: theirs.pending.access }), undefined);
  },
});
