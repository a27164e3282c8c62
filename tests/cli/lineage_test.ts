import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";

type Entry = Record<string, unknown>;

function expireIn(state: Awaited<ReturnType<typeof tempState>>, agent: string, id: string): void {
  const store = state.store(agent) as { profiles: Record<string, Entry> };
  store.profiles[id].expires = Date.now() - 1000;
  state.writeStore(store, agent);
}

Deno.test("lineage: 6 agents holding byte-identical copies of one expired login, 18 concurrent token calls: 1 refresh, 18 identical tokens, 6 healed stores", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  const agents = ["main", "a1", "a2", "a3", "a4", "a5"];
  for (const agent of agents.slice(1)) {
    const added = await state.run(["agents", "add", agent, "--from", "main"]);
    assert.equal(added.code, 0, added.stderr);
  }
  const old = profilesOf(state)[id];
  for (const agent of agents) expireIn(state, agent, id);
  const runs = agents.flatMap((agent) =>
    Array.from(
      { length: 3 },
      () => state.run(["token", "--agent", agent, "--provider", "openai-codex"]),
    )
  );
  const results = await Promise.all(runs);
  assert.deepEqual(
    results.map((r) => r.code),
    Array(18).fill(0),
    results.find((r) => r.code)?.stderr ?? "",
  );
  assert.equal(idp.counts().refresh_token, 1, "one refresh for the whole lineage");
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1);
  const copies = agents.map((agent) => profilesOf(state, agent)[id]);
  for (const copy of copies) {
    assert.equal(copy.refresh, copies[0].refresh);
    assert.notEqual(copy.refresh, old.refresh);
    assert.equal(`${copy.access}\n`, results[0].stdout);
  }
});

Deno.test("lineage: a stale copy adopts a sibling's fresher tokens without a network call", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  assert.equal((await state.run(["agents", "add", "work", "--from", "main"])).code, 0);
  const stale = profilesOf(state, "work")[id];
  // main refreshes (and updates work); then work's copy is put back to the
  // old, now expired tokens, as if that update had been missed.
  setExpires(state, id, Date.now() - 1000);
  assert.equal((await state.run(["token", "--profile", id])).code, 0);
  assert.equal(idp.counts().refresh_token, 1);
  const work = state.store("work") as { profiles: Record<string, Entry> };
  work.profiles[id] = { ...stale, expires: Date.now() - 1000 };
  state.writeStore(work, "work");
  const result = await state.run(["token", "--agent", "work", "--profile", id]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${profilesOf(state, "main")[id].access}\n`);
  assert.equal(idp.counts().refresh_token, 1, "no second refresh");
  assert.equal(profilesOf(state, "work")[id].access, profilesOf(state, "main")[id].access);
});

Deno.test("lineage: status --json lists every copy of a login", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  await state.run(["agents", "add", "work", "--from", "main"]);
  const status = JSON.parse((await state.run(["status", "--json"])).stdout);
  const lineage = status.profiles.find((p: Entry) => p.id === id).lineage;
  assert.match(lineage.id, /^[0-9a-f]{24}$/);
  assert.deepEqual(lineage.copies, [{ agent: "main", profile: id }, {
    agent: "work",
    profile: id,
  }]);
  assert.ok(!JSON.stringify(status).includes(String(profilesOf(state)[id].refresh)));
  const human = await state.run(["status"]);
  assert.match(human.stdout, new RegExp(`one login with work/${id.replace(/[.+]/g, "\\$&")}`));
});

Deno.test("lineage: with every copy expired, the freshest copy's refresh token is used, never a dead one first", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  await state.run(["agents", "add", "work", "--from", "main"]);
  const dead = profilesOf(state)[id];
  // main refreshes: the original refresh token is now dead at the provider.
  setExpires(state, id, Date.now() - 1000);
  assert.equal((await state.run(["token", "--profile", id])).code, 0);
  // "work" is put back to the dead token, and "main" expires again.
  const work = state.store("work") as { profiles: Record<string, Entry> };
  work.profiles[id] = { ...dead, expires: Date.now() - 20 * 60_000 }; // older than main's
  state.writeStore(work, "work");
  setExpires(state, id, Date.now() - 1000);
  const result = await state.run(["token", "--agent", "work", "--profile", id]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    idp.counts().refreshErrors,
    0,
    "the freshest copy's refresh token was tried first",
  );
  assert.equal(idp.counts().refresh_token, 2);
});

Deno.test("lineage: doctor reports copies of one login that diverge, and doctor --fix reconciles them to the freshest", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  await state.run(["agents", "add", "work", "--from", "main"]);
  const work = state.store("work") as { profiles: Record<string, Entry> };
  // An older access token of the same login: same claims, another signature.
  const [header, claims] = String(work.profiles[id].access).split(".");
  work.profiles[id] = {
    ...work.profiles[id],
    access: `${header}.${claims}.old-signature`,
    refresh: "old-refresh",
    expires: Date.now() - 1,
  };
  state.writeStore(work, "work");
  const report = JSON.parse((await state.run(["doctor", "--json"])).stdout);
  const finding = report.findings.find((f: Entry) => f.check === "lineage");
  assert.equal(finding.severity, "warning");
  assert.match(String(finding.message), new RegExp(`freshest is main/`));
  assert.ok(!JSON.stringify(report).includes("old-refresh"), "no token in doctor output");
  const fixed = await state.run(["doctor", "--fix", "--json"]);
  assert.equal(
    JSON.parse(fixed.stdout).fixed.filter((f: Entry) => f.check === "lineage").length,
    1,
  );
  assert.equal(profilesOf(state, "work")[id].refresh, profilesOf(state)[id].refresh);
  const again = JSON.parse((await state.run(["doctor", "--json"])).stdout);
  assert.equal(again.findings.find((f: Entry) => f.check === "lineage").severity, "ok");
  assert.equal(idp.counts().refresh_token, 0, "reconciling makes no network call");
});

Deno.test("lineage: two accounts of one provider never share a lineage or a lock", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const first = await loginVia(idp, state, ["--profile", "one"]);
  // A different person at the same provider: another account in the sandbox.
  const second = await loginVia(idp, state, ["--profile", "two"], "other");
  assert.equal(profilesOf(state)[second].accountId, "acct-other");
  const status = JSON.parse((await state.run(["status", "--json"])).stdout);
  const lineages = status.profiles.map((p: Entry) => (p.lineage as { id: string }).id);
  assert.equal(new Set(lineages).size, 2);
  for (const id of [first, second]) setExpires(state, id, Date.now() - 1000);
  const results = await Promise.all(
    [first, second, first, second].map((id) => state.run(["token", "--profile", id])),
  );
  assert.deepEqual(
    results.map((r) => r.code),
    [0, 0, 0, 0],
    results.map((r) => r.stderr).join(""),
  );
  assert.equal(idp.counts().refresh_token, 2, "each account refreshes its own login once");
  assert.notEqual(results[0].stdout, results[1].stdout);
  assert.equal(
    [...Deno.readDirSync(`${state.dir}/locks`)].length,
    2,
    "one lineage lock per account",
  );
});

Deno.test("lineage: 100 mixed token, paste-token and report processes across 3 agents all finish, nothing lost", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const id = await loginVia(idp, state);
  for (const agent of ["b", "c"]) await state.run(["agents", "add", agent, "--from", "main"]);
  const agents = ["main", "b", "c"];
  for (const agent of agents) {
    // Reports go to a profile of their own: a pinned login in cooldown would (rightly) refuse.
    await state.run(["paste-token", "--agent", agent, "--provider", "acme", "--profile", "r"], {
      stdin: "acme-key-0123456789",
    });
    expireIn(state, agent, id);
  }
  const env = { CLAWAUTH_LOCK_TIMEOUT: "60" };
  const runs = Array.from({ length: 100 }, (_, i) => {
    const agent = agents[i % 3];
    switch (i % 4) {
      case 0:
      case 1:
        return state.run(["token", "--agent", agent, "--profile", id], { env });
      case 2:
        return state.run([
          "paste-token",
          "--agent",
          agent,
          "--provider",
          "openai",
          "--profile",
          `p${i}`,
        ], {
          stdin: `sk-proj-${"k".repeat(30)}${i}`,
          env,
        });
      default:
        return state.run(["report", "--agent", agent, "acme:r", "--reason", "timeout"], { env });
    }
  });
  const results = await Promise.all(runs);
  const indices = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(results.filter((r) => r.code !== 0).map((r) => r.stderr), []);
  assert.equal(idp.counts().refresh_token, 1);
  for (const agent of agents) {
    const profiles = profilesOf(state, agent);
    const pasted = Object.keys(profiles).filter((p) => p.startsWith("openai:"));
    const ran = (kind: number) => indices.filter((i) => i % 4 === kind && agents[i % 3] === agent);
    assert.equal(pasted.length, ran(2).length, "every paste-token landed");
    const stats = (state.store(agent) as { usageStats: Record<string, { errorCount: number }> })
      .usageStats;
    assert.equal(stats["acme:r"].errorCount, ran(3).length, "every report landed");
  }
});
