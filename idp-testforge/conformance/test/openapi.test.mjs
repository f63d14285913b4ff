// The checker itself: it must catch what it is there to catch, so that a green run of
// github.test.mjs means the forge conformed and not that the checks went blind.

import assert from "node:assert/strict";
import { before, test } from "node:test";

import { Description } from "../openapi.js";

let d;
const GET_PULL = ["get", "/repos/{owner}/{repo}/pulls/{pull_number}"];

before(() => {
  d = new Description("api.github.com");
});

/** GitHub's own example of a pull request, from the description. */
function examplePull() {
  const p = structuredClone(d.doc.components.examples["pull-request"].value);
  // The example's team predates team-simple's required `type`.
  p.requested_teams = [];
  return p;
}

function responseProblems(body, status = 200, [method, template] = GET_PULL) {
  return d.checkResponse(d.operation(method, template), { status, body });
}

test("GitHub's own example pull request passes; null where the description says nullable passes", () => {
  assert.deepEqual(responseProblems(examplePull()), []);
  const p = examplePull();
  Object.assign(p, { body: null, milestone: null, merged_by: null, closed_at: null, mergeable: null, assignee: null });
  assert.deepEqual(responseProblems(p), []);
});

test("a missing required field, a wrong type, a value outside an enum, a null where none is allowed are caught", () => {
  const messages = (p) => responseProblems(p).flatMap((x) => x.errors.map((e) => `${e.instancePath} ${e.message}`));
  const p = examplePull();
  delete p.number;
  assert.ok(messages(p).some((m) => m.includes("required property 'number'")), messages(p).join("\n"));
  assert.ok(messages({ ...examplePull(), title: 5 }).includes("/title must be string"));
  assert.ok(messages({ ...examplePull(), state: "merged" }).some((m) => m.startsWith("/state must be equal to one of the allowed values")));
  assert.ok(messages({ ...examplePull(), title: null }).includes("/title must be string"));
  assert.ok(messages({ ...examplePull(), url: "not a uri" }).some((m) => m.startsWith('/url must match format "uri"')));
  const nested = examplePull();
  delete nested.head.repo.full_name;
  assert.ok(messages(nested).some((m) => m.startsWith("/head/repo must have required property 'full_name'")));
});

test("an undocumented status and a body where none is documented are caught; error bodies are checked too", () => {
  assert.match(responseProblems({}, 418)[0].message, /status 418 is not documented/);
  const merged = ["get", "/repos/{owner}/{repo}/pulls/{pull_number}/merge"];
  assert.deepEqual(responseProblems(undefined, 204, merged), []);
  assert.match(responseProblems({ merged: true }, 204, merged)[0].message, /without a body/);
  assert.deepEqual(responseProblems({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }, 404), []);
  assert.equal(responseProblems({ message: 404 }, 404).length, 1);
});

test("requests: a body missing a required field, an undeclared or ill-typed query parameter are caught", () => {
  const createRef = d.operation("post", "/repos/{owner}/{repo}/git/refs");
  assert.deepEqual(d.checkRequest(createRef, { query: {}, body: { ref: "refs/heads/x", sha: "a".repeat(40) } }), []);
  const missing = d.checkRequest(createRef, { query: {}, body: { ref: "refs/heads/x" } });
  assert.ok(missing[0].errors.some((e) => e.params.missingProperty === "sha"));
  assert.match(d.checkRequest(createRef, { query: {}, body: undefined })[0].message, /required/);

  const list = d.operation("get", null, "/repos/o/r/pulls");
  assert.equal(list.template, "/repos/{owner}/{repo}/pulls");
  assert.deepEqual(d.checkRequest(list, { query: { per_page: "2", page: "3", state: "all", head: "o:b" } }), []);
  assert.match(d.checkRequest(list, { query: { color: "red" } })[0].where, /query parameter color/);
  assert.ok(d.checkRequest(list, { query: { state: "merged" } }).length > 0);
  assert.ok(d.checkRequest(list, { query: { per_page: "many" } }).length > 0);
});

test("a concrete path finds its operation, the most literal template first", () => {
  assert.equal(d.operation("put", null, "/repos/o/r/pulls/7/merge").template, "/repos/{owner}/{repo}/pulls/{pull_number}/merge");
  assert.equal(d.operation("get", null, "/repos/o/r/pulls/7").template, "/repos/{owner}/{repo}/pulls/{pull_number}");
  assert.equal(d.operation("get", null, "/repos/o/r/git/ref/heads%2Fmain").template, "/repos/{owner}/{repo}/git/ref/{ref}");
  assert.equal(d.operation("get", null, "/no/such/endpoint"), null);
  assert.equal(d.operation("delete", null, "/user"), null);
});
