// The test forge's GitHub-shaped API, driven by Octokit (a client that shares no code with idp),
// with every request and response checked against GitHub's published OpenAPI description.
//
//   IDP_TESTFORGE         the forge binary (default: ../../target/debug/idp-testforge from here)
//   OPENAPI_DESCRIPTIONS  comma-separated files of @octokit/openapi's generated/ folder
//                         (default: api.github.com,ghes-3.19: the forge serves /api/v3 as GHES
//                         does, and idp's provider talks to both)

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { Octokit } from "@octokit/rest";

import { Checker, Description } from "../openapi.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.IDP_TESTFORGE || resolve(HERE, "../../../target/debug/idp-testforge");
const DESCRIPTIONS = (process.env.OPENAPI_DESCRIPTIONS || "api.github.com,ghes-3.19").split(",");
const TOKEN = "conformance-main-token";
const REVIEWER_TOKEN = "conformance-reviewer-token";
const ORG = "acme";

// What the forge cannot answer faithfully. Each entry: {op, status?, where?, path?, keyword?,
// reason}; `op` is "METHOD /template". Keep it short: anything else is a forge bug to fix.
const ALLOW = [
  {
    // "Check if a pull request has been merged" documents its 404 ("not merged") with no
    // content, but GitHub answers every 404 with its JSON error body ({message,
    // documentation_url, status}), and so does the forge; clients read the status only.
    op: "GET /repos/{owner}/{repo}/pulls/{pull_number}/merge",
    status: 404,
    where: "response 404",
    reason: "GitHub sends its JSON error body with this 404 too; the description omits it",
  },
];

let forge, root, base, checker, bot, reviewer;

/** Starts the forge binary on a free loopback port; resolves to its base URL. */
function startForge() {
  root = mkdtempSync(join(tmpdir(), "idp-testforge-openapi-"));
  forge = spawn(BIN, ["--listen", "127.0.0.1:0", "--root", root, "--token", TOKEN, "--user", `reviewer:${REVIEWER_TOKEN}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((ok, fail) => {
    forge.once("error", fail);
    forge.once("exit", (code) => fail(new Error(`${BIN} exited with ${code} before it printed its URL`)));
    createInterface({ input: forge.stdout }).once("line", (line) => ok(line.trim()));
  });
}

function client(token, who) {
  const octokit = new Octokit({
    auth: token,
    baseUrl: `${base}/api/v3`,
    userAgent: "idp-testforge-conformance",
    // Errors are the tests' to assert; Octokit's request log would only repeat them.
    log: { debug() {}, info() {}, warn: console.warn, error() {} },
  });
  return checker.attach(octokit, who);
}

before(async () => {
  const t0 = Date.now();
  checker = new Checker(DESCRIPTIONS.map((n) => new Description(n.trim())), ALLOW);
  console.log(`openapi: loaded ${DESCRIPTIONS.join(", ")} in ${Date.now() - t0} ms`);
  base = await startForge();
  bot = client(TOKEN, "idp-bot");
  reviewer = client(REVIEWER_TOKEN, "reviewer");
});

after(() => {
  if (forge && forge.exitCode === null) forge.kill("SIGTERM");
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Runs `fn` and fails the test with every OpenAPI violation its requests made. */
function conformance(name, fn) {
  test(name, async (t) => {
    const mark = checker.violations.length;
    await fn(t);
    const report = checker.report(mark);
    assert.equal(report, "", `OpenAPI violations:\n${report}`);
  });
}

/** Asserts that `promise` rejects with an HTTP `status`; returns the error. */
async function rejects(promise, status) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `expected ${status}, got ${e.status}: ${JSON.stringify(e.response?.data)}`);
    return e;
  }
  assert.fail(`expected HTTP ${status}, the request succeeded`);
}

/** A commit on top of `parent` that writes `files` ({path: content}); returns its sha. */
async function commitFiles(repo, parent, files, message) {
  const { data: pc } = await bot.rest.git.getCommit({ owner: ORG, repo, commit_sha: parent });
  const { data: tree } = await bot.rest.git.createTree({
    owner: ORG,
    repo,
    base_tree: pc.tree.sha,
    tree: Object.entries(files).map(([path, content]) => ({ path, mode: "100644", type: "blob", content })),
  });
  const { data: c } = await bot.rest.git.createCommit({ owner: ORG, repo, message, tree: tree.sha, parents: [parent] });
  return c.sha;
}

async function branchFrom(repo, branch, fromSha, files) {
  const sha = await commitFiles(repo, fromSha, files, `${branch}: ${Object.keys(files).join(", ")}`);
  await bot.rest.git.createRef({ owner: ORG, repo, ref: `refs/heads/${branch}`, sha });
  return sha;
}

async function mainHead(repo) {
  const { data } = await bot.rest.git.getRef({ owner: ORG, repo, ref: "heads/main" });
  return data.object.sha;
}

conformance("users and repositories: the authenticated user, create in an org with auto_init and for the user, get, list, get a branch", async () => {
  const { data: me } = await bot.rest.users.getAuthenticated();
  assert.equal(me.login, "idp-bot");

  const { data: created, status } = await bot.rest.repos.createInOrg({
    org: ORG,
    name: "service",
    description: "a service",
    auto_init: true,
    private: true,
  });
  assert.equal(status, 201);
  assert.equal(created.full_name, `${ORG}/service`);
  assert.equal(created.default_branch, "main");
  assert.equal(created.private, true);
  assert.equal(created.owner.login, ORG);
  assert.equal(created.owner.type, "Organization");

  const { data: got } = await bot.rest.repos.get({ owner: ORG, repo: "service" });
  assert.equal(got.id, created.id);
  assert.equal(got.description, "a service");

  const { data: listed } = await bot.rest.repos.listForOrg({ org: ORG });
  assert.deepEqual(
    listed.map((r) => r.name),
    ["service"],
  );

  const { data: mine } = await bot.rest.repos.createForAuthenticatedUser({ name: "scratch" });
  assert.equal(mine.full_name, "idp-bot/scratch");
  assert.equal(mine.owner.type, "User");

  const { data: branch } = await bot.rest.repos.getBranch({ owner: ORG, repo: "service", branch: "main" });
  assert.equal(branch.name, "main");
  assert.equal(branch.protected, false);
  assert.match(branch.commit.sha, /^[0-9a-f]{40}$/);
});

conformance("git database: blobs, a tree on a base tree, commits, refs created, moved and read, a recursive tree; contents", async () => {
  const repo = "service";
  const main = await mainHead(repo);
  const { data: mainCommit } = await bot.rest.git.getCommit({ owner: ORG, repo, commit_sha: main });
  assert.equal(mainCommit.sha, main);

  const { data: text, status } = await bot.rest.git.createBlob({ owner: ORG, repo, content: "print('hi')\n", encoding: "utf-8" });
  assert.equal(status, 201);
  const { data: bin } = await bot.rest.git.createBlob({
    owner: ORG,
    repo,
    content: Buffer.from([0, 1, 2, 255]).toString("base64"),
    encoding: "base64",
  });
  const { data: blob } = await bot.rest.git.getBlob({ owner: ORG, repo, file_sha: bin.sha });
  assert.equal(blob.encoding, "base64");
  assert.deepEqual([...Buffer.from(blob.content, "base64")], [0, 1, 2, 255]);
  assert.equal(blob.size, 4);

  const { data: tree, status: treeStatus } = await bot.rest.git.createTree({
    owner: ORG,
    repo,
    base_tree: mainCommit.tree.sha,
    tree: [
      { path: "src/app.py", mode: "100644", type: "blob", sha: text.sha },
      { path: "bin/data", mode: "100644", type: "blob", sha: bin.sha },
      { path: "run.sh", mode: "100755", type: "blob", content: "#!/bin/sh\necho hi\n" },
    ],
  });
  assert.equal(treeStatus, 201);
  assert.ok(tree.tree.some((e) => e.path === "src" && e.type === "tree"));
  assert.ok(tree.tree.some((e) => e.path === "README.md"), "the base tree's files stay");

  const { data: commit } = await bot.rest.git.createCommit({
    owner: ORG,
    repo,
    message: "add the app",
    tree: tree.sha,
    parents: [main],
    author: { name: "Alice", email: "alice@example.com", date: "2024-01-02T03:04:05Z" },
  });
  assert.equal(commit.author.date, "2024-01-02T03:04:05Z");
  assert.deepEqual(
    commit.parents.map((p) => p.sha),
    [main],
  );

  const { data: ref, status: refStatus } = await bot.rest.git.createRef({ owner: ORG, repo, ref: "refs/heads/feature/app", sha: commit.sha });
  assert.equal(refStatus, 201);
  assert.equal(ref.object.sha, commit.sha);

  // A second commit that deletes a file (sha: null), moved to by a fast-forward update.
  const { data: tree2 } = await bot.rest.git.createTree({
    owner: ORG,
    repo,
    base_tree: tree.sha,
    tree: [{ path: "bin/data", mode: "100644", type: "blob", sha: null }],
  });
  const { data: commit2 } = await bot.rest.git.createCommit({ owner: ORG, repo, message: "drop the data", tree: tree2.sha, parents: [commit.sha] });
  const { data: moved } = await bot.rest.git.updateRef({ owner: ORG, repo, ref: "heads/feature/app", sha: commit2.sha });
  assert.equal(moved.object.sha, commit2.sha);
  // Back to main is not a fast-forward: refused without force, done with it.
  await rejects(bot.rest.git.updateRef({ owner: ORG, repo, ref: "heads/feature/app", sha: main }), 422);
  await bot.rest.git.updateRef({ owner: ORG, repo, ref: "heads/feature/app", sha: commit2.sha, force: true });
  const { data: read } = await bot.rest.git.getRef({ owner: ORG, repo, ref: "heads/feature/app" });
  assert.equal(read.ref, "refs/heads/feature/app");
  assert.equal(read.object.sha, commit2.sha);

  const { data: full } = await bot.rest.git.getTree({ owner: ORG, repo, tree_sha: commit2.tree.sha, recursive: "1" });
  const paths = full.tree.map((e) => e.path).sort();
  assert.deepEqual(paths, ["README.md", "run.sh", "src", "src/app.py"]);
  assert.equal(full.truncated, false);
  assert.equal(full.tree.find((e) => e.path === "run.sh").mode, "100755");

  const { data: file } = await bot.rest.repos.getContent({ owner: ORG, repo, path: "src/app.py", ref: "feature/app" });
  assert.equal(file.type, "file");
  assert.equal(Buffer.from(file.content, "base64").toString(), "print('hi')\n");
  const { data: dir } = await bot.rest.repos.getContent({ owner: ORG, repo, path: "src", ref: commit2.sha });
  assert.ok(Array.isArray(dir));
  assert.deepEqual(
    dir.map((e) => e.path),
    ["src/app.py"],
  );

  await bot.rest.git.createRef({ owner: ORG, repo, ref: "refs/heads/scratch", sha: main });
  const { status: deleted } = await bot.rest.git.deleteRef({ owner: ORG, repo, ref: "heads/scratch" });
  assert.equal(deleted, 204);
  await rejects(bot.rest.git.getRef({ owner: ORG, repo, ref: "heads/scratch" }), 404);
});

conformance("pull requests: create, list (state, head filter, pages), get, update and close, merge by merge, squash and rebase, check merged", async () => {
  const repo = "pulls";
  await bot.rest.repos.createInOrg({ org: ORG, name: repo, auto_init: true });
  const start = await mainHead(repo);
  for (const b of ["merge-me", "squash-me", "close-me", "open-1", "open-2"]) {
    await branchFrom(repo, b, start, { [`${b}.txt`]: `${b}\n` });
  }
  const numbers = {};
  for (const b of ["merge-me", "squash-me", "close-me", "open-1", "open-2"]) {
    const { data: pr, status } = await bot.rest.pulls.create({ owner: ORG, repo, title: `PR ${b}`, head: b, base: "main", body: `body of ${b}` });
    assert.equal(status, 201);
    assert.equal(pr.state, "open");
    assert.equal(pr.head.ref, b);
    numbers[b] = pr.number;
  }

  const { data: one } = await bot.rest.pulls.list({ owner: ORG, repo, head: `${ORG}:open-1` });
  assert.deepEqual(
    one.map((p) => p.number),
    [numbers["open-1"]],
  );
  const pages = [];
  const all = await bot.paginate(bot.rest.pulls.list, { owner: ORG, repo, state: "all", per_page: 2 }, (r) => {
    pages.push(r.data.length);
    return r.data;
  });
  assert.deepEqual(pages, [2, 2, 1]);
  assert.equal(new Set(all.map((p) => p.number)).size, 5);
  // The next page keeps every filter.
  const filtered = await bot.paginate(bot.rest.pulls.list, { owner: ORG, repo, state: "open", base: "main", head: `${ORG}:open-2`, per_page: 1 });
  assert.deepEqual(
    filtered.map((p) => p.number),
    [numbers["open-2"]],
  );
  const onMain = await bot.paginate(bot.rest.pulls.list, { owner: ORG, repo, state: "all", base: "main", per_page: 2 });
  assert.equal(onMain.length, 5);
  assert.deepEqual(await bot.paginate(bot.rest.pulls.list, { owner: ORG, repo, state: "all", base: "other", per_page: 2 }), []);

  const { data: got } = await bot.rest.pulls.get({ owner: ORG, repo, pull_number: numbers["merge-me"] });
  assert.equal(got.title, "PR merge-me");
  assert.equal(got.mergeable, true);
  assert.equal(got.mergeable_state, "clean");
  assert.deepEqual([got.commits, got.additions, got.deletions, got.changed_files], [1, 1, 0, 1]);

  const { data: renamed } = await bot.rest.pulls.update({ owner: ORG, repo, pull_number: numbers["close-me"], title: "closing" });
  assert.equal(renamed.title, "closing");
  const { data: closed } = await bot.rest.pulls.update({ owner: ORG, repo, pull_number: numbers["close-me"], state: "closed" });
  assert.equal(closed.state, "closed");
  assert.equal(closed.merged, false);
  const { data: reopened } = await bot.rest.pulls.update({ owner: ORG, repo, pull_number: numbers["close-me"], state: "open" });
  assert.equal(reopened.state, "open");
  await bot.rest.pulls.update({ owner: ORG, repo, pull_number: numbers["close-me"], state: "closed" });
  const { data: open } = await bot.rest.pulls.list({ owner: ORG, repo, state: "open" });
  assert.equal(open.length, 4);
  const { data: closedList } = await bot.rest.pulls.list({ owner: ORG, repo, state: "closed", base: "main" });
  assert.deepEqual(
    closedList.map((p) => p.number),
    [numbers["close-me"]],
  );

  const { data: merged } = await bot.rest.pulls.merge({ owner: ORG, repo, pull_number: numbers["merge-me"], merge_method: "merge" });
  assert.equal(merged.merged, true);
  const { data: mergeCommit } = await bot.rest.git.getCommit({ owner: ORG, repo, commit_sha: merged.sha });
  assert.equal(mergeCommit.parents.length, 2);
  const { data: wasMerged } = await bot.rest.pulls.get({ owner: ORG, repo, pull_number: numbers["merge-me"] });
  assert.equal(wasMerged.merged_by.login, "idp-bot");
  assert.equal(wasMerged.merge_commit_sha, merged.sha);
  assert.deepEqual([wasMerged.commits, wasMerged.changed_files], [1, 1], "a merged pull request keeps its figures");
  const { data: mainBranch } = await bot.rest.repos.getBranch({ owner: ORG, repo, branch: "main" });
  assert.equal(mainBranch.commit.sha, merged.sha);
  assert.equal(mainBranch.commit.committer.login, "idp-bot");

  const { data: squashed } = await bot.rest.pulls.merge({
    owner: ORG,
    repo,
    pull_number: numbers["squash-me"],
    merge_method: "squash",
    commit_title: "squash-me (#2)",
    commit_message: "squashed",
  });
  const { data: squashCommit } = await bot.rest.git.getCommit({ owner: ORG, repo, commit_sha: squashed.sha });
  assert.equal(squashCommit.parents.length, 1);
  assert.match(squashCommit.message, /^squash-me \(#2\)/);

  // Rebase (a fast-forward here): a branch on top of the current main.
  const rebaseHead = await branchFrom(repo, "rebase-me", await mainHead(repo), { "rebase-me.txt": "rebase\n" });
  const { data: pr } = await bot.rest.pulls.create({ owner: ORG, repo, title: "PR rebase-me", head: `${ORG}:rebase-me`, base: "main" });
  const { data: rebased } = await bot.rest.pulls.merge({ owner: ORG, repo, pull_number: pr.number, merge_method: "rebase", sha: rebaseHead });
  assert.equal(rebased.sha, rebaseHead);
  assert.equal(await mainHead(repo), rebaseHead);

  const { data: after } = await bot.rest.pulls.get({ owner: ORG, repo, pull_number: pr.number });
  assert.equal(after.merged, true);
  assert.equal(after.state, "closed");
  assert.equal(after.merge_commit_sha, rebaseHead);
  assert.equal(after.merged_by.login, "idp-bot");

  const { status } = await bot.rest.pulls.checkIfMerged({ owner: ORG, repo, pull_number: numbers["merge-me"] });
  assert.equal(status, 204);
  await rejects(bot.rest.pulls.checkIfMerged({ owner: ORG, repo, pull_number: numbers["open-1"] }), 404);
  // A closed pull request cannot be merged.
  await rejects(bot.rest.pulls.merge({ owner: ORG, repo, pull_number: numbers["close-me"] }), 405);
});

conformance("branch protection, reviews and labels: a required approval blocks the merge (405) until another user approves; a stale sha is a 409", async () => {
  const repo = "guarded";
  await bot.rest.repos.createInOrg({ org: ORG, name: repo, auto_init: true });
  const { data: prot } = await bot.rest.repos.updateBranchProtection({
    owner: ORG,
    repo,
    branch: "main",
    required_status_checks: null,
    enforce_admins: true,
    required_pull_request_reviews: { required_approving_review_count: 1, dismiss_stale_reviews: true },
    restrictions: null,
  });
  assert.equal(prot.required_pull_request_reviews.required_approving_review_count, 1);
  assert.equal(prot.enforce_admins.enabled, true);
  const { data: got } = await bot.rest.repos.getBranchProtection({ owner: ORG, repo, branch: "main" });
  assert.equal(got.required_pull_request_reviews.required_approving_review_count, 1);
  const { data: branch } = await bot.rest.repos.getBranch({ owner: ORG, repo, branch: "main" });
  assert.equal(branch.protected, true);

  const start = await mainHead(repo);
  const head = await branchFrom(repo, "change", start, { "change.txt": "change\n" });
  // The protected branch moves only through a pull request.
  await rejects(bot.rest.git.updateRef({ owner: ORG, repo, ref: "heads/main", sha: head }), 422);

  const { data: pr } = await bot.rest.pulls.create({ owner: ORG, repo, title: "a guarded change", head: "change", base: "main" });
  const blocked = await rejects(bot.rest.pulls.merge({ owner: ORG, repo, pull_number: pr.number }), 405);
  assert.match(blocked.response.data.message, /approving review/);
  const { data: state } = await bot.rest.pulls.get({ owner: ORG, repo, pull_number: pr.number });
  assert.equal(state.mergeable_state, "blocked");

  // The author cannot approve their own pull request; a comment is fine.
  await rejects(bot.rest.pulls.createReview({ owner: ORG, repo, pull_number: pr.number, event: "APPROVE" }), 422);
  await bot.rest.pulls.createReview({ owner: ORG, repo, pull_number: pr.number, event: "COMMENT", body: "looks right" });
  const { data: review } = await reviewer.rest.pulls.createReview({ owner: ORG, repo, pull_number: pr.number, event: "APPROVE", body: "ship it" });
  assert.equal(review.state, "APPROVED");
  assert.equal(review.commit_id, head);
  const { data: reviews } = await bot.rest.pulls.listReviews({ owner: ORG, repo, pull_number: pr.number });
  assert.deepEqual(
    reviews.map((r) => [r.user.login, r.state]),
    [
      ["idp-bot", "COMMENTED"],
      ["reviewer", "APPROVED"],
    ],
  );

  const { data: labels } = await bot.rest.issues.addLabels({ owner: ORG, repo, issue_number: pr.number, labels: ["idp", "golden-path"] });
  assert.deepEqual(
    labels.map((l) => l.name),
    ["idp", "golden-path"],
  );
  assert.ok(labels.every((l) => /^[0-9a-f]{6}$/.test(l.color) && l.url.endsWith(`/labels/${l.name}`)));
  const { data: listed } = await bot.rest.issues.listLabelsOnIssue({ owner: ORG, repo, issue_number: pr.number });
  assert.deepEqual(
    listed.map((l) => l.name),
    ["idp", "golden-path"],
  );

  await rejects(bot.rest.pulls.merge({ owner: ORG, repo, pull_number: pr.number, sha: start }), 409);
  const { data: merged } = await bot.rest.pulls.merge({ owner: ORG, repo, pull_number: pr.number, sha: head, merge_method: "squash" });
  assert.equal(merged.merged, true);
  assert.equal(await mainHead(repo), merged.sha);
});

conformance("errors: 401 bad credentials, 404 unknown repository and pull request, 409 on an empty repository, 422 duplicates and bad input", async () => {
  const stranger = client("not-a-token", "stranger");
  await rejects(stranger.rest.users.getAuthenticated(), 401);
  await rejects(bot.rest.repos.get({ owner: ORG, repo: "missing" }), 404);
  await rejects(bot.rest.pulls.get({ owner: ORG, repo: "pulls", pull_number: 999 }), 404);
  await rejects(bot.rest.repos.getContent({ owner: ORG, repo: "service", path: "no/such/file" }), 404);
  await rejects(bot.rest.repos.getBranch({ owner: ORG, repo: "service", branch: "no-such-branch" }), 404);
  await rejects(bot.rest.repos.getBranchProtection({ owner: ORG, repo: "service", branch: "main" }), 404);
  await rejects(bot.rest.repos.createInOrg({ org: ORG, name: "service" }), 422);

  await bot.rest.repos.createInOrg({ org: ORG, name: "empty" });
  await rejects(bot.rest.git.createBlob({ owner: ORG, repo: "empty", content: "x" }), 409);
  await rejects(bot.rest.git.getRef({ owner: ORG, repo: "empty", ref: "heads/main" }), 409);

  const repo = "dupes";
  await bot.rest.repos.createInOrg({ org: ORG, name: repo, auto_init: true });
  const start = await mainHead(repo);
  await branchFrom(repo, "twice", start, { "twice.txt": "twice\n" });
  await bot.rest.pulls.create({ owner: ORG, repo, title: "first", head: "twice", base: "main" });
  const dup = await rejects(bot.rest.pulls.create({ owner: ORG, repo, title: "second", head: "twice", base: "main" }), 422);
  assert.match(dup.response.data.message, /already exists/);
  await rejects(bot.rest.pulls.create({ owner: ORG, repo, title: "nothing", head: "main", base: "main" }), 422);
  await rejects(bot.rest.git.createRef({ owner: ORG, repo, ref: "refs/heads/twice", sha: start }), 422);
  await rejects(bot.rest.git.createCommit({ owner: ORG, repo, message: "m", tree: "0".repeat(40), parents: [start] }), 422);
});

test("openapi: every request and response of this file conformed", () => {
  console.log(checker.summary());
  for (const a of checker.allowed) console.log(`allowed: [${a.description}] ${a.exchange}: ${a.where}: ${a.message} (${a.reason})`);
  assert.ok(checker.requests > 0 && checker.responses === checker.requests, "every request was answered and checked");
  assert.equal(checker.report(), "", `OpenAPI violations:\n${checker.report()}`);
});
