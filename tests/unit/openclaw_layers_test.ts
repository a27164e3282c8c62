/**
 * lib/store/openclaw/layers.ts, in process: how an agent's auth documents
 * are layered over the shared ones, and where each change is written, as
 * OpenClaw 2026.9.6 does it (docs/openclaw.md).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Exit } from "../../lib/errors.ts";
import type { JsonObject } from "../../lib/json/json.ts";
import type { AuthDocuments } from "../../lib/store/openclaw/db.ts";
import {
  effectiveDocuments,
  emptyState,
  type Layer,
  placeChanges,
} from "../../lib/store/openclaw/layers.ts";
import { assertRefused } from "../openclaw_db_support.ts";
import { storeOf } from "../builders.ts";

function layer(store?: JsonObject, state?: JsonObject): Layer {
  return {
    store: store ? { text: JSON.stringify(store), doc: store } : {},
    state: state ? { text: JSON.stringify(state), doc: state } : {},
  };
}

const tok = (provider: string) => ({ type: "token", provider, token: "t" });

Deno.test("openclaw layers: the agent's profiles win by id, its order per provider; where it has profiles but no order they go first", () => {
  const shared = layer(
    storeOf({ "a:s1": tok("a"), "a:s2": tok("a"), "b:s": tok("b") }),
    { version: 1, order: { a: ["a:s2", "a:s1"], b: ["b:s"] }, lastGood: { a: "a:gone" } },
  );
  const local = layer(
    storeOf({ "a:l": tok("a"), "b:s": { ...tok("b"), token: "mine" } }),
    { version: 1, order: { b: ["b:s"] }, usageStats: { "a:l": { errorCount: 1 }, "x:y": {} } },
  );
  const docs = effectiveDocuments(shared, local);
  assert.deepEqual(Object.keys(docs.store.profiles).sort(), ["a:l", "a:s1", "a:s2", "b:s"]);
  assert.equal((docs.store.profiles["b:s"] as { token: string }).token, "mine");
  assert.deepEqual(docs.state.order, { a: ["a:l", "a:s2", "a:s1"], b: ["b:s"] });
  assert.deepEqual(docs.state.lastGood, {}, "lastGood naming a missing profile is dropped");
  assert.deepEqual(docs.state.usageStats, { "a:l": { errorCount: 1 } });
  assert.deepEqual(effectiveDocuments(shared, layer()).state.lastGood, { a: "a:gone" });
});

Deno.test("openclaw layers: each change goes where OpenClaw keeps it", () => {
  const shared = layer(storeOf({ "a:s": tok("a") }), undefined);
  const local = layer(storeOf({ "a:l": tok("a") }), undefined);
  const place = (agent: string, loc: Layer | undefined, edit: (d: AuthDocuments) => void) => {
    const before = effectiveDocuments(shared, loc);
    const after = structuredClone(before);
    edit(after);
    return placeChanges(before, after, shared, loc, { agent, agentDb: "/x/openclaw-agent.sqlite" });
  };
  // main: new profiles and (without an agent DB) state go to the shared documents.
  let plan = place("main", undefined, (d) => {
    d.store.profiles["a:new"] = tok("a");
    d.state.order = { a: ["a:new"] };
  });
  assert.ok(plan.shared.store?.profiles && "a:new" in (plan.shared.store.profiles as JsonObject));
  assert.deepEqual(plan.shared.state, { version: 1, order: { a: ["a:new"] } });
  // another agent with a DB: new profiles and state stay local; an inherited profile goes home.
  plan = place("work", local, (d) => {
    d.store.profiles["a:new"] = tok("a");
    (d.store.profiles["a:s"] as JsonObject).email = "e";
    d.state.usageStats = { "a:s": { errorCount: 2 } };
  });
  assert.deepEqual(Object.keys(plan.local.store?.profiles as JsonObject).sort(), ["a:l", "a:new"]);
  assert.equal(((plan.shared.store?.profiles as JsonObject)["a:s"] as JsonObject).email, "e");
  assert.deepEqual(plan.local.state, { version: 1, usageStats: { "a:s": { errorCount: 2 } } });
  assert.equal(plan.shared.state, undefined);
  // another agent without a DB: a new profile or order needs one; usage stats are shared.
  assertRefused(
    () =>
      place("work", undefined, (d) => {
        d.store.profiles["a:new"] = tok("a");
      }),
    Exit.data,
    /no database for agent "work"/,
  );
  assertRefused(
    () =>
      place("work", undefined, (d) => {
        d.state.order = { a: ["a:s"] };
      }),
    Exit.data,
    /its order for a/,
  );
  plan = place("work", undefined, (d) => {
    d.state.usageStats = { "a:s": { errorCount: 1 } };
  });
  assert.deepEqual(plan.shared.state, { version: 1, usageStats: { "a:s": { errorCount: 1 } } });
  assert.ok(emptyState({ version: 1, order: {} }) && !emptyState({ version: 1, other: 1 }));
});
