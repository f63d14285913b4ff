// A real Backstage backend, end to end: src/index.ts (createBackend, the scaffolder, the catalog,
// sign-in, and idp's module) on a loopback port, writing through idp to the test forge over
// HTTP. Signed in as catalog users (through the oauth2-proxy provider's X-Forwarded-User), the
// test runs the example Software Template through the scaffolder's HTTP API and follows the
// task's event stream to the end.
//
// Needs: the idp test forge binary (IDP_TESTFORGE, default target/debug/idp-testforge) and the
// idp CLI (IDP_CLI, default target/debug/idp), which writes the platform folder (`idp init`).
// scripts/test-backstage-backend.sh installs this example and runs it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const example = path.join(here, '..');
const root = path.join(example, '..', '..');
const TESTFORGE = process.env.IDP_TESTFORGE || path.join(root, 'target/debug/idp-testforge');
const CLI = process.env.IDP_CLI || path.join(root, 'target/debug/idp');
const TOKEN = 'e2e-forge-token';
const TEMPLATE = 'template:default/idp-service';

let tmp;
let forge; // { proc, base }
let backend; // { proc, base }
const log = []; // the backend's output (IDP_E2E_LOG=1 prints it after the tests)

/** A free loopback port (asked of the OS, then released for the backend to take). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startForge() {
  const proc = spawn(TESTFORGE, ['--listen', '127.0.0.1:0', '--root', path.join(tmp, 'forge'), '--token', TOKEN], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout });
    rl.once('line', resolve);
    proc.once('exit', code => reject(new Error(`idp-testforge exited (${code}) before it listened`)));
  });
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(first)) {
    proc.kill('SIGKILL');
    throw new Error(`idp-testforge printed ${first}, not its base URL`);
  }
  return { proc, base: first };
}

/** A platform folder (`idp init`) whose repos live on the test forge, through GitHub's API. */
function writePlatform(forgeBase) {
  const dir = path.join(tmp, 'platform');
  execFileSync(CLI, ['init', dir], { stdio: 'ignore' });
  const file = path.join(dir, 'idp.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const start = text.indexOf('  source_control:\n');
  const end = text.indexOf('  state:\n', start);
  assert.ok(start > 0 && end > start, 'idp.yaml has providers.source_control then providers.state');
  // No token: the module passes the backend's integrations.github token for the forge's host.
  const github = [
    '  source_control:',
    '    kind: github',
    `    api_url: ${forgeBase}/api/v3`,
    '    owner: acme',
    '    auto_merge: true',
    '    default_branch: main',
    '    gitops_repo: gitops',
    '    infra_repo: infra',
    '',
  ].join('\n');
  fs.writeFileSync(file, text.slice(0, start) + github + text.slice(end));
  return dir;
}

async function startBackend(forgeBase, platform) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = path.join(tmp, 'app-config.e2e.yaml');
  // JSON is YAML.
  fs.writeFileSync(
    config,
    JSON.stringify({
      backend: { baseUrl: base, listen: { host: '127.0.0.1', port } },
      integrations: {
        github: [{ host: new URL(forgeBase).host, apiBaseUrl: `${forgeBase}/api/v3`, token: TOKEN }],
      },
      idp: { platform, workspace: path.join(tmp, 'workspace') },
    }),
  );
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/index.ts', '--config', 'app-config.yaml', '--config', config],
    { cwd: example, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'development' } },
  );
  for (const s of [proc.stdout, proc.stderr]) {
    readline.createInterface({ input: s }).on('line', l => log.push(l));
  }
  let exited = null;
  proc.once('exit', code => (exited = code));
  // Ready when the catalog has read the example org and template.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== null) throw new Error(`the backend exited (${exited}):\n${log.slice(-40).join('\n')}`);
    if (Date.now() > deadline) {
      // Not left running: `after` only knows a backend that started.
      proc.kill('SIGKILL');
      throw new Error(`the backend did not start:\n${log.slice(-40).join('\n')}`);
    }
    try {
      const token = await signIn(base, 'alice');
      const r = await fetch(`${base}/api/catalog/entities/by-name/template/default/idp-service`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (r.ok) return { proc, base };
    } catch {
      // not listening yet, or the catalog has not read the org yet
    }
    await new Promise(r => setTimeout(r, 500));
  }
}

/** A Backstage user token for a catalog user, as the app's sign-in gets it (behind oauth2-proxy). */
async function signIn(base, user) {
  const r = await fetch(`${base}/api/auth/oauth2Proxy/refresh`, {
    headers: { 'x-forwarded-user': user, 'x-requested-with': 'XMLHttpRequest' },
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok || !body.backstageIdentity?.token) {
    throw new Error(`sign-in as ${user}: ${r.status} ${JSON.stringify(body)}`);
  }
  return body.backstageIdentity.token;
}

async function api(method, url, token, body) {
  const r = await fetch(`${backend.base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, body: json };
}

/** Starts the example template as `token`'s user and follows its event stream to the end. */
async function runTemplate(token, values) {
  const created = await api('POST', '/api/scaffolder/v2/tasks', token, { templateRef: TEMPLATE, values });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { id } = created.body;
  const r = await fetch(`${backend.base}/api/scaffolder/v2/tasks/${id}/eventstream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(180_000),
  });
  assert.equal(r.status, 200);
  const events = [];
  let buffer = '';
  const decoder = new TextDecoder();
  let completion;
  for await (const chunk of r.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let at;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const type = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!type || !data) continue;
      const event = JSON.parse(data);
      events.push(event);
      if (type === 'completion') completion = event;
    }
    if (completion) break;
  }
  assert.ok(completion, 'the event stream ended with a completion event');
  const task = await api('GET', `/api/scaffolder/v2/tasks/${id}`, token);
  return { id, events, completion, task: task.body };
}

const messages = events => events.map(e => e.body?.message ?? '').join('\n');

before(async () => {
  for (const [name, bin] of [['IDP_TESTFORGE', TESTFORGE], ['IDP_CLI', CLI]]) {
    // Never skipped: a missing binary fails the run.
    assert.ok(fs.existsSync(bin), `${name}: ${bin} does not exist (cargo build --workspace --bins)`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-backstage-e2e-'));
  forge = await startForge();
  backend = await startBackend(forge.base, writePlatform(forge.base));
});

after(async () => {
  for (const p of [backend?.proc, forge?.proc]) {
    if (p && p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise(r => p.once('exit', r));
    }
  }
  if (process.env.IDP_E2E_KEEP) console.log(`kept ${tmp}`);
  else if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (process.env.IDP_E2E_LOG) console.log(log.join('\n'));
});

test('signed in as alice, the example template runs to the end: repos on the forge, the receipt, the catalog entry', async () => {
  const token = await signIn(backend.base, 'alice');
  const service = 'payments-api';
  const { completion, task, events } = await runTemplate(token, {
    service,
    owner: 'group:default/team-payments',
    goldenPath: 'python-fastapi-service',
    port: 8080,
    logsBucket: true,
  });
  if (task.status !== 'completed') {
    // What the catalog says of the new repo's catalog-info.yaml, when catalog:register failed.
    const target = /Registering (\S+) in the catalog/.exec(messages(events))?.[1];
    const why = target
      ? await api('POST', '/api/catalog/locations?dryRun=true', token, { type: 'url', target })
      : undefined;
    assert.fail(
      `the task ${task.status}: ${completion.body?.message}\n${messages(events)}` +
        (why ? `\ncatalog, on ${target}: ${why.status} ${JSON.stringify(why.body).slice(0, 2000)}` : ''),
    );
  }
  assert.equal(task.createdBy, 'user:default/alice');
  // Every step ran, the optional infrastructure step included.
  const taskLog = messages(events);
  for (const step of ['golden-path', 'infra', 'register']) {
    assert.ok(
      events.some(e => e.body?.stepId === step && e.body?.status === 'completed'),
      `step ${step} completed:\n${taskLog}`,
    );
  }
  assert.match(taskLog, /idp: run_golden_path for payments-api as user:default\/alice/);

  // The template's output: links to both repos, and the idp run id in the text.
  const output = completion.body?.output ?? task.output;
  assert.ok(output, `the task has an output: ${JSON.stringify(completion)}`);
  const links = Object.fromEntries(output.links.map(l => [l.title, l.url]));
  assert.equal(links['Service repository'], `${forge.base}/acme/${service}`);
  assert.equal(links['GitOps repository'], `${forge.base}/acme/gitops`);
  const runId = /Run `([^`]+)`/.exec(output.text[0].content)?.[1];
  assert.ok(runId, output.text[0].content);
  // idp's receipt, in the task's output: that run, completed, each step's change request merged
  // on the forge.
  const receipt = output.receipt;
  assert.equal(receipt?.run_id, runId, JSON.stringify(output));
  assert.equal(receipt.status, 'completed');
  assert.equal(receipt.service, service);
  assert.deepEqual(
    receipt.steps.map(s => s.step),
    ['bootstrap_service', 'wire_ci', 'provision_gitops', 'attach_observability'],
  );
  for (const s of receipt.steps) {
    assert.equal(s.change_request.state, 'merged', JSON.stringify(s));
    assert.ok(s.change_request.url.startsWith(`${forge.base}/acme/`), s.change_request.url);
  }

  // The repos on the forge, with what the golden path wrote.
  const forgeGet = p =>
    fetch(`${forge.base}/api/v3${p}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  for (const repo of [service, 'gitops', 'infra']) {
    assert.equal((await forgeGet(`/repos/acme/${repo}`)).status, 200, `repo acme/${repo}`);
  }
  const catalogInfo = await forgeGet(`/repos/acme/${service}/contents/catalog-info.yaml?ref=main`);
  assert.equal(catalogInfo.status, 200);

  // The receipt: in idp's workspace, under that run id, as the action's output said.
  // (The CLI has no Backstage integrations to take the forge token from: a copy of the platform
  // folder names it.)
  const cliPlatform = path.join(tmp, 'platform-cli');
  fs.cpSync(path.join(tmp, 'platform'), cliPlatform, { recursive: true });
  const idpYaml = path.join(cliPlatform, 'idp.yaml');
  fs.writeFileSync(
    idpYaml,
    fs.readFileSync(idpYaml, 'utf8').replace('    owner: acme\n', '    owner: acme\n    token: { env: IDP_E2E_FORGE_TOKEN }\n'),
  );
  const runs = JSON.parse(
    execFileSync(
      CLI,
      ['--platform', cliPlatform, '--workspace', path.join(tmp, 'workspace'), '--as', 'user:default/alice', 'runs', '--json'],
      { encoding: 'utf8', env: { ...process.env, IDP_E2E_FORGE_TOKEN: TOKEN } },
    ),
  );
  const run = runs.find(r => r.run_id === runId);
  assert.ok(run, `idp runs lists ${runId}: ${JSON.stringify(runs)}`);
  assert.equal(run.operation, 'run_golden_path');
  assert.equal(run.principal, 'user:default/alice');
  assert.equal(run.status, 'completed');
  assert.deepEqual(run.steps_completed, ['bootstrap_service', 'wire_ci', 'provision_gitops', 'attach_observability']);
  assert.ok(
    runs.some(r => r.operation === 'request_infra_resource' && r.status === 'completed'),
    'the infra step ran through idp too',
  );

  // catalog:register read catalog-info.yaml back from the forge: the component is in the catalog.
  const deadline = Date.now() + 60_000;
  let entity;
  while (Date.now() < deadline) {
    entity = await api('GET', `/api/catalog/entities/by-name/component/default/${service}`, token);
    if (entity.status === 200) break;
    await new Promise(r => setTimeout(r, 500));
  }
  assert.equal(entity.status, 200, `component:default/${service} in the catalog`);
  assert.equal(entity.body.metadata.name, service);
});

test('a dry run as alice returns idp\'s plan and writes nothing', async () => {
  const token = await signIn(backend.base, 'alice');
  const template = (await api('GET', '/api/catalog/entities/by-name/template/default/idp-service', token)).body;
  const service = 'ledger-api';
  const r = await api('POST', '/api/scaffolder/v2/dry-run', token, {
    template,
    values: { service, owner: 'group:default/team-payments', goldenPath: 'node-express-service', port: 3000, logsBucket: false },
    directoryContents: [],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const planLog = r.body.log.map(l => l.body?.message ?? '').join('\n');
  assert.match(planLog, /idp: planning run_golden_path for ledger-api \(dry run, nothing written\)/);
  // catalog:register has no dry-run mode: the scaffolder skips it.
  assert.ok(r.body.log.some(l => l.body?.stepId === 'register' && l.body?.status === 'skipped'));

  // The plan itself: the example template does not output it, so the same dry run of the
  // template's idp step with the plan as the template's output (what the template editor shows).
  const planTemplate = structuredClone(template);
  planTemplate.spec.steps = planTemplate.spec.steps.filter(s => s.id === 'golden-path');
  planTemplate.spec.output = { plan: "${{ steps['golden-path'].output.plan }}" };
  const p = await api('POST', '/api/scaffolder/v2/dry-run', token, {
    template: planTemplate,
    values: { service, owner: 'group:default/team-payments', goldenPath: 'node-express-service', port: 3000 },
    directoryContents: [],
  });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const plan = p.body.output.plan;
  assert.equal(plan.operation, 'run_golden_path');
  assert.equal(plan.service, service);
  assert.equal(plan.golden_path, 'node-express-service');
  assert.equal(plan.allowed, true);
  assert.deepEqual(
    [...new Set(plan.change_sets.map(c => c.step))],
    ['bootstrap_service', 'wire_ci', 'provision_gitops', 'attach_observability'],
  );
  assert.ok(plan.change_sets.some(c => c.repo === service && c.creates_repo), 'the plan creates the service repo');
  assert.ok(plan.decisions.length > 0 && plan.decisions.every(d => d.allowed), JSON.stringify(plan.decisions));

  const repo = await fetch(`${forge.base}/api/v3/repos/acme/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(repo.status, 404, 'a dry run creates no repo');
});

test('signed in as mallory (in no team), the task fails with the policy\'s reason; her dry run is a 403', async () => {
  const token = await signIn(backend.base, 'mallory');
  const service = 'mallory-api';
  const values = { service, owner: 'group:default/team-payments', goldenPath: 'python-fastapi-service', port: 8080, logsBucket: false };
  const { completion, task, events } = await runTemplate(token, values);
  assert.equal(task.status, 'failed', `${completion.body?.message}\n${messages(events)}`);
  const failed = events.find(e => e.body?.stepId === 'golden-path' && e.body?.status === 'failed');
  assert.ok(failed, messages(events));
  // The policy's reason, as the Backstage error class of a denial.
  console.log(`mallory's task: ${JSON.stringify(completion.body?.error)}`);
  assert.equal(completion.body?.error?.name, 'NotAllowedError', JSON.stringify(completion.body));
  assert.equal(
    completion.body.error.message,
    'user:default/mallory may not run_golden_path on service mallory-api: no policy permits it (deny by default) (action: run_golden_path)',
  );
  const repo = await fetch(`${forge.base}/api/v3/repos/acme/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(repo.status, 404, 'a denied run creates no repo');

  const template = (await api('GET', '/api/catalog/entities/by-name/template/default/idp-service', token)).body;
  const dry = await api('POST', '/api/scaffolder/v2/dry-run', token, { template, values, directoryContents: [] });
  console.log(`mallory's dry run: ${dry.status} ${JSON.stringify({ name: dry.body?.error?.name, message: dry.body?.error?.message })}`);
  assert.equal(dry.status, 403, JSON.stringify(dry.body));
  assert.equal(dry.body.error.name, 'NotAllowedError');
  assert.equal(
    dry.body.error.message,
    'user:default/mallory may not plan on service mallory-api: no policy permits it (deny by default) (action: plan)',
  );
});
