import type { BackendFeature } from '@backstage/backend-plugin-api'
import type { TemplateAction } from '@backstage/plugin-scaffolder-node'
import type { Platform } from '@idp/node'

/** The backend module registering the idp scaffolder actions (`backend.add(import(...))`). */
declare const scaffolderModuleIdp: BackendFeature
export default scaffolderModuleIdp
export { scaffolderModuleIdp }

/** Action id (`idp:golden-path`, ...) -> idp core method and description. */
export declare const ACTIONS: Record<string, { method: string; description: string }>

/** The idp actions (one per service operation, and idp:insights) over one idp Platform, for backends that register actions themselves. */
export declare function createIdpActions(options: { platform: Platform }): TemplateAction<any, any, any>[]
