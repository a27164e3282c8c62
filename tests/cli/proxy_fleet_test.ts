/**
 * `clawauth proxy` on a PostgreSQL fleet store: the same code through the
 * Backend interface, so a failover one machine's proxy records sidelines
 * the profile for the other machines' proxies, and quota lands in the
 * shared store. Ignored, saying why, without PostgreSQL.
 */

import assert from "node:assert/strict";
import { fakeSecret } from "../helpers.ts";
import { type Behaviour, startFakeUpstream } from "../fake_upstream.ts";
import { fleetOf, testCluster } from "../postgres_env.ts";
import { routeTo, startProxy } from "../proxy_support.ts";

const { pg, ignore, suffix: SUFFIX } = await testCluster("proxy fleet tests");

Deno.test({
  name:
    `proxy on a fleet store: a 429 recorded by one machine's proxy sends the next machine's proxy straight to the other profile${SUFFIX}`,
  ignore,
  async fn() {
    await using fleet = await fleetOf(pg, 2);
    const [one, two] = fleet.machines;
    const a = fakeSecret("sk-ant-api03-");
    const b = fakeSecret("sk-ant-api03-");
    for (const [name, secret] of [["a", a], ["b", b]]) {
      const pasted = await one.run(
        ["paste-token", "--provider", "anthropic", "--profile", name, "--type", "api-key"],
        { stdin: secret },
      );
      assert.equal(pasted.code, 0, pasted.stderr);
    }
    assert.equal(
      (await one.run(["order", "set", "--provider", "anthropic", "anthropic:a", "anthropic:b"]))
        .code,
      0,
    );
    await using upstream = await startFakeUpstream((credential): Behaviour =>
      credential === a
        ? { status: 429, headers: { "retry-after": "30" } }
        : { headers: { "anthropic-ratelimit-unified-5h-utilization": "0.25" } }
    );
    for (const machine of [one, two]) routeTo(machine.state, upstream, ["anthropic"]);
    const first = await startProxy(one.state, [], one.env);
    assert.equal(await first.status(), 200);
    assert.equal((await first.stop()).code, 0);
    assert.deepEqual(upstream.requests.map((r) => r.credential), [a, b]);

    await using second = await startProxy(two.state, [], two.env);
    assert.equal(await second.status(), 200);
    assert.deepEqual(
      upstream.requests.map((r) => r.credential),
      [a, b, b],
      "the other machine's proxy skips the cooling profile",
    );
    const status = JSON.parse((await two.run(["status", "--json"])).stdout);
    const cooled = status.profiles.find((p: { id: string }) => p.id === "anthropic:a");
    assert.equal(cooled.state, "cooldown");
    assert.match(await pg.dump(fleet.url), /"quota"/, "quota is kept in the shared store");
  },
});
