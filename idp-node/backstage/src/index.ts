/**
 * \@idp/plugin-scaffolder-backend-module-idp: idp's scaffolder actions for a Backstage backend.
 *
 *   backend.add(import('\@idp/plugin-scaffolder-backend-module-idp'));
 *
 * @packageDocumentation
 */
import { scaffolderModuleIdp } from './module';

export { scaffolderModuleIdp } from './module';
export { ACTIONS, createIdpActions } from './actions';
export type { ServiceMethod } from './actions';
export default scaffolderModuleIdp;
