// The idp scaffolder actions. Each action is the same thin mapping: template input -> the
// core's ServiceRequest, the Backstage user -> the principal, then one idp call (`plan` when
// the task is a dry run) and its result as outputs. No logic that idp-core could hold.
import fs from 'node:fs';
import path from 'node:path';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  ActionContext,
  createTemplateAction,
} from '@backstage/plugin-scaffolder-node';
import type { CallOptions, Platform, ServiceRequest } from '@idp/node';

/**
 * Action id -> the idp core method it calls (snake_case, as in idp's api::METHODS).
 * @public
 */
export const ACTIONS: Record<string, { method: ServiceMethod; description: string }> = {
  'idp:golden-path': {
    method: 'run_golden_path',
    description:
      'Runs every step of an idp golden path for a service: repo, CI, GitOps, observability.',
  },
  'idp:bootstrap-service': {
    method: 'bootstrap_service',
    description:
      'Creates the service repo: app, tests, container, security baselines, catalog entry.',
  },
  'idp:wire-ci': {
    method: 'wire_ci',
    description: 'Adds the standard CI pipeline to the service repo.',
  },
  'idp:provision-gitops': {
    method: 'provision_gitops',
    description:
      'Writes Argo CD applications and Kubernetes manifests for every environment.',
  },
  'idp:attach-observability': {
    method: 'attach_observability',
    description: 'Adds the Grafana dashboard and SLO burn-rate alerts.',
  },
  'idp:request-infra-resource': {
    method: 'request_infra_resource',
    description:
      'Maps infrastructure intents ("a bucket for logs") to org-approved modules in the infra repo.',
  },
};

/**
 * The idp methods that take a service request and return a receipt.
 * @public
 */
export type ServiceMethod =
  | 'run_golden_path'
  | 'bootstrap_service'
  | 'wire_ci'
  | 'provision_gitops'
  | 'attach_observability'
  | 'request_infra_resource';

/** The service actions' template input (camelCase, as templates write it). */
type ServiceInput = {
  service: string;
  owner: string;
  parameters?: Record<string, unknown>;
  intents?: Record<string, unknown>[];
  environments?: Record<string, { parameters: Record<string, unknown> }>;
  goldenPath?: string;
  version?: string;
  changeWindow?: string;
};

/** The template input as the core's ServiceRequest (snake_case keys). */
export function serviceRequest(input: ServiceInput): ServiceRequest {
  const req: Record<string, unknown> = { service: input.service, owner: input.owner };
  if (input.parameters !== undefined) req.parameters = input.parameters;
  if (input.intents !== undefined) req.intents = input.intents;
  if (input.environments !== undefined) req.environments = input.environments;
  if (input.goldenPath !== undefined) req.golden_path = input.goldenPath;
  if (input.version !== undefined) req.version = input.version;
  if (input.changeWindow !== undefined) req.change_window = input.changeWindow;
  return req as ServiceRequest;
}

type Principal = NonNullable<CallOptions['as']>;

/**
 * The Backstage user who started the task, as an idp principal: the user entity ref, with the
 * groups of its `memberOf` relations when the catalog knows them (Backstage is then the source
 * of ownership), else idp resolves the groups from its own org directory.
 */
export function principalOf(ctx: Pick<ActionContext<any, any>, 'user'>): Principal {
  const user = ctx.user;
  if (!user || (!user.ref && !user.entity)) {
    throw Object.assign(
      new Error(
        'idp: this scaffolder task has no Backstage user; run the template signed in',
      ),
      { code: 'Denied' },
    );
  }
  const entity = user.entity;
  const ref =
    user.ref ||
    `user:${entity?.metadata.namespace || 'default'}/${entity?.metadata.name}`;
  const groups = (entity?.relations ?? [])
    .filter(r => r.type === 'memberOf' && typeof r.targetRef === 'string')
    .map(r => r.targetRef);
  return groups.length > 0 ? { user: ref, groups } : ref;
}

/** idp error codes -> the Backstage error classes its HTTP layer and UI know (403, 400, 409, 404). */
const ERROR_CLASSES: Record<string, new (message?: string, cause?: unknown) => Error> = {
  Denied: NotAllowedError,
  PolicyViolation: NotAllowedError,
  InvalidInput: InputError,
  Conflict: ConflictError,
  NotFound: NotFoundError,
};

/**
 * An idp error as the matching Backstage error (a denial is a `NotAllowedError`, a dry run's
 * denial a 403, not a 500), keeping idp's message, `code`, `retryable`, `context` and `details`
 * and the original as its cause. Other errors pass through.
 */
export function backstageError(e: unknown): unknown {
  const idp = e as Record<string, unknown> | null;
  const code = idp?.code;
  const Class =
    typeof code === 'string' && Object.hasOwn(ERROR_CLASSES, code)
      ? ERROR_CLASSES[code]
      : undefined;
  if (!Class || !idp) return e;
  // The cause is set after: given to the constructor, Backstage's errors append
  // "; caused by <the cause>" to the message, which would repeat idp's message.
  const err = new Class(String(idp.message ?? '')) as Error & Record<string, unknown>;
  err.cause = e;
  for (const k of ['code', 'retryable', 'context', 'details']) {
    if (idp[k] !== undefined) err[k] = idp[k];
  }
  return err;
}

/** Runs a handler's body, with idp errors thrown as Backstage errors. */
async function asBackstageErrors(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    throw backstageError(e);
  }
}

/**
 * The idp actions over one idp `Platform` (from `@idp/node`): one per service operation, and
 * `idp:insights`. For backends that register actions themselves; the module does this.
 * @public
 */
export function createIdpActions(options: { platform: Platform }) {
  return [...serviceActions(options.platform), insightsAction(options.platform)];
}

/**
 * `idp:insights`: the DORA four keys, adoption, drift and escape latches of the services the
 * Backstage user may read, as output `report`; with `htmlPath`, also the offline HTML report,
 * written into the task's workspace for a later step (publish, fetch) to use. Reads only.
 */
function insightsAction(platform: Platform) {
  return createTemplateAction({
    id: 'idp:insights',
    description:
      'Reports the DORA four keys, golden-path adoption, version drift and escape latches.',
    supportsDryRun: true,
    examples: [
      {
        description:
          "The payments team's last quarter as an HTML report in the task workspace",
        example: [
          'steps:',
          '  - id: insights',
          '    action: idp:insights',
          '    input:',
          '      team: team-payments',
          '      since: 2026-09-01',
          '      htmlPath: insights.html',
        ].join('\n'),
      },
    ],
    schema: {
      input: {
        service: z => z.string().optional().describe('Only this service'),
        team: z => z.string().optional().describe("Only this team's services"),
        since: z =>
          z
            .string()
            .optional()
            .describe('Start of the period (RFC 3339 or YYYY-MM-DD; default 90 days ago)'),
        until: z =>
          z.string().optional().describe('End of the period, exclusive (default now)'),
        htmlPath: z =>
          z
            .string()
            .optional()
            .describe("Also write the HTML report to this path, relative to the task's workspace"),
      },
      output: {
        report: z =>
          z.record(z.string(), z.unknown()).describe('The insights report (idp InsightsReport)'),
        htmlPath: z => z.string().optional().describe('Where the HTML report was written'),
      },
    },
    handler: ctx =>
      asBackstageErrors(async () => {
      const query: Record<string, string> = {};
      for (const k of ['service', 'team', 'since', 'until'] as const) {
        const v = ctx.input[k];
        if (v !== undefined) query[k] = v;
      }
      const options: CallOptions = {
        as: principalOf(ctx),
        face: 'backstage',
        signal: ctx.signal,
      };
      const report = await platform.insights(query, options);
      ctx.output('report', report as unknown as Record<string, unknown>);
      if (ctx.input.htmlPath !== undefined) {
        const target = resolveSafeChildPath(ctx.workspacePath, ctx.input.htmlPath);
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        await fs.promises.writeFile(target, await platform.insightsHtml(query, options));
        ctx.output('htmlPath', target);
      }
      const k = report.four_keys;
      ctx.logger.info(
        `idp: ${k.deployments} production deployment(s), ${k.changes} change(s), ` +
          `${k.incidents} incident(s) over ${Math.round(report.period.days)} days`,
      );
      }),
  });
}

function serviceActions(platform: Platform) {
  return Object.entries(ACTIONS).map(([id, { method, description }]) =>
    createTemplateAction({
      id,
      description,
      supportsDryRun: true,
      examples: [
        {
          description: `${id} for payments-api owned by team-payments`,
          example: [
            'steps:',
            `  - id: ${method.replace(/_/g, '-')}`,
            `    action: ${id}`,
            '    input:',
            '      service: payments-api',
            '      owner: team-payments',
            '      parameters: { port: 8080 }',
          ].join('\n'),
        },
      ],
      schema: {
        input: {
          service: z =>
            z.string().describe('Service name (a DNS-1123 label matching the org naming rule)'),
          owner: z =>
            z.string().describe('Owning team, e.g. team-payments or group:default/team-payments'),
          parameters: z =>
            z
              .record(z.string(), z.unknown())
              .optional()
              .describe("Golden-path parameters, checked against the golden path's JSON Schema"),
          intents: z =>
            z
              .array(z.record(z.string(), z.unknown()))
              .optional()
              .describe('Infrastructure intents: { type, class?, id?, params, environment_params? }'),
          environments: z =>
            z
              .record(z.string(), z.object({ parameters: z.record(z.string(), z.unknown()) }))
              .optional()
              .describe(
                'Parameters for single environments, over `parameters` there: { prod: { parameters: { memory_limit: "1024Mi" } } }',
              ),
          goldenPath: z =>
            z.string().optional().describe("Golden path id (default: the platform's default)"),
          version: z =>
            z
              .string()
              .optional()
              .describe("Golden path version (default: the service's current, or the latest)"),
          changeWindow: z =>
            z
              .string()
              .optional()
              .describe('A change window of idp.yaml that pre-approves changes to protected environments'),
        },
        output: {
          repoUrl: z => z.string().optional().describe('The service repository'),
          links: z =>
            z.record(z.string(), z.string()).describe('Repository and change-request URLs by name'),
          runId: z => z.string().optional().describe('The idp run id (absent on a dry run)'),
          receipt: z =>
            z
              .record(z.string(), z.unknown())
              .optional()
              .describe('What the operation did (idp receipt)'),
          plan: z =>
            z
              .record(z.string(), z.unknown())
              .optional()
              .describe('Dry run: the change sets and policy decisions'),
        },
      },
      handler: ctx =>
        asBackstageErrors(async () => {
        const as = principalOf(ctx);
        const request = serviceRequest(ctx.input);
        // Every step is logged as it happens, and a cancelled task (ctx.signal) stops the run at
        // its next safe point; it is then recorded as cancelled and a retry resumes it.
        const options: CallOptions = {
          as,
          // Counted as Backstage runs in idp's adoption insights.
          face: 'backstage',
          signal: ctx.signal,
          onProgress: e => ctx.logger.info(`idp: ${e.message}`),
        };
        if (ctx.isDryRun) {
          ctx.logger.info(
            `idp: planning ${method} for ${request.service} (dry run, nothing written)`,
          );
          const plan = await platform.plan({ operation: method, request }, options);
          ctx.output('plan', plan as unknown as Record<string, unknown>);
          ctx.output('links', {});
          return;
        }
        ctx.logger.info(
          `idp: ${method} for ${request.service} as ${typeof as === 'string' ? as : as.user}`,
        );
        const receipt = await platform.call(method, request, options);
        for (const step of receipt.steps) {
          const cr = step.change_request;
          ctx.logger.info(
            `idp: ${step.step}: ${cr ? `${cr.id} ${cr.state} ${cr.url}` : 'no change'}`,
          );
        }
        for (const w of receipt.warnings) ctx.logger.warn(`idp: ${w}`);
        ctx.output('runId', receipt.run_id);
        ctx.output('links', receipt.links as Record<string, string>);
        if (receipt.links.service_repo) ctx.output('repoUrl', receipt.links.service_repo);
        ctx.output('receipt', receipt as unknown as Record<string, unknown>);
        }),
    }),
  );
}
