// A Backstage backend (the new backend system) with the scaffolder, the catalog and sign-in,
// and idp's scaffolder actions added in one line. `npm start` runs it with app-config.yaml;
// test/e2e.test.mjs starts it on a loopback port and drives it over HTTP.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-auth-backend'));
// Sign-in behind an authenticating proxy (oauth2-proxy): the proxy's X-Forwarded-User names
// the catalog user (trusted as is: see app-config.yaml). The test signs in as alice and as
// mallory this way.
backend.add(import('@backstage/plugin-auth-backend-module-oauth2-proxy-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
// The Template kind in the catalog.
backend.add(import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(import('@backstage/plugin-scaffolder-backend'));

// idp: the golden path, bootstrap, CI, GitOps, observability and infrastructure actions.
backend.add(import('@idp/plugin-scaffolder-backend-module-idp'));

backend.start();
